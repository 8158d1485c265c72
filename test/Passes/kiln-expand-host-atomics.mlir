// RUN: kiln-opt %s -split-input-file -kiln-expand-host-atomics -verify-diagnostics | FileCheck %s

// CHECK-NOT: func.func private @__kiln_atomic
// CHECK-LABEL: func.func @use
// CHECK-SAME: (%[[P:.*]]: !llvm.ptr, %[[V:.*]]: f32, %[[B:.*]]: i8)
// CHECK-NEXT: %[[OLD:.*]] = llvm.atomicrmw fadd %[[P]], %[[V]] seq_cst : !llvm.ptr, f32
// CHECK-NEXT: llvm.atomicrmw _or %[[P]], %[[B]] monotonic : !llvm.ptr, i8
// CHECK-NEXT: return %[[OLD]] : f32
func.func private @__kiln_atomic_fadd_f32(!llvm.ptr, f32) -> f32
func.func private @__kiln_atomic__or_i8(!llvm.ptr, i8) -> i8
func.func @use(%p: !llvm.ptr, %v: f32, %b: i8) -> f32 {
  %old = func.call @__kiln_atomic_fadd_f32(%p, %v) : (!llvm.ptr, f32) -> f32
  %o = func.call @__kiln_atomic__or_i8(%p, %b) : (!llvm.ptr, i8) -> i8
  return %old : f32
}

// -----

func.func private @__kiln_atomic_swap2_f32(!llvm.ptr, f32) -> f32
func.func @bad(%p: !llvm.ptr, %v: f32) -> f32 {
  // expected-error @+1 {{is not a well-formed Kiln atomic helper call}}
  %old = func.call @__kiln_atomic_swap2_f32(%p, %v) : (!llvm.ptr, f32) -> f32
  return %old : f32
}
