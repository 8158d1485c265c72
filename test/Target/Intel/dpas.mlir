// RUN: kiln-opt %s -kiln-lower-to-gpu="mma=intel-dpas warp-size=16 threads=128" | FileCheck %s
// RUN: kiln-opt %s -kiln-intel-pipeline=chip=pvc | FileCheck %s --check-prefix=LLVM
// RUN: kilnc %s --target=bmg --emit=asm | FileCheck %s --check-prefix=SPIRV
// RUN: rm -rf %t && kilnc %s --target=pvc -o %t && spirv-val %t/dpas.spv
// REQUIRES: spirv-val

// A 32x32 bf16 tile product on DPAS: 8 sub-groups of 16 lanes in a 4x2 grid, each one
// 8x16 atom. Both operands are dot-only loads, read by 2D block reads straight into
// DPAS's fragments (A: 8 rows of 16; B: 16x16 with the VNNI transform, pairs along K in
// 32-bit lanes), or lane by lane where the block-read rules fail at run time.
// CHECK-LABEL: gpu.func @gemm
// CHECK-NOT: llvm.store {{.*}} !llvm.ptr<3>
// CHECK: scf.for
// The run-time rules: 64-byte aligned base, pitch a multiple of 16 bytes.
// CHECK: llvm.ptrtoint
// CHECK: arith.constant 64 : i64
// CHECK: arith.constant 16 : i64
// CHECK: %[[A:.*]] = scf.if %{{.*}} -> (vector<8xi16>) {
// CHECK: xevm.blockload2d {{.*}} <{elem_size_in_bits = 16 : i32, pack_register = false, tile_height = 8 : i32, tile_width = 16 : i32, transpose = false, v_blocks = 1 : i32}> : (!llvm.ptr, i32, i32, i32, i32, i32) -> vector<8xi16>
// CHECK: } else {
// CHECK-COUNT-8: llvm.insertelement
// CHECK: %[[B:.*]] = scf.if %{{.*}} -> (vector<8xi32>) {
// CHECK: xevm.blockload2d {{.*}} <{elem_size_in_bits = 16 : i32, pack_register = true, tile_height = 16 : i32, tile_width = 16 : i32, transpose = false, v_blocks = 1 : i32}> : (!llvm.ptr, i32, i32, i32, i32, i32) -> vector<8xi32>
// CHECK: } else {
// CHECK-COUNT-16: llvm.insertelement
// CHECK: llvm.bitcast %{{.*}} : vector<16xi16> to vector<8xi32>
// CHECK: xevm.mma %[[A]], %[[B]], %{{.*}} {shape = <m = 8, n = 16, k = 16>, types = <d = f32, a = bf16, b = bf16, c = f32>} : (vector<8xi16>, vector<8xi32>, vector<8xf32>) -> vector<8xf32>
// Two K steps of 16 per 32-wide slice.
// CHECK: xevm.mma
// CHECK-NOT: xevm.mma
// CHECK: gpu.return

