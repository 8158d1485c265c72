// RUN: kiln-opt %s -split-input-file -kiln-stream-fusion="chip=sm_90a" | FileCheck %s --check-prefix=H100
// RUN: kiln-opt %s -split-input-file -kiln-stream-fusion="chip=sm_80" | FileCheck %s --check-prefix=A100
// RUN: kiln-opt %s -split-input-file -kiln-stream-fusion | FileCheck %s --check-prefix=NONE

// Attention kernels without stream_block take their key block (and pipeline depth) from
// the IO-aware schedule model of the chip, for their query block and head dimension
// (docs/attention-schedule.md: 128x128 with 2 stages at D 128 on the H100; at D 64 a
// 64-row program takes 128 keys with 2 stages and asks for three programs per
// multiprocessor, which ptxas then fits; on the A100 mma.sync stages P in shared memory
// too, so 128x128 would need 192 KiB of its 163 and it takes 64 keys at D 128); other
// kernels, and runs without a chip, get 64. The choice is
// recorded on the kernel: on the H100 a 128-row program alone on its SM also gets a
// producer warpgroup (warp_specialize), which the A100 has no TMA for and the D 64
// kernel (three programs per SM) would lose by.

// H100-LABEL: kiln.func @d128
// H100-SAME: num_stages = 2 : i64
// H100-SAME: stream_block = 128 : i64
// H100-SAME: warp_specialize
// H100: scf.for {{.*}} step %c128_i32
// A100-LABEL: kiln.func @d128
// A100-SAME: num_stages = 2 : i64
// A100-SAME: stream_block = 64 : i64
// A100-NOT: warp_specialize
// A100: kiln.return
// NONE-LABEL: kiln.func @d128
// NONE-NOT: num_stages
// NONE-SAME: stream_block = 64 : i64
// NONE-NOT: warp_specialize
// NONE: kiln.return
kiln.func @d128(%q: !kiln.ptr<bf16>, %k: !kiln.ptr<bf16>, %v: !kiln.ptr<bf16>,
                   %o: !kiln.ptr<bf16>, %n: i32) attributes {num_threads = 256 : i64} {
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %d = arith.constant 128 : i64
  %nn = arith.extsi %n : i32 to i64
  %dq = kiln.make_desc %q, [%nn, %d], [%d, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dkt = kiln.make_desc %k, [%d, %nn], [%one, %d] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dv = kiln.make_desc %v, [%nn, %d], [%d, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %do = kiln.make_desc %o, [%nn, %d], [%d, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %tq = kiln.load %dq[%c0, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<128x128xbf16>
  %tkt = kiln.load %dkt[%c0, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<128x?xbf16>
  %tv = kiln.load %dv[%c0, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<?x128xbf16>
  %zero = arith.constant 0.0 : f32
  %z = kiln.splat %zero : tensor<128x?xf32>
  %s = kiln.dot %tq, %tkt, %z : tensor<128x128xbf16>, tensor<128x?xbf16> -> tensor<128x?xf32>
  %m = kiln.reduce max %s {axis = 1 : i32} : tensor<128x?xf32> -> tensor<128xf32>
  %m2 = kiln.expand_dims %m {axis = 1 : i32} : tensor<128xf32> -> tensor<128x1xf32>
  %mb = kiln.broadcast %m2 : tensor<128x1xf32> -> tensor<128x?xf32>
  %sm = arith.subf %s, %mb : tensor<128x?xf32>
  %e = math.exp2 %sm : tensor<128x?xf32>
  %l = kiln.reduce sum %e {axis = 1 : i32} : tensor<128x?xf32> -> tensor<128xf32>
  %l2 = kiln.expand_dims %l {axis = 1 : i32} : tensor<128xf32> -> tensor<128x1xf32>
  %lb = kiln.broadcast %l2 : tensor<128x1xf32> -> tensor<128x?xf32>
  %p = arith.divf %e, %lb : tensor<128x?xf32>
  %pb = kiln.cast %p : tensor<128x?xf32> to tensor<128x?xbf16>
  %acc = kiln.splat %zero : tensor<128x128xf32>
  %out = kiln.dot %pb, %tv, %acc : tensor<128x?xbf16>, tensor<?x128xbf16> -> tensor<128x128xf32>
  %outb = kiln.cast %out : tensor<128x128xf32> to tensor<128x128xbf16>
  kiln.store %do[%c0, %c0], %outb : !kiln.desc<bf16, 2>[i32, i32], tensor<128x128xbf16>
  kiln.return
}

// -----

// H100-LABEL: kiln.func @d64
// H100-SAME: min_programs_per_sm = 3 : i64
// H100-SAME: num_stages = 2 : i64
// H100-SAME: stream_block = 128 : i64
// H100-NOT: warp_specialize
// H100: kiln.return
// NONE-LABEL: kiln.func @d64
// NONE-SAME: stream_block = 64 : i64
kiln.func @d64(%q: !kiln.ptr<bf16>, %k: !kiln.ptr<bf16>, %v: !kiln.ptr<bf16>,
                   %o: !kiln.ptr<bf16>, %n: i32) attributes {num_threads = 128 : i64} {
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %d = arith.constant 64 : i64
  %nn = arith.extsi %n : i32 to i64
  %dq = kiln.make_desc %q, [%nn, %d], [%d, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dkt = kiln.make_desc %k, [%d, %nn], [%one, %d] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dv = kiln.make_desc %v, [%nn, %d], [%d, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %do = kiln.make_desc %o, [%nn, %d], [%d, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %tq = kiln.load %dq[%c0, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<64x64xbf16>
  %tkt = kiln.load %dkt[%c0, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<64x?xbf16>
  %tv = kiln.load %dv[%c0, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<?x64xbf16>
  %zero = arith.constant 0.0 : f32
  %z = kiln.splat %zero : tensor<64x?xf32>
  %s = kiln.dot %tq, %tkt, %z : tensor<64x64xbf16>, tensor<64x?xbf16> -> tensor<64x?xf32>
  %m = kiln.reduce max %s {axis = 1 : i32} : tensor<64x?xf32> -> tensor<64xf32>
  %m2 = kiln.expand_dims %m {axis = 1 : i32} : tensor<64xf32> -> tensor<64x1xf32>
  %mb = kiln.broadcast %m2 : tensor<64x1xf32> -> tensor<64x?xf32>
  %sm = arith.subf %s, %mb : tensor<64x?xf32>
  %e = math.exp2 %sm : tensor<64x?xf32>
  %l = kiln.reduce sum %e {axis = 1 : i32} : tensor<64x?xf32> -> tensor<64xf32>
  %l2 = kiln.expand_dims %l {axis = 1 : i32} : tensor<64xf32> -> tensor<64x1xf32>
  %lb = kiln.broadcast %l2 : tensor<64x1xf32> -> tensor<64x?xf32>
  %p = arith.divf %e, %lb : tensor<64x?xf32>
  %pb = kiln.cast %p : tensor<64x?xf32> to tensor<64x?xbf16>
  %acc = kiln.splat %zero : tensor<64x64xf32>
  %out = kiln.dot %pb, %tv, %acc : tensor<64x?xbf16>, tensor<?x64xbf16> -> tensor<64x64xf32>
  %outb = kiln.cast %out : tensor<64x64xf32> to tensor<64x64xbf16>
  kiln.store %do[%c0, %c0], %outb : !kiln.desc<bf16, 2>[i32, i32], tensor<64x64xbf16>
  kiln.return
}

// -----

// H100-LABEL: kiln.func @softmax
// H100-NOT: num_stages
// H100-SAME: stream_block = 64 : i64
kiln.func @softmax(%x: !kiln.ptr<f32>, %y: !kiln.ptr<f32>, %cols: i32) {
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %n = arith.extsi %cols : i32 to i64
  %dx = kiln.make_desc %x, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %dy = kiln.make_desc %y, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %t = kiln.load %dx[%c0] : !kiln.desc<f32, 1>[i32] -> tensor<?xf32>
  %m = kiln.reduce max %t {axis = 0 : i32} : tensor<?xf32> -> f32
  %mt = kiln.splat %m : tensor<?xf32>
  %d = arith.subf %t, %mt : tensor<?xf32>
  kiln.store %dy[%c0], %d : !kiln.desc<f32, 1>[i32], tensor<?xf32>
  kiln.return
}
