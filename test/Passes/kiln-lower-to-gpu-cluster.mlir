// RUN: kiln-opt %s -kiln-lower-to-gpu="max-cluster=8 threads=128" | FileCheck %s
// RUN: kiln-opt %s -kiln-lower-to-gpu="threads=128" | FileCheck %s --check-prefix=ONE

// A program over a cluster of 4 blocks of 128 threads: the 2048-element tile gives each
// of the 512 threads 4 elements (thread r * 128 + t of the program in block r), the
// program index is the cluster's, and the sum combines the four blocks' partials in
// rank order through distributed shared memory.
// CHECK-LABEL: gpu.func @spread
// CHECK-SAME: kiln.cluster = 4
// CHECK-SAME: nvvm.cluster_dim = array<i32: 4, 1, 1>
// CHECK: nvvm.read.ptx.sreg.cluster.ctarank
// CHECK: nvvm.read.ptx.sreg.clusterid.x
// CHECK: nvvm.cluster.arrive {aligned}
// CHECK-NEXT: nvvm.cluster.wait {aligned}
// CHECK-COUNT-4: nvvm.mapa
// CHECK: nvvm.cluster.arrive {aligned}
// CHECK: nvvm.cluster.wait {aligned}
// CHECK-NEXT: gpu.return
// Without clusters the attribute changes nothing.
// ONE-LABEL: gpu.func @spread
// ONE-NOT: cluster
// ONE: gpu.return
kiln.func @spread(%x: !kiln.ptr<f32>, %out: !kiln.ptr<f32>) attributes {cluster = 4} {
  %pid = kiln.program_id 0 : i32
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %n = arith.constant 2048 : i64
  %d = kiln.make_desc %x, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %t = kiln.load %d[%c0] : !kiln.desc<f32, 1>[i32] -> tensor<2048xf32>
  %s = kiln.reduce sum %t {axis = 0 : i32} : tensor<2048xf32> -> f32
  %p = kiln.addptr %out, %pid : !kiln.ptr<f32>, i32 -> !kiln.ptr<f32>
  %st = kiln.splat %s : tensor<128xf32>
  %do = kiln.make_desc %p, [%one], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  kiln.store %do[%c0], %st : !kiln.desc<f32, 1>[i32], tensor<128xf32>
  kiln.return
}

// Softmax over the cluster: the maximum stays in the block (an empty block subtracts 0),
// and one exchange of (maximum, sum) pairs gives the row's maximum and sum; the block's
// exponentials are rescaled by exp(m_b - M) before the division uses them.
// CHECK-LABEL: gpu.func @softmax
// CHECK: gpu.thread_id
// CHECK-NOT: nvvm.cluster.
// CHECK: arith.select
// CHECK: math.exp
// CHECK: nvvm.cluster.arrive {aligned}
// CHECK-NEXT: nvvm.cluster.wait {aligned}
// CHECK-COUNT-4: nvvm.mapa
// CHECK: nvvm.cluster.arrive {aligned}
// CHECK-NOT: nvvm.cluster.
// CHECK: arith.maximumf
// CHECK: arith.divf
// CHECK: nvvm.cluster.wait {aligned}
// CHECK-NEXT: gpu.return
// ONE-LABEL: gpu.func @softmax
// ONE-NOT: cluster
// ONE: gpu.return
kiln.func @softmax(%x: !kiln.ptr<f32>, %y: !kiln.ptr<f32>) attributes {cluster = 4} {
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %n = arith.constant 2048 : i64
  %dx = kiln.make_desc %x, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %dy = kiln.make_desc %y, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %t = kiln.load %dx[%c0] : !kiln.desc<f32, 1>[i32] -> tensor<2048xf32>
  %m = kiln.reduce max %t {axis = 0 : i32} : tensor<2048xf32> -> f32
  %mt = kiln.splat %m : tensor<2048xf32>
  %d = arith.subf %t, %mt : tensor<2048xf32>
  %e = math.exp %d : tensor<2048xf32>
  %s = kiln.reduce sum %e {axis = 0 : i32} : tensor<2048xf32> -> f32
  %st = kiln.splat %s : tensor<2048xf32>
  %p = arith.divf %e, %st : tensor<2048xf32>
  kiln.store %dy[%c0], %p : !kiln.desc<f32, 1>[i32], tensor<2048xf32>
  kiln.return
}
