// RUN: kiln-opt %s -kiln-amd-pipeline=chip=gfx942 | FileCheck %s
// RUN: kiln-opt %s -kiln-amd-pipeline="chip=gfx1100 threads=64" | FileCheck %s --check-prefix=WAVE32
// RUN: not kiln-opt %s -kiln-amd-pipeline=chip=gfx9000 2>&1 | FileCheck %s --check-prefix=CHIP

// A row maximum: shuffles across the wave, then across waves through LDS.
// CHECK: gpu.module @kiln_kernels [#rocdl.target<O = 3, chip = "gfx942", abi = "500">]
// CHECK: llvm.mlir.global internal @__kiln_smem_rowmax() {addr_space = 3 : i32, alignment = 1024 : i64} : !llvm.array<8 x i8>
// CHECK-LABEL: llvm.func @rowmax
// CHECK-SAME: %{{.*}}: !llvm.ptr<1>
// CHECK-SAME: rocdl.flat_work_group_size = "128,128", rocdl.kernel
// CHECK: rocdl.workitem.id.x
// CHECK: rocdl.ds_swizzle
// CHECK: rocdl.barrier
// CHECK: llvm.atomicrmw fadd %{{.*}}, %{{.*}} seq_cst : !llvm.ptr<1>, f32

// WAVE32: #rocdl.target<O = 3, chip = "gfx1100", abi = "500", flags = {no_wave64}>
// WAVE32: llvm.mlir.global internal @__kiln_smem_rowmax() {addr_space = 3 : i32, alignment = 1024 : i64} : !llvm.array<8 x i8>
// WAVE32: rocdl.flat_work_group_size = "64,64"

// CHIP: kiln-amd-pipeline: unsupported AMD chip 'gfx9000'
kiln.func @rowmax(%x: !kiln.ptr<f32>, %out: !kiln.ptr<f32>) {
  %iota = kiln.iota : tensor<512xi32>
  %p = kiln.addptr %x, %iota : !kiln.ptr<f32>, tensor<512xi32> -> tensor<512x!kiln.ptr<f32>>
  %v = kiln.gather %p : tensor<512x!kiln.ptr<f32>> -> tensor<512xf32>
  %m = kiln.reduce max %v {axis = 0 : i32} : tensor<512xf32> -> f32
  %old = kiln.atomic_add %out, %m : !kiln.ptr<f32>, f32 -> f32
  kiln.return
}
