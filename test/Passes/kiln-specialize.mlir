// RUN: kiln-opt %s -split-input-file -kiln-specialize="constants=BLOCK=128,scale=0.5" | FileCheck %s
// RUN: not kiln-opt %s -split-input-file -kiln-specialize 2>&1 | FileCheck %s --check-prefix=MISSING

// CHECK-LABEL: kiln.func @k
// CHECK-SAME: (%x: !kiln.ptr<f32>, %n: i32)
// CHECK-SAME: grid = ["cdiv(n, (128))"]
// CHECK-DAG: arith.constant 128 : i32
// CHECK-DAG: arith.constant 5.000000e-01 : f32
// MISSING: error: constexpr parameter 'BLOCK' of kernel 'k' has no value; bind it with kilnc -D BLOCK=VALUE
kiln.func @k(%x: !kiln.ptr<f32>, %n: i32, %BLOCK: i32 {kiln.constexpr},
             %scale: f32 {kiln.constexpr}) attributes {grid = ["cdiv(n, BLOCK)"]} {
  %s = kiln.splat %scale : tensor<4xf32>
  %b = kiln.splat %BLOCK : tensor<4xi32>
  kiln.return
}
