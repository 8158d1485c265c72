// RUN: kiln-opt %s -canonicalize | FileCheck %s
// Folders of the kiln ops.

// CHECK-LABEL: kiln.func @folds
kiln.func @folds(%x: f32, %p: !kiln.ptr<f32>) {
  %c = arith.constant 2.0 : f32
  // A splat of a constant is a dense constant; broadcast and reshape of it fold too.
  // CHECK-DAG: %[[S:.*]] = arith.constant dense<2.000000e+00> : tensor<4x8xf32>
  %s = kiln.splat %c : tensor<1x8xf32>
  %b = kiln.broadcast %s : tensor<1x8xf32> -> tensor<4x8xf32>
  // Reshape of a reshape goes straight from the source; casts to the same type vanish.
  // CHECK-DAG: %[[T:.*]] = kiln.splat %x : tensor<4x8xf32>
  %t = kiln.splat %x : tensor<4x8xf32>
  %r1 = kiln.reshape %t : tensor<4x8xf32> -> tensor<32xf32>
  %r2 = kiln.reshape %r1 : tensor<32xf32> -> tensor<8x4xf32>
  // CHECK: kiln.reshape %[[T]] : tensor<4x8xf32> -> tensor<8x4xf32>
  %same = kiln.cast %r2 : tensor<8x4xf32> to tensor<8x4xf32>
  %sum = kiln.reduce sum %same {axis = 0 : i32} : tensor<8x4xf32> -> tensor<4xf32>
  %bsum = kiln.reduce sum %b {axis = 0 : i32} : tensor<4x8xf32> -> tensor<8xf32>
  %i = kiln.iota : tensor<4xi32>
  %pp = kiln.addptr %p, %i : !kiln.ptr<f32>, tensor<4xi32> -> tensor<4x!kiln.ptr<f32>>
  kiln.scatter %pp, %sum : tensor<4x!kiln.ptr<f32>>, tensor<4xf32>
  %i8 = kiln.iota : tensor<8xi32>
  %pq = kiln.addptr %p, %i8 : !kiln.ptr<f32>, tensor<8xi32> -> tensor<8x!kiln.ptr<f32>>
  kiln.scatter %pq, %bsum : tensor<8x!kiln.ptr<f32>>, tensor<8xf32>
  kiln.return
}
