// RUN: kiln-opt %s -split-input-file -kiln-lower-to-host -verify-diagnostics

kiln.func @encoded(%x: f32) {
  // Layouts distribute tiles over GPU threads; the host keeps a tile in one thread.
  // expected-error @+1 {{tile with layout #kiln.layout<"(4,8):(8,1)">: the host target takes tiles without layouts}}
  %t = kiln.splat %x : tensor<4x8xf32, #kiln.layout<"(4,8):(8,1)">>
  kiln.return
}

// -----

// expected-error @+1 {{constexpr parameter 'B' must be bound (kiln-specialize) before lowering}}
kiln.func @unbound(%B: i32 {kiln.constexpr}) {
  kiln.return
}

// -----

kiln.func @f8_math(%x: f32) {
  %t = kiln.splat %x : tensor<4xf32>
  %q = kiln.cast %t : tensor<4xf32> to tensor<4xf8E5M2>
  // 8-bit floats have no arithmetic on the host (nor on GPUs before sm_89).
  // expected-error @+1 {{'arith.addf' op on 8-bit floats is not supported: kiln.cast to f16, bf16 or f32 first}}
  %s = arith.addf %q, %q : tensor<4xf8E5M2>
  kiln.return
}
