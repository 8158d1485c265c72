// RUN: kiln-opt %s -split-input-file -kiln-specialize="constants=BLOCK=128,scale=0.5" | FileCheck %s

// CHECK-LABEL: kiln.func @k
// CHECK-SAME: (%x: !kiln.ptr<f32>, %n: i32)
// CHECK-SAME: grid = ["cdiv(n, (128))"]
// CHECK-DAG: arith.constant 128 : i32
// CHECK-DAG: arith.constant 5.000000e-01 : f32
kiln.func @k(%x: !kiln.ptr<f32>, %n: i32, %BLOCK: i32 {kiln.constexpr},
             %scale: f32 {kiln.constexpr}) attributes {grid = ["cdiv(n, BLOCK)"]} {
  %s = kiln.splat %scale : tensor<4xf32>
  %b = kiln.splat %BLOCK : tensor<4xi32>
  kiln.return
}
