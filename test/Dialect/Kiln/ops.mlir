// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt %s -mlir-print-op-generic | kiln-opt | FileCheck %s
// Round trip of every kiln op and type.

// CHECK-LABEL: kiln.func @types
// CHECK-SAME: (%p: !kiln.ptr<f32>, %q: !kiln.ptr<i4>, %r: !kiln.ptr<f8E4M3FN>, %d: !kiln.desc<bf16, 2>, %n: i32, %s: f32, %BLOCK: i32 {kiln.constexpr})
// CHECK-SAME: attributes {grid = ["cdiv(n, 128)", "BLOCK"]}
kiln.func @types(%p: !kiln.ptr<f32>, %q: !kiln.ptr<i4>, %r: !kiln.ptr<f8E4M3FN>,
                 %d: !kiln.desc<bf16, 2>, %n: i32, %s: f32, %BLOCK: i32 {kiln.constexpr})
    attributes {grid = ["cdiv(n, 128)", "BLOCK"]} {
  // CHECK-NEXT: kiln.return
  kiln.return
}

// CHECK-LABEL: kiln.func @grid_and_tiles
// CHECK-SAME: attributes {num_stages = 4 : i64, num_threads = 256 : i64}
kiln.func @grid_and_tiles(%x: f32) attributes {num_threads = 256, num_stages = 4} {
  // CHECK: kiln.program_id 0 : i32
  %pid = kiln.program_id 0 : i32
  // CHECK: kiln.num_programs 2 : i32
  %np = kiln.num_programs 2 : i32
  // CHECK: kiln.iota : tensor<128xi32>
  %r = kiln.iota : tensor<128xi32>
  // CHECK: kiln.splat %x : tensor<4x8xf32>
  %s = kiln.splat %x : tensor<4x8xf32>
  // CHECK: kiln.expand_dims %{{.*}} {axis = 0 : i32} : tensor<128xi32> -> tensor<1x128xi32>
  %e = kiln.expand_dims %r {axis = 0 : i32} : tensor<128xi32> -> tensor<1x128xi32>
  // CHECK: kiln.broadcast %{{.*}} : tensor<1x128xi32> -> tensor<4x128xi32>
  %b = kiln.broadcast %e : tensor<1x128xi32> -> tensor<4x128xi32>
  // CHECK: kiln.reshape %{{.*}} : tensor<4x128xi32> -> tensor<512xi32>
  %f = kiln.reshape %b : tensor<4x128xi32> -> tensor<512xi32>
  // CHECK: kiln.transpose %{{.*}} {order = array<i32: 1, 0>} : tensor<4x8xf32> -> tensor<8x4xf32>
  %t = kiln.transpose %s {order = array<i32: 1, 0>} : tensor<4x8xf32> -> tensor<8x4xf32>
  // CHECK: kiln.cast %{{.*}} : tensor<8x4xf32> to tensor<8x4xbf16>
  %c1 = kiln.cast %t : tensor<8x4xf32> to tensor<8x4xbf16>
  // CHECK: kiln.cast unsigned %{{.*}} : tensor<512xi32> to tensor<512xi4>
  %c2 = kiln.cast unsigned %f : tensor<512xi32> to tensor<512xi4>
  // CHECK: kiln.cast %{{.*}} : tensor<8x4xbf16> to tensor<8x4xf8E5M2>
  %c3 = kiln.cast %c1 : tensor<8x4xbf16> to tensor<8x4xf8E5M2>
  kiln.return
}

// CHECK-LABEL: kiln.func @memory
kiln.func @memory(%p: !kiln.ptr<f32>, %m: i64, %i: i32, %j: i64) {
  %one = arith.constant 1 : i64
  // CHECK: kiln.make_desc %p, [%m, %m], [%m, %{{.*}}] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %d = kiln.make_desc %p, [%m, %m], [%m, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  // CHECK: kiln.load %{{.*}}[%i, %j] {padding = 0xFF800000 : f32} : !kiln.desc<f32, 2>[i32, i64] -> tensor<16x32xf32>
  %t = kiln.load %d[%i, %j] {padding = 0xFF800000 : f32} : !kiln.desc<f32, 2>[i32, i64] -> tensor<16x32xf32>
  // CHECK: kiln.store %{{.*}}[%i, %i], %{{.*}} : !kiln.desc<f32, 2>[i32, i32], tensor<16x32xf32>
  kiln.store %d[%i, %i], %t : !kiln.desc<f32, 2>[i32, i32], tensor<16x32xf32>
  %offs = kiln.iota : tensor<16xi32>
  // CHECK: kiln.addptr %p, %{{.*}} : !kiln.ptr<f32>, tensor<16xi32> -> tensor<16x!kiln.ptr<f32>>
  %ptrs = kiln.addptr %p, %offs : !kiln.ptr<f32>, tensor<16xi32> -> tensor<16x!kiln.ptr<f32>>
  // CHECK: kiln.addptr %p, %i : !kiln.ptr<f32>, i32 -> !kiln.ptr<f32>
  %p2 = kiln.addptr %p, %i : !kiln.ptr<f32>, i32 -> !kiln.ptr<f32>
  %n = kiln.splat %i : tensor<16xi32>
  %mask = arith.cmpi slt, %offs, %n : tensor<16xi32>
  // CHECK: kiln.gather %{{.*}} : tensor<16x!kiln.ptr<f32>> -> tensor<16xf32>
  %g0 = kiln.gather %ptrs : tensor<16x!kiln.ptr<f32>> -> tensor<16xf32>
  // CHECK: kiln.gather %{{.*}} mask %{{.*}} other %{{.*}} : tensor<16x!kiln.ptr<f32>> -> tensor<16xf32>, tensor<16xi1>
  %g1 = kiln.gather %ptrs mask %mask other %g0 : tensor<16x!kiln.ptr<f32>> -> tensor<16xf32>, tensor<16xi1>
  // CHECK: kiln.scatter %{{.*}}, %{{.*}} mask %{{.*}} : tensor<16x!kiln.ptr<f32>>, tensor<16xf32>, tensor<16xi1>
  kiln.scatter %ptrs, %g1 mask %mask : tensor<16x!kiln.ptr<f32>>, tensor<16xf32>, tensor<16xi1>
  // CHECK: kiln.scatter %{{.*}}, %{{.*}} : tensor<16x!kiln.ptr<f32>>, tensor<16xf32>
  kiln.scatter %ptrs, %g1 : tensor<16x!kiln.ptr<f32>>, tensor<16xf32>
  // CHECK: kiln.atomic_add %{{.*}}, %{{.*}} mask %{{.*}} : tensor<16x!kiln.ptr<f32>>, tensor<16xf32>, tensor<16xi1> -> tensor<16xf32>
  %old = kiln.atomic_add %ptrs, %g1 mask %mask : tensor<16x!kiln.ptr<f32>>, tensor<16xf32>, tensor<16xi1> -> tensor<16xf32>
  %x = arith.constant 1.0 : f32
  // CHECK: kiln.atomic_add %p, %{{.*}} : !kiln.ptr<f32>, f32 -> f32
  %old1 = kiln.atomic_add %p, %x : !kiln.ptr<f32>, f32 -> f32
  kiln.return
}

