// RUN: kiln-opt %s -split-input-file -kiln-lower-to-gpu -verify-diagnostics

kiln.func @small(%x: f32) {
  // Every thread holds the same number of elements.
  // expected-error @+1 {{tile of 64 elements does not divide over 128 threads; use a multiple of 128 elements}}
  %t = kiln.splat %x : tensor<64xf32>
  kiln.return
}

// -----

kiln.func @dot(%x: f32) {
  %a = kiln.splat %x : tensor<16x16xf32>
  // expected-error @+1 {{'kiln.dot' op is not supported by the GPU lowering yet}}
  %c = kiln.dot %a, %a, %a : tensor<16x16xf32>, tensor<16x16xf32> -> tensor<16x16xf32>
  kiln.return
}

// -----

kiln.func @reduce2d(%x: f32) {
  %a = kiln.splat %x : tensor<128x128xf32>
  // expected-error @+1 {{reductions of rank-2 tiles are not supported by the GPU lowering yet}}
  %r = kiln.reduce sum %a {axis = 1 : i32} : tensor<128x128xf32> -> tensor<128xf32>
  kiln.return
}

// -----

// expected-error @+1 {{constexpr parameter 'B' must be bound (kiln-specialize) before lowering}}
kiln.func @unbound(%B: i32 {kiln.constexpr}) {
  kiln.return
}
