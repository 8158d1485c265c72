// RUN: kiln-opt %s -split-input-file -kiln-lower-to-gpu | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-lower-to-gpu="mma=nvidia-m16n8k16" | FileCheck %s --check-prefix=MMA

// A program is a thread block; each kernel becomes a gpu.func in @kiln_kernels.
// CHECK: module attributes {gpu.container_module}
// CHECK: gpu.module @kiln_kernels
// CHECK-LABEL: gpu.func @rowmax
// CHECK-SAME: (%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i32)
// CHECK-SAME: workgroup(%[[WG:[^ ]*]] : memref<4xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<1xf32, #gpu.address_space<workgroup>>)
// CHECK-SAME: kernel attributes {known_block_size = array<i32: 128, 1, 1>}
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
// CHECK: memref.store %{{.*}}, %[[WG]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[WG]]
// CHECK: gpu.barrier
// A scalar atomic is issued by one thread per program.
// CHECK: llvm.atomicrmw fadd
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

// Ops that move elements between threads exchange through workgroup memory (16-bit
// floats stored as i16): every
// thread stores its registers, a barrier, then each reads what it needs.
// CHECK-LABEL: gpu.func @exchange
// CHECK-SAME: workgroup(%[[A:[^ ]*]] : memref<2048xi16, #gpu.address_space<workgroup>>, %[[B:[^ ]*]] : memref<2048xi16, #gpu.address_space<workgroup>>)
// CHECK: gpu.barrier
// CHECK: memref.store %{{.*}}, %[[A]]
// CHECK: gpu.barrier
// CHECK: memref.store %{{.*}}, %[[B]]
// CHECK: gpu.barrier
// The product runs over K per output register with fused multiply-adds in f32.
// CHECK: scf.for
// CHECK: memref.load %[[A]]
// CHECK: memref.load %[[B]]
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: math.fma
kiln.func @exchange(%x: f16, %z: f32) {
  %a = kiln.splat %x : tensor<32x64xf16>
  %b = kiln.splat %x : tensor<64x32xf16>
  %c = kiln.splat %z : tensor<32x32xf32>
  %d = kiln.dot %a, %b, %c : tensor<32x64xf16>, tensor<64x32xf16> -> tensor<32x32xf32>
  kiln.return
}

// With the NVIDIA atom, each warp walks m16n8 output tiles and issues mma.sync over K.
// MMA-LABEL: gpu.func @exchange
// MMA: scf.for
// MMA: scf.for {{.*}} -> (f32, f32, f32, f32)
// MMA: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// MMA: gpu.barrier
