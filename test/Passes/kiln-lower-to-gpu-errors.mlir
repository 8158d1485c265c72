// RUN: kiln-opt %s -split-input-file -kiln-lower-to-gpu -verify-diagnostics

kiln.func @small(%x: f32) {
  // Every thread holds the same number of elements.
  // expected-error @+1 {{tile of 96 elements does not divide over 128 threads, nor they over it; use a power of two}}
  %t = kiln.splat %x : tensor<96xf32>
  kiln.return
}

// -----

// Tile exchanges go through static shared memory, which has a hard limit.
// expected-error @+1 {{shared memory: kernel 'big' needs 65536 bytes (64 KiB) for its tiles and exchanges; the limit is 49152 bytes (48 KiB)}}
kiln.func @big(%x: f32) {
  %a = kiln.splat %x : tensor<128x128xf32>
  %t = kiln.transpose %a {order = array<i32: 1, 0>} : tensor<128x128xf32> -> tensor<128x128xf32>
  kiln.return
}

// -----

// expected-error @+1 {{constexpr parameter 'B' must be bound (kiln-specialize) before lowering}}
kiln.func @unbound(%B: i32 {kiln.constexpr}) {
  kiln.return
}
