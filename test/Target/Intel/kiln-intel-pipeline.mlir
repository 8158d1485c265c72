// RUN: kiln-opt %s -kiln-intel-pipeline=chip=pvc | FileCheck %s

// A row maximum: sub-group shuffles, then sub-groups meet in SLM; the float atomic stays
// an atomicrmw on a global pointer.
// CHECK: gpu.module @kiln_kernels [#xevm.target<O = 3, chip = "pvc">]
// CHECK: llvm.mlir.global internal @__kiln_smem_rowmax() {addr_space = 3 : i32, alignment = 1024 : i64} : !llvm.array<32 x i8>
// CHECK-LABEL: llvm.func spir_kernelcc @rowmax
// CHECK-SAME: (%{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>)
// CHECK-SAME: intel_reqd_sub_group_size = 16 : i32
// CHECK: llvm.call spir_funccc @_Z12get_local_idj
// CHECK-COUNT-4: llvm.call spir_funccc @_Z21sub_group_shuffle_xorfj
// CHECK: llvm.store %{{.*}} : f32, !llvm.ptr<3>
// CHECK: llvm.call spir_funccc @_Z7barrierj
// CHECK: llvm.atomicrmw fadd %{{.*}}, %{{.*}} seq_cst : !llvm.ptr<1>, f32
kiln.func @rowmax(%x: !kiln.ptr<f32>, %out: !kiln.ptr<f32>) {
  %iota = kiln.iota : tensor<512xi32>
  %p = kiln.addptr %x, %iota : !kiln.ptr<f32>, tensor<512xi32> -> tensor<512x!kiln.ptr<f32>>
  %v = kiln.gather %p : tensor<512x!kiln.ptr<f32>> -> tensor<512xf32>
  %m = kiln.reduce max %v {axis = 0 : i32} : tensor<512xf32> -> f32
  %old = kiln.atomic_add %out, %m : !kiln.ptr<f32>, f32 -> f32
  kiln.return
}
