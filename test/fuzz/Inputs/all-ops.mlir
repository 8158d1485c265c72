// Fuzzing corpus: one kernel using every kiln op (from the round-trip test).
kiln.func @grid_and_tiles(%x: f32) {
  %pid = kiln.program_id 0 : i32
  %np = kiln.num_programs 2 : i32
  %r = kiln.iota : tensor<128xi32>
  %s = kiln.splat %x : tensor<4x8xf32>
  %e = kiln.expand_dims %r {axis = 0 : i32} : tensor<128xi32> -> tensor<1x128xi32>
  %b = kiln.broadcast %e : tensor<1x128xi32> -> tensor<4x128xi32>
  %f = kiln.reshape %b : tensor<4x128xi32> -> tensor<512xi32>
  %t = kiln.transpose %s {order = array<i32: 1, 0>} : tensor<4x8xf32> -> tensor<8x4xf32>
  %c1 = kiln.cast %t : tensor<8x4xf32> to tensor<8x4xbf16>
  %c2 = kiln.cast unsigned %f : tensor<512xi32> to tensor<512xi4>
  %c3 = kiln.cast %c1 : tensor<8x4xbf16> to tensor<8x4xf8E5M2>
  kiln.return
}

kiln.func @memory(%p: !kiln.ptr<f32>, %m: i64, %i: i32, %j: i64) {
  %one = arith.constant 1 : i64
  %d = kiln.make_desc %p, [%m, %m], [%m, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %t = kiln.load %d[%i, %j] {padding = 0xFF800000 : f32} : !kiln.desc<f32, 2>[i32, i64] -> tensor<16x32xf32>
  kiln.store %d[%i, %i], %t : !kiln.desc<f32, 2>[i32, i32], tensor<16x32xf32>
  %offs = kiln.iota : tensor<16xi32>
  %ptrs = kiln.addptr %p, %offs : !kiln.ptr<f32>, tensor<16xi32> -> tensor<16x!kiln.ptr<f32>>
  %p2 = kiln.addptr %p, %i : !kiln.ptr<f32>, i32 -> !kiln.ptr<f32>
  %n = kiln.splat %i : tensor<16xi32>
  %mask = arith.cmpi slt, %offs, %n : tensor<16xi32>
  %g0 = kiln.gather %ptrs : tensor<16x!kiln.ptr<f32>> -> tensor<16xf32>
  %g1 = kiln.gather %ptrs mask %mask other %g0 : tensor<16x!kiln.ptr<f32>> -> tensor<16xf32>, tensor<16xi1>
  kiln.scatter %ptrs, %g1 mask %mask : tensor<16x!kiln.ptr<f32>>, tensor<16xf32>, tensor<16xi1>
  kiln.scatter %ptrs, %g1 : tensor<16x!kiln.ptr<f32>>, tensor<16xf32>
  %old = kiln.atomic_add %ptrs, %g1 mask %mask : tensor<16x!kiln.ptr<f32>>, tensor<16xf32>, tensor<16xi1> -> tensor<16xf32>
  %x = arith.constant 1.0 : f32
  %old1 = kiln.atomic_add %p, %x : !kiln.ptr<f32>, f32 -> f32
  kiln.return
}

kiln.func @compute(%a: !kiln.ptr<bf16>) {
  %za = arith.constant 0.0 : bf16
  %zc = arith.constant 0.0 : f32
  %ta = kiln.splat %za : tensor<16x32xbf16>
  %tb = kiln.splat %za : tensor<32x8xbf16>
  %acc = kiln.splat %zc : tensor<16x8xf32>
  %c = kiln.dot %ta, %tb, %acc : tensor<16x32xbf16>, tensor<32x8xbf16> -> tensor<16x8xf32>
  %i8 = arith.constant 1 : i8
  %i32 = arith.constant 0 : i32
  %qa = kiln.splat %i8 : tensor<2x16x32xi8>
  %qb = kiln.splat %i8 : tensor<2x32x8xi8>
  %qc = kiln.splat %i32 : tensor<2x16x8xi32>
  %q = kiln.dot %qa, %qb, %qc : tensor<2x16x32xi8>, tensor<2x32x8xi8> -> tensor<2x16x8xi32>
  %m = kiln.reduce max %c {axis = 1 : i32} : tensor<16x8xf32> -> tensor<16xf32>
  %s = kiln.reduce sum %m {axis = 0 : i32} : tensor<16xf32> -> f32
  %mn = kiln.reduce min %m {axis = 0 : i32} : tensor<16xf32> -> f32
  %pr = kiln.reduce prod %m {axis = 0 : i32} : tensor<16xf32> -> f32
  %bits = kiln.iota : tensor<16xi32>
  %or = kiln.reduce %bits {axis = 0 : i32} : tensor<16xi32> -> i32 combiner {
  ^bb0(%l: i32, %r: i32):
    %o = arith.ori %l, %r : i32
    kiln.yield %o : i32
  }
  %cs = kiln.scan sum %bits {axis = 0 : i32} : tensor<16xi32> -> tensor<16xi32>
  %cr = kiln.scan max %bits {axis = 0 : i32, reverse} : tensor<16xi32> -> tensor<16xi32>
  %cc = kiln.scan %c {axis = 1 : i32} : tensor<16x8xf32> -> tensor<16x8xf32> combiner {
  ^bb0(%l: f32, %r: f32):
    %o = arith.addf %l, %r : f32
    kiln.yield %o : f32
  }
  kiln.return
}
