// RUN: kiln-opt %s -split-input-file -kiln-lower-to-host | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-host-pipeline | FileCheck %s --check-prefix=LLVM

// The kernel takes the program id and grid as six trailing i32s; the entry point
// unpacks each argument from the void** array and calls it.
// CHECK-LABEL: func.func private @kiln_kernel_vadd(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32)
// Tiles of pointers become i64 addresses: base + offset * 4 bytes.
// CHECK: llvm.ptrtoint
// CHECK: arith.muli %{{.*}}, %{{.*}} : tensor<64xi64>
// Masked gather: a load under scf.if, zero otherwise.
// CHECK: tensor.generate
// CHECK: scf.if
// CHECK: llvm.inttoptr
// CHECK: llvm.load %{{.*}} : !llvm.ptr -> f32
// Masked scatter: a loop nest storing under the mask.
// CHECK: scf.for
// CHECK: scf.if
// CHECK: llvm.store %{{.*}}, %{{.*}} : f32, !llvm.ptr
// CHECK-LABEL: func.func @kiln_program_vadd(
// CHECK-SAME: %[[ARGS:[^:]*]]: !llvm.ptr, %{{.*}}: i32
// CHECK: llvm.getelementptr %[[ARGS]][0]
// CHECK: llvm.load
// CHECK: call @kiln_kernel_vadd(
// LLVM-LABEL: llvm.func @kiln_program_vadd
kiln.func @vadd(%x: !kiln.ptr<f32>, %out: !kiln.ptr<f32>, %n: i32) {
  %pid = kiln.program_id 0 : i32
  %c64 = arith.constant 64 : i32
  %start = arith.muli %pid, %c64 : i32
  %iota = kiln.iota : tensor<64xi32>
  %base = kiln.splat %start : tensor<64xi32>
  %offs = arith.addi %base, %iota : tensor<64xi32>
  %nt = kiln.splat %n : tensor<64xi32>
  %mask = arith.cmpi slt, %offs, %nt : tensor<64xi32>
  %px = kiln.addptr %x, %offs : !kiln.ptr<f32>, tensor<64xi32> -> tensor<64x!kiln.ptr<f32>>
  %po = kiln.addptr %out, %offs : !kiln.ptr<f32>, tensor<64xi32> -> tensor<64x!kiln.ptr<f32>>
  %v = kiln.gather %px mask %mask : tensor<64x!kiln.ptr<f32>> -> tensor<64xf32>, tensor<64xi1>
  kiln.scatter %po, %v mask %mask : tensor<64x!kiln.ptr<f32>>, tensor<64xf32>, tensor<64xi1>
  kiln.return
}

// -----

// Block loads check every coordinate against the descriptor's shape.
// CHECK-LABEL: func.func private @kiln_kernel_block
// CHECK: llvm.extractvalue %{{.*}}[1, 0]
// CHECK: llvm.extractvalue %{{.*}}[2, 1]
// CHECK: tensor.generate
// CHECK: arith.cmpi sge
// CHECK: arith.cmpi slt
// CHECK: scf.if
// 16-bit floats move as i16 so LLVM never widens them through f32.
// CHECK: llvm.load %{{.*}} : !llvm.ptr -> i16
// CHECK: arith.bitcast %{{.*}} : i16 to bf16
// dot becomes linalg.matmul accumulating into the f32 tile.
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<16x16xbf16>, tensor<16x16xbf16>) outs(%{{.*}} : tensor<16x16xf32>)
// CHECK: linalg.reduce
// CHECK: arith.maximumf
// LLVM-LABEL: llvm.func @kiln_program_block
kiln.func @block(%d: !kiln.desc<bf16, 2>, %out: !kiln.ptr<f32>) {
  %c0 = arith.constant 0 : i32
  %t = kiln.load %d[%c0, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<16x16xbf16>
  %z = arith.constant 0.0 : f32
  %acc = kiln.splat %z : tensor<16x16xf32>
  %c = kiln.dot %t, %t, %acc : tensor<16x16xbf16>, tensor<16x16xbf16> -> tensor<16x16xf32>
  %m = kiln.reduce max %c {axis = 1 : i32} : tensor<16x16xf32> -> tensor<16xf32>
  kiln.return
}

// -----

// Packed 4-bit elements: byte address = index * 4 / 8, then shift and mask; stores
// merge into the byte with atomic and/or (helper calls until after bufferization).
// CHECK: func.func private @__kiln_atomic__or_i8(!llvm.ptr, i8) -> i8
// CHECK-LABEL: func.func private @kiln_kernel_packed
// CHECK: arith.shrui
// CHECK: llvm.load %{{.*}} : !llvm.ptr -> i8
// CHECK: arith.trunci %{{.*}} : i16 to i4
// CHECK: call @__kiln_atomic__and_i8
// CHECK: call @__kiln_atomic__or_i8
// LLVM-LABEL: llvm.func internal @kiln_kernel_packed
// LLVM: llvm.atomicrmw _and %{{.*}}, %{{.*}} monotonic : !llvm.ptr, i8
// LLVM: llvm.atomicrmw _or %{{.*}}, %{{.*}} monotonic : !llvm.ptr, i8
kiln.func @packed(%d: !kiln.desc<i4, 1>) {
  %c0 = arith.constant 0 : i32
  %t = kiln.load %d[%c0] : !kiln.desc<i4, 1>[i32] -> tensor<8xi4>
  kiln.store %d[%c0], %t : !kiln.desc<i4, 1>[i32], tensor<8xi4>
  kiln.return
}