// The LLVM dialect calls the OpenCL built-ins of cl_intel_subgroup_2d_block_io and
// cl_intel_subgroup_matrix_multiply_accumulate, which the driver provides.
// LLVM-LABEL: llvm.func spir_kernelcc @gemm
// LLVM: llvm.call spir_funccc @_Z41intel_sub_group_2d_block_read_16b_8r16x1cPU3AS1viiiDv2_iPt
// LLVM: llvm.call spir_funccc @_Z52intel_sub_group_2d_block_read_transform_16b_16r16x1cPU3AS1viiiDv2_iPj
// LLVM: llvm.call spir_funccc @_Z40intel_sub_group_bf16_bf16_matrix_mad_k16Dv8_sDv8_iDv8_f
kiln.func @gemm(%a: !kiln.ptr<bf16>, %b: !kiln.ptr<bf16>, %c: !kiln.ptr<f32>, %M: i64, %N: i64,
                %K: i32) {
  %c0 = arith.constant 0 : i32
  %c32 = arith.constant 32 : i32
  %one = arith.constant 1 : i64
  %k = arith.extsi %K : i32 to i64
  %da = kiln.make_desc %a, [%M, %k], [%k, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %db = kiln.make_desc %b, [%k, %N], [%N, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dc = kiln.make_desc %c, [%M, %N], [%N, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %zero = arith.constant 0.0 : f32
  %acc0 = kiln.splat %zero : tensor<32x32xf32>
  %acc = scf.for %kk = %c0 to %K step %c32 iter_args(%acc_i = %acc0) -> (tensor<32x32xf32>) : i32 {
    %ta = kiln.load %da[%c0, %kk] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<32x32xbf16>
    %tb = kiln.load %db[%kk, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<32x32xbf16>
    %next = kiln.dot %ta, %tb, %acc_i : tensor<32x32xbf16>, tensor<32x32xbf16> -> tensor<32x32xf32>
    scf.yield %next : tensor<32x32xf32>
  }
  kiln.store %dc[%c0, %c0], %acc : !kiln.desc<f32, 2>[i32, i32], tensor<32x32xf32>
  kiln.return
}

// An f16 product whose A is computed (not a load): A goes through SLM and is read lane
// by lane; B still comes by 2D block reads. Two sub-groups of 8 rows each.
// CHECK-LABEL: gpu.func @scaled
// CHECK: llvm.store %{{.*}}, %{{.*}} : i16, !llvm.ptr<3>
// CHECK: gpu.barrier
// CHECK-NOT: pack_register = false
// CHECK: xevm.blockload2d {{.*}}pack_register = true
// CHECK: xevm.mma {{.*}}types = <d = f32, a = f16, b = f16, c = f32>
// SPIRV: OpEntryPoint Kernel %{{[0-9]+}} "gemm"
// SPIRV: OpEntryPoint Kernel %{{[0-9]+}} "scaled"
// SPIRV-DAG: OpName %[[READA:[0-9]+]] "_Z41intel_sub_group_2d_block_read_16b_8r16x1cPU3AS1viiiDv2_iPt"
// SPIRV-DAG: OpName %[[READB:[0-9]+]] "_Z52intel_sub_group_2d_block_read_transform_16b_16r16x1cPU3AS1viiiDv2_iPj"
// SPIRV-DAG: OpName %[[BF16:[0-9]+]] "_Z40intel_sub_group_bf16_bf16_matrix_mad_k16Dv8_sDv8_iDv8_f"
// SPIRV-DAG: OpName %[[F16:[0-9]+]] "_Z38intel_sub_group_f16_f16_matrix_mad_k16Dv8_sDv8_iDv8_f"
// SPIRV-DAG: OpDecorate %[[BF16]] LinkageAttributes "{{.*}}" Import
// SPIRV-DAG: OpFunctionCall %{{[0-9]+}} %[[READA]]
// SPIRV-DAG: OpFunctionCall %{{[0-9]+}} %[[READB]]
// SPIRV-DAG: OpFunctionCall %{{[0-9]+}} %[[BF16]]
// SPIRV-DAG: OpFunctionCall %{{[0-9]+}} %[[F16]]
kiln.func @scaled(%a: !kiln.ptr<f16>, %b: !kiln.ptr<f16>, %c: !kiln.ptr<f32>)
    attributes {num_threads = 32} {
  %c0 = arith.constant 0 : i32
  %n = arith.constant 16 : i64
  %one = arith.constant 1 : i64
  %da = kiln.make_desc %a, [%n, %n], [%n, %one] : !kiln.ptr<f16> -> !kiln.desc<f16, 2>
  %db = kiln.make_desc %b, [%n, %n], [%n, %one] : !kiln.ptr<f16> -> !kiln.desc<f16, 2>
  %dc = kiln.make_desc %c, [%n, %n], [%n, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %ta = kiln.load %da[%c0, %c0] : !kiln.desc<f16, 2>[i32, i32] -> tensor<16x16xf16>
  %two = arith.constant 2.0 : f16
  %s = kiln.splat %two : tensor<16x16xf16>
  %a2 = arith.mulf %ta, %s : tensor<16x16xf16>
  %tb = kiln.load %db[%c0, %c0] : !kiln.desc<f16, 2>[i32, i32] -> tensor<16x16xf16>
  %zero = arith.constant 0.0 : f32
  %acc0 = kiln.splat %zero : tensor<16x16xf32>
  %r = kiln.dot %a2, %tb, %acc0 : tensor<16x16xf16>, tensor<16x16xf16> -> tensor<16x16xf32>
  kiln.store %dc[%c0, %c0], %r : !kiln.desc<f32, 2>[i32, i32], tensor<16x16xf32>
  kiln.return
}

// Bad pass options are errors, not crashes.
// RUN: not kiln-opt %s -kiln-lower-to-gpu="mma=intel-dpas warp-size=32" 2>&1 | FileCheck %s --check-prefix=WARP
// WARP: error: intel-dpas needs sub-groups of 16 lanes (warp-size=16)
// RUN: not kiln-opt %s -kiln-lower-to-gpu="mma=intel-xmx" 2>&1 | FileCheck %s --check-prefix=ATOM
// ATOM: error: unknown MMA atom 'intel-xmx' (known: nvidia-m16n8k16, nvidia-wgmma, amd-mfma, amd-wmma, intel-dpas)