// CHECK-LABEL: kiln.func @compute
kiln.func @compute(%a: !kiln.ptr<bf16>) {
  %za = arith.constant 0.0 : bf16
  %zc = arith.constant 0.0 : f32
  %ta = kiln.splat %za : tensor<16x32xbf16>
  %tb = kiln.splat %za : tensor<32x8xbf16>
  %acc = kiln.splat %zc : tensor<16x8xf32>
  // CHECK: kiln.dot %{{.*}}, %{{.*}}, %{{.*}} : tensor<16x32xbf16>, tensor<32x8xbf16> -> tensor<16x8xf32>
  %c = kiln.dot %ta, %tb, %acc : tensor<16x32xbf16>, tensor<32x8xbf16> -> tensor<16x8xf32>
  %i8 = arith.constant 1 : i8
  %i32 = arith.constant 0 : i32
  %qa = kiln.splat %i8 : tensor<2x16x32xi8>
  %qb = kiln.splat %i8 : tensor<2x32x8xi8>
  %qc = kiln.splat %i32 : tensor<2x16x8xi32>
  // CHECK: kiln.dot %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x16x32xi8>, tensor<2x32x8xi8> -> tensor<2x16x8xi32>
  %q = kiln.dot %qa, %qb, %qc : tensor<2x16x32xi8>, tensor<2x32x8xi8> -> tensor<2x16x8xi32>
  // CHECK: kiln.reduce max %{{.*}} {axis = 1 : i32} : tensor<16x8xf32> -> tensor<16xf32>
  %m = kiln.reduce max %c {axis = 1 : i32} : tensor<16x8xf32> -> tensor<16xf32>
  // CHECK: kiln.reduce sum %{{.*}} {axis = 0 : i32} : tensor<16xf32> -> f32
  %s = kiln.reduce sum %m {axis = 0 : i32} : tensor<16xf32> -> f32
  // CHECK: kiln.reduce min
  %mn = kiln.reduce min %m {axis = 0 : i32} : tensor<16xf32> -> f32
  // CHECK: kiln.reduce prod
  %pr = kiln.reduce prod %m {axis = 0 : i32} : tensor<16xf32> -> f32
  %bits = kiln.iota : tensor<16xi32>
  // CHECK: kiln.reduce %{{.*}} {axis = 0 : i32} : tensor<16xi32> -> i32 combiner {
  // CHECK-NEXT: ^bb0(%[[L:.*]]: i32, %[[R:.*]]: i32):
  // CHECK-NEXT: %[[O:.*]] = arith.ori %[[L]], %[[R]] : i32
  // CHECK-NEXT: kiln.yield %[[O]] : i32
  %or = kiln.reduce %bits {axis = 0 : i32} : tensor<16xi32> -> i32 combiner {
  ^bb0(%l: i32, %r: i32):
    %o = arith.ori %l, %r : i32
    kiln.yield %o : i32
  }
  // CHECK: kiln.scan sum %{{.*}} {axis = 0 : i32} : tensor<16xi32> -> tensor<16xi32>
  %cs = kiln.scan sum %bits {axis = 0 : i32} : tensor<16xi32> -> tensor<16xi32>
  // CHECK: kiln.scan max %{{.*}} {axis = 0 : i32, reverse} : tensor<16xi32> -> tensor<16xi32>
  %cr = kiln.scan max %bits {axis = 0 : i32, reverse} : tensor<16xi32> -> tensor<16xi32>
  // CHECK: kiln.scan %{{.*}} {axis = 1 : i32} : tensor<16x8xf32> -> tensor<16x8xf32> combiner {
  %cc = kiln.scan %c {axis = 1 : i32} : tensor<16x8xf32> -> tensor<16x8xf32> combiner {
  ^bb0(%l: f32, %r: f32):
    %o = arith.addf %l, %r : f32
    kiln.yield %o : f32
  }
  kiln.return
}
