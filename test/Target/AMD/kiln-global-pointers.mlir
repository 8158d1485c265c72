// RUN: kiln-opt %s -split-input-file -kiln-global-pointers -verify-diagnostics | FileCheck %s

// Shared by the AMD and Intel pipelines: kernel pointers, the pointer in a descriptor and
// everything computed from them point into global memory.
// CHECK-LABEL: gpu.func @k
// CHECK-SAME: (%[[P:.*]]: !llvm.ptr<1>, %[[D:.*]]: !llvm.struct<(ptr<1>, array<1 x i64>, array<1 x i64>)>)
// CHECK: %[[BASE:.*]] = llvm.extractvalue %[[D]][0] : !llvm.struct<(ptr<1>, array<1 x i64>, array<1 x i64>)>
// CHECK: %[[Q:.*]] = llvm.getelementptr %[[P]][%{{.*}}] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, f32
// CHECK: %[[V:.*]] = llvm.load %[[BASE]] : !llvm.ptr<1> -> f32
// CHECK: llvm.store %[[V]], %[[Q]] : f32, !llvm.ptr<1>
module attributes {gpu.container_module} {
  gpu.module @kiln_kernels {
    gpu.func @k(%p: !llvm.ptr, %d: !llvm.struct<(ptr, array<1 x i64>, array<1 x i64>)>) kernel {
      %base = llvm.extractvalue %d[0] : !llvm.struct<(ptr, array<1 x i64>, array<1 x i64>)>
      %c1 = arith.constant 1 : i64
      %q = llvm.getelementptr %p[%c1] : (!llvm.ptr, i64) -> !llvm.ptr, f32
      %v = llvm.load %base : !llvm.ptr -> f32
      llvm.store %v, %q : f32, !llvm.ptr
      gpu.return
    }
  }
}

// -----

// A private array would wrongly become global: refused until the rewrite tracks sources.
module attributes {gpu.container_module} {
  gpu.module @kiln_kernels {
    gpu.func @scratch() kernel {
      %c1 = arith.constant 1 : i64
      // expected-error @+1 {{private arrays (llvm.alloca) are not supported on the AMD and Intel targets yet}}
      %a = llvm.alloca %c1 x f32 : (i64) -> !llvm.ptr
      gpu.return
    }
  }
}
