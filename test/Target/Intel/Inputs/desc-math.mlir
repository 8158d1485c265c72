// A descriptor argument (a struct holding a pointer), float atomics and math without an
// LLVM intrinsic: each needs care on the way to SPIR-V.
kiln.func @scaled_erf(%x: !kiln.desc<f32, 1>, %total: !kiln.ptr<f32>) {
  %c0 = arith.constant 0 : i32
  %t = kiln.load %x[%c0] : !kiln.desc<f32, 1>[i32] -> tensor<256xf32>
  %e = math.erf %t : tensor<256xf32>
  %s = kiln.reduce sum %e {axis = 0 : i32} : tensor<256xf32> -> f32
  %old = kiln.atomic_add %total, %s : !kiln.ptr<f32>, f32 -> f32
  kiln.store %x[%c0], %e : !kiln.desc<f32, 1>[i32], tensor<256xf32>
  kiln.return
}
