// RUN: kiln-opt %s -kiln-prepare-for-spirv | FileCheck %s
// RUN: kiln-opt %s -kiln-prepare-for-spirv=subgroup-size=32 | FileCheck %s --check-prefix=SG32

// Workgroup buffers become SLM variables, a descriptor's pointer travels as i64, erf calls
// OpenCL's builtin, bf16 widens with integer shifts (the pipeline's canonicalisation then folds the bitcasts), and the kernel fixes its sub-group size.
// CHECK-DAG: llvm.func spir_funccc @_Z3erff(f32) -> f32
// CHECK-DAG: memref.global "private" @__kiln_slm_k_0 : memref<16xf32, 3> {alignment = 16 : i64}
// CHECK-LABEL: gpu.func @k
// CHECK-SAME: (%[[D:.*]]: !llvm.struct<(i64, array<1 x i64>, array<1 x i64>)>, %[[X:.*]]: f32) kernel
// CHECK-SAME: intel_reqd_sub_group_size = 16 : i32
// CHECK-DAG: %[[SLM:.*]] = memref.get_global @__kiln_slm_k_0 : memref<16xf32, 3>
// CHECK-DAG: %[[I:.*]] = llvm.extractvalue %[[D]][0] : !llvm.struct<(i64, array<1 x i64>, array<1 x i64>)>
// CHECK: %[[BASE:.*]] = llvm.inttoptr %[[I]] : i64 to !llvm.ptr<1>
// CHECK: %[[E:.*]] = llvm.call spir_funccc @_Z3erff(%[[X]]) : (f32) -> f32
// CHECK: memref.store %[[E]], %[[SLM]]
// CHECK: %[[RAW:.*]] = llvm.load %[[BASE]] : !llvm.ptr<1> -> i16
// CHECK-NOT: arith.extf
// CHECK: arith.shli
// CHECK-NOT: arith.extf
// CHECK: gpu.return

// SG32: intel_reqd_sub_group_size = 32 : i32
module attributes {gpu.container_module} {
  gpu.module @kiln_kernels {
    gpu.func @k(%d: !llvm.struct<(ptr<1>, array<1 x i64>, array<1 x i64>)>, %x: f32)
        workgroup(%wg : memref<16xf32, #gpu.address_space<workgroup>>) kernel {
      %base = llvm.extractvalue %d[0] : !llvm.struct<(ptr<1>, array<1 x i64>, array<1 x i64>)>
      %e = math.erf %x : f32
      %c0 = arith.constant 0 : index
      memref.store %e, %wg[%c0] : memref<16xf32, #gpu.address_space<workgroup>>
      %raw = llvm.load %base : !llvm.ptr<1> -> i16
      %h = arith.bitcast %raw : i16 to bf16
      %f = arith.extf %h : bf16 to f32
      llvm.store %f, %base : f32, !llvm.ptr<1>
      gpu.return
    }
  }
}
