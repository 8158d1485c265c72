// RUN: kiln-opt %s -split-input-file -kiln-lower-to-gpu | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-lower-to-gpu="mma=nvidia-m16n8k16 dynamic-shared=1" | FileCheck %s --check-prefix=MMA
// RUN: kiln-opt %s -split-input-file -kiln-lower-to-gpu="mma=nvidia-m16n8k16 stages=1" | FileCheck %s --check-prefix=ONE

// A program is a thread block; each kernel becomes a gpu.func in @kiln_kernels.
// CHECK: module attributes {gpu.container_module}
// CHECK: gpu.module @kiln_kernels
// Each kernel declares its shared memory (kiln.shared_memory_bytes); its scratch part
// is reused op after op: the block reduction's 4 warp partials (16 bytes) and the
// atomic's broadcast share it.
// CHECK: llvm.mlir.global internal @__kiln_smem_rowmax() {addr_space = 3 : i32, alignment = 1024 : i64} : !llvm.array<16 x i8>
// CHECK-LABEL: gpu.func @rowmax
// CHECK-SAME: (%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i32)
// CHECK-SAME: kernel attributes {kiln.shared_memory_bytes = 16 : i64, known_block_size = array<i32: 128, 1, 1>}
// CHECK: %[[BASE:.*]] = llvm.mlir.addressof @__kiln_smem_rowmax : !llvm.ptr<3>
// CHECK: %[[WG:.*]] = llvm.getelementptr %[[BASE]][%{{.*}}] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, i8
// CHECK: gpu.thread_id x
// CHECK: gpu.block_id x
// 512 elements over 128 threads: 4 registers each, loaded under their masks.
// CHECK-COUNT-4: llvm.load %{{.*}} : !llvm.ptr -> f32
// Registers, then lanes by butterfly shuffles, then warps through workgroup memory.
// CHECK: arith.maximumf
// CHECK: gpu.shuffle xor %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK: gpu.shuffle xor
// CHECK: gpu.shuffle xor
// CHECK: gpu.shuffle xor
// CHECK: gpu.shuffle xor
// CHECK-NOT: gpu.shuffle
// CHECK: gpu.barrier
// CHECK: llvm.store %{{.*}}, %{{.*}} : f32, !llvm.ptr<3>
// CHECK: gpu.barrier
// CHECK-COUNT-4: llvm.load %{{.*}} : !llvm.ptr<3> -> f32
// A scalar atomic is issued by one thread per program; the others get its result
// through the same scratch bytes, after a barrier that ends the reduction's reads.
// CHECK: llvm.atomicrmw fadd
// CHECK: gpu.barrier
// CHECK: llvm.getelementptr %[[WG]][0]
// CHECK: llvm.store %{{.*}} : f32, !llvm.ptr<3>
// CHECK: gpu.return
kiln.func @rowmax(%x: !kiln.ptr<f32>, %out: !kiln.ptr<f32>, %n: i32) {
  %pid = kiln.program_id 0 : i32
  %c512 = arith.constant 512 : i32
  %start = arith.muli %pid, %c512 : i32
  %i = kiln.iota : tensor<512xi32>
  %s = kiln.splat %start : tensor<512xi32>
  %offs = arith.addi %s, %i : tensor<512xi32>
  %nn = kiln.splat %n : tensor<512xi32>
  %mask = arith.cmpi slt, %offs, %nn : tensor<512xi32>
  %p = kiln.addptr %x, %offs : !kiln.ptr<f32>, tensor<512xi32> -> tensor<512x!kiln.ptr<f32>>
  %v = kiln.gather %p mask %mask : tensor<512x!kiln.ptr<f32>> -> tensor<512xf32>, tensor<512xi1>
  %m = kiln.reduce max %v {axis = 0 : i32} : tensor<512xf32> -> f32
  %old = kiln.atomic_add %out, %m : !kiln.ptr<f32>, f32 -> f32
  kiln.return
}

// -----

// Tiles loop-carried through scf.for become one iter_arg per register.
// CHECK-LABEL: gpu.func @carry
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (f32, f32)
kiln.func @carry(%n: i32) {
  %z = arith.constant 0.0 : f32
  %t = kiln.splat %z : tensor<256xf32>
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %r = scf.for %k = %c0 to %n step %c1 iter_args(%acc = %t) -> (tensor<256xf32>) : i32 {
    %e = math.exp %acc : tensor<256xf32>
    scf.yield %e : tensor<256xf32>
  }
  kiln.return
}

// -----

// Ops that move elements between threads exchange through shared memory (16-bit
// floats stored as i16): every thread stores its registers, a barrier, then each
// reads what it needs.
// CHECK-LABEL: gpu.func @exchange
// CHECK-SAME: kiln.shared_memory_bytes = 8192 : i64
// CHECK: llvm.mlir.addressof @__kiln_smem_exchange
// CHECK: %[[S:.*]] = llvm.getelementptr
// CHECK: gpu.barrier
// CHECK: %[[A:.*]] = llvm.getelementptr %[[S]][0]
// CHECK: llvm.store %{{.*}} : i16, !llvm.ptr<3>
// CHECK: gpu.barrier
// CHECK: %[[B:.*]] = llvm.getelementptr %[[S]][4096]
// CHECK: llvm.store %{{.*}} : i16, !llvm.ptr<3>
// CHECK: gpu.barrier
// The product runs over K per output register with fused multiply-adds in f32.
// CHECK: scf.for
// CHECK: llvm.getelementptr %[[A]]
// CHECK: llvm.getelementptr %[[B]]
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: math.fma
kiln.func @exchange(%x: f16, %z: f32) {
  %a = kiln.splat %x : tensor<32x64xf16>
  %b = kiln.splat %x : tensor<64x32xf16>
  %c = kiln.splat %z : tensor<32x32xf32>
  %d = kiln.dot %a, %b, %c : tensor<32x64xf16>, tensor<64x32xf16> -> tensor<32x32xf32>
  kiln.return
}

// With the NVIDIA atom the result lives in mma.sync accumulator fragments: a 2x2 grid
// of warps, each with two m16n8 atoms (8 registers). Operands held in registers go to
// shared memory in a swizzle chosen for ldmatrix (XOR of 16-byte chunks), then every
// K step of 16 loads A with ldmatrix.x4, B with ldmatrix.x4.trans, and issues one
// mma.sync per atom (K = 64: four steps, 8 mma.sync per warp).
// MMA-LABEL: gpu.func @exchange
// MMA: llvm.store %{{.*}} : i16, !llvm.ptr<3>
// MMA: arith.xori
// MMA: gpu.barrier
// MMA: nvvm.ldmatrix %{{.*}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<row>, num = 4 : i32, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>}
// MMA: nvvm.ldmatrix %{{.*}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<col>, num = 4 : i32
// MMA: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// MMA: nvvm.mma.sync
// MMA: nvvm.ldmatrix
// MMA: nvvm.ldmatrix
// MMA: nvvm.mma.sync
// MMA: nvvm.mma.sync
// MMA: gpu.return

// -----

// On NVIDIA shared memory is dynamic: one extern block, sized at launch.
// MMA: llvm.mlir.global external @__kiln_dynamic_smem() {addr_space = 3 : i32, alignment = 1024 : i64} : !llvm.array<0 x i8>
// A K loop: the loads read only by the dot become shared tiles copied with cp.async,
// 2 iterations ahead (3 stages); the accumulator is loop-carried as 8 f32 registers
// per thread plus the stage index. Each iteration waits for its stage, a barrier
// publishes it, the copies of iteration k + 2 go out, then the MMAs run.
// MMA-LABEL: gpu.func @kloop
// MMA: nvvm.cp.async.shared.global %{{.*}}, %{{.*}}, 16, cache = cg : !llvm.ptr<3>, !llvm.ptr<1>
// MMA: nvvm.cp.async.commit.group
// MMA: nvvm.cp.async.commit.group
// MMA: scf.for {{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32, i32)
// MMA-NEXT: nvvm.cp.async.wait.group 1
// MMA-NEXT: gpu.barrier
// MMA: nvvm.cp.async.shared.global
// MMA: nvvm.cp.async.commit.group
// MMA: nvvm.ldmatrix
// MMA: nvvm.mma.sync
// MMA: scf.yield
// MMA: nvvm.cp.async.wait.group 0
// MMA-NEXT: gpu.barrier
// The scaled accumulator stays in fragments (no exchange) and is stored from them,
// two columns at a time.
// MMA-NOT: gpu.barrier
// MMA: arith.mulf
// MMA-NOT: gpu.barrier
// MMA: llvm.store %{{.*}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr
// A row sum needs the blocked layout: one conversion through shared memory.
// MMA: gpu.barrier
// MMA: llvm.store %{{.*}} : f32, !llvm.ptr<3>
// MMA: gpu.barrier
// MMA: gpu.shuffle xor
// With stages=1 the copies wait inside the iteration that uses them.
// ONE-LABEL: gpu.func @kloop
// ONE: scf.for {{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32)
// ONE: gpu.barrier
// ONE: nvvm.cp.async.shared.global
// ONE: nvvm.cp.async.commit.group
// ONE-NEXT: nvvm.cp.async.wait.group 0
// ONE-NEXT: gpu.barrier
// ONE: nvvm.mma.sync
kiln.func @kloop(%a: !kiln.ptr<bf16>, %b: !kiln.ptr<bf16>, %c: !kiln.ptr<f32>, %out: !kiln.ptr<f32>,
                 %n: i64, %K: i32, %s: f32) {
  %one = arith.constant 1 : i64
  %c0 = arith.constant 0 : i32
  %c32 = arith.constant 32 : i32
  %da = kiln.make_desc %a, [%n, %n], [%n, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %db = kiln.make_desc %b, [%n, %n], [%n, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dc = kiln.make_desc %c, [%n, %n], [%n, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %zero = arith.constant 0.0 : f32
  %acc0 = kiln.splat %zero : tensor<32x32xf32>
  %acc = scf.for %k = %c0 to %K step %c32 iter_args(%acc_i = %acc0) -> (tensor<32x32xf32>) : i32 {
    %ta = kiln.load %da[%c0, %k] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<32x32xbf16>
    %tb = kiln.load %db[%k, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<32x32xbf16>
    %next = kiln.dot %ta, %tb, %acc_i : tensor<32x32xbf16>, tensor<32x32xbf16> -> tensor<32x32xf32>
    scf.yield %next : tensor<32x32xf32>
  }
  %ss = kiln.splat %s : tensor<32x32xf32>
  %scaled = arith.mulf %acc, %ss : tensor<32x32xf32>
  kiln.store %dc[%c0, %c0], %scaled : !kiln.desc<f32, 2>[i32, i32], tensor<32x32xf32>
  %flat = kiln.reshape %scaled : tensor<32x32xf32> -> tensor<1024xf32>
  %sum = kiln.reduce sum %flat {axis = 0 : i32} : tensor<1024xf32> -> f32
  %old = kiln.atomic_add %out, %sum : !kiln.ptr<f32>, f32 -> f32
  kiln.return
}

// -----

// A row reduction of an accumulator tile stays in registers: each thread combines its
// registers of a row, the quad of lanes sharing the row combines by shuffles (xor 1, 2),
// and the two warp columns meet in shared memory.
// MMA-LABEL: gpu.func @rowmax_mma
// MMA: nvvm.mma.sync
// MMA: arith.maximumf
// MMA: gpu.shuffle xor %{{.*}}, %{{.*}}, %{{.*}} : f32
// MMA: gpu.shuffle xor
// MMA: llvm.store %{{.*}} : f32, !llvm.ptr<3>
// MMA: gpu.barrier
// MMA: llvm.load %{{.*}} : !llvm.ptr<3> -> f32
// MMA: arith.maximumf
// MMA-NOT: scf.for
// MMA: gpu.return
kiln.func @rowmax_mma(%x: bf16, %out: !kiln.ptr<f32>) {
  %a = kiln.splat %x : tensor<32x32xbf16>
  %zero = arith.constant 0.0 : f32
  %c = kiln.splat %zero : tensor<32x32xf32>
  %d = kiln.dot %a, %a, %c : tensor<32x32xbf16>, tensor<32x32xbf16> -> tensor<32x32xf32>
  %m = kiln.reduce max %d {axis = 1 : i32} : tensor<32x32xf32> -> tensor<32xf32>
  %n = arith.constant 32 : i64
  %one = arith.constant 1 : i64
  %c0 = arith.constant 0 : i32
  %do = kiln.make_desc %out, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  kiln.store %do[%c0], %m : !kiln.desc<f32, 1>[i32], tensor<32xf32>
  kiln.return
}

// -----

// A mask built from a broadcast before the loop and used only by a select on an
// accumulator is computed in the accumulator's layout: the broadcast lands there once,
// and the loop exchanges no i1 tile through shared memory.
// MMA-LABEL: gpu.func @masked_acc
// MMA: scf.for
// MMA-NOT: : i1, !llvm.ptr<3>
// MMA: nvvm.mma.sync
// MMA-NOT: : i1, !llvm.ptr<3>
// MMA: arith.select
// MMA-NOT: : i1, !llvm.ptr<3>
// MMA: scf.yield
kiln.func @masked_acc(%x: bf16, %n: i32, %out: !kiln.ptr<f32>) {
  %a = kiln.splat %x : tensor<32x32xbf16>
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %acc0 = kiln.splat %zero : tensor<32x32xf32>
  %ninfs = kiln.splat %ninf : tensor<32x32xf32>
  %cols = kiln.iota : tensor<32xi32>
  %cols2 = kiln.expand_dims %cols {axis = 0 : i32} : tensor<32xi32> -> tensor<1x32xi32>
  %colsb = kiln.broadcast %cols2 : tensor<1x32xi32> -> tensor<32x32xi32>
  %ns = kiln.splat %n : tensor<32x32xi32>
  %c0 = arith.constant 0 : i32
  %c32 = arith.constant 32 : i32
  %r = scf.for %kb = %c0 to %n step %c32 iter_args(%acc = %acc0) -> (tensor<32x32xf32>) : i32 {
    %d = kiln.dot %a, %a, %acc : tensor<32x32xbf16>, tensor<32x32xbf16> -> tensor<32x32xf32>
    %kbs = kiln.splat %kb : tensor<32x32xi32>
    %key = arith.addi %colsb, %kbs : tensor<32x32xi32>
    %valid = arith.cmpi slt, %key, %ns : tensor<32x32xi32>
    %s = arith.select %valid, %d, %ninfs : tensor<32x32xi1>, tensor<32x32xf32>
    scf.yield %s : tensor<32x32xf32>
  }
  %m = arith.constant 32 : i64
  %one = arith.constant 1 : i64
  %do = kiln.make_desc %out, [%m, %m], [%m, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  kiln.store %do[%c0, %c0], %r : !kiln.desc<f32, 2>[i32, i32], tensor<32x32xf32>
  kiln.return
}

// -----

// A row maximum of an accumulator whose warps each own whole rows (one warp column)
// stays in the accumulator's rows (MmaRows): quad shuffles only, and broadcasting it
// back across the tile picks registers; nothing goes through shared memory.
// MMA-LABEL: gpu.func @row_softmax_mma
// MMA: nvvm.mma.sync
// MMA-NOT: !llvm.ptr<3>
// MMA: gpu.shuffle xor %{{.*}}, %{{.*}}, %{{.*}} : f32
// MMA: gpu.shuffle xor
// MMA-NOT: !llvm.ptr<3>
// MMA-NOT: gpu.barrier
// MMA: arith.subf
// MMA-NOT: !llvm.ptr<3>
// MMA: gpu.return
kiln.func @row_softmax_mma(%x: bf16, %out: !kiln.ptr<f32>) {
  %a = kiln.splat %x : tensor<64x16xbf16>
  %b = kiln.splat %x : tensor<16x16xbf16>
  %zero = arith.constant 0.0 : f32
  %c = kiln.splat %zero : tensor<64x16xf32>
  %d = kiln.dot %a, %b, %c : tensor<64x16xbf16>, tensor<16x16xbf16> -> tensor<64x16xf32>
  %m = kiln.reduce max %d {axis = 1 : i32} : tensor<64x16xf32> -> tensor<64xf32>
  %m2 = kiln.expand_dims %m {axis = 1 : i32} : tensor<64xf32> -> tensor<64x1xf32>
  %mb = kiln.broadcast %m2 : tensor<64x1xf32> -> tensor<64x16xf32>
  %s = arith.subf %d, %mb : tensor<64x16xf32>
  %n = arith.constant 64 : i64
  %w = arith.constant 16 : i64
  %one = arith.constant 1 : i64
  %c0 = arith.constant 0 : i32
  %do = kiln.make_desc %out, [%n, %w], [%w, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  kiln.store %do[%c0, %c0], %s : !kiln.desc<f32, 2>[i32, i32], tensor<64x16xf32>
  kiln.return
}
