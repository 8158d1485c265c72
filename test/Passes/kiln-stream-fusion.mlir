// RUN: kiln-opt %s -split-input-file -kiln-stream-fusion -canonicalize -cse | FileCheck %s

// Causal attention written over all keys (the key axis is '?'): one loop over 16-key
// blocks derives FlashAttention's recurrence. It carries the row maximum, the row sum
// and the output accumulator; the running maximum shifts by 0 where it is still -inf;
// the sum and the accumulator are rescaled by exp(m_old - m_new); the division by the
// sum waits for the end. The keys past n are masked by the causal select itself (its
// condition also tests the extent), and the loop stops after the last query row's key
// (max over the causal limits + 1), so blocks past the diagonal are skipped. Blocks
// before the first query row's key (min over the limits + 1) and the extent need no
// masks at all: they run first, in a loop of their own without selects.

// CHECK-LABEL: kiln.func @attention
// CHECK: %[[Q:.*]] = kiln.load {{.*}} -> tensor<16x32xbf16>
// CHECK: %[[LIMITS:.*]] = kiln.expand_dims {{.*}} : tensor<16xi32> -> tensor<16x1xi32>
// CHECK: %[[N64:.*]] = arith.maxsi %{{.*}}, %c0_i64 : i64
// CHECK: %[[EXTENT:.*]] = arith.trunci %[[N64]] : i64 to i32
// CHECK: %[[R0:.*]] = kiln.reduce max %[[LIMITS]] {axis = 0 : i32} : tensor<16x1xi32> -> tensor<1xi32>
// CHECK: %[[R1:.*]] = kiln.reduce max %[[R0]] {axis = 0 : i32} : tensor<1xi32> -> i32
// CHECK: %[[PLUS1:.*]] = arith.addi %[[R1]], %c1_i32
// CHECK: %[[LAST:.*]] = arith.select %{{.*}}, %[[R1]], %[[PLUS1]] : i32
// CHECK: %[[HI:.*]] = arith.minsi %[[EXTENT]], %[[LAST]] : i32
// CHECK: %[[S0:.*]] = kiln.reduce min %[[LIMITS]] {axis = 0 : i32} : tensor<16x1xi32> -> tensor<1xi32>
// CHECK: %[[S1:.*]] = kiln.reduce min %[[S0]] {axis = 0 : i32} : tensor<1xi32> -> i32
// CHECK: %[[SPLUS1:.*]] = arith.addi %[[S1]], %c1_i32
// CHECK: %[[FIRST:.*]] = arith.select %{{.*}}, %[[S1]], %[[SPLUS1]] : i32
// CHECK: %[[C0:.*]] = arith.minsi %[[EXTENT]], %[[FIRST]] : i32
// CHECK: %[[C1:.*]] = arith.minsi %[[C0]], %[[HI]] : i32
// CHECK: %[[C2:.*]] = arith.maxsi %[[C1]], %c0_i32 : i32
// CHECK: %[[C3:.*]] = arith.divsi %[[C2]], %c16_i32 : i32
// CHECK: %[[CLEAN:.*]] = arith.muli %[[C3]], %c16_i32 : i32
// CHECK: %[[PRE:.*]]:3 = scf.for %{{.*}} = %c0_i32 to %[[CLEAN]] step %c16_i32
// CHECK-NOT: tensor<16x16xi1>
// CHECK:   kiln.reduce max
// CHECK-NOT: tensor<16x16xi1>
// CHECK:   scf.yield
// CHECK: %[[RES:.*]]:3 = scf.for %[[KB:.*]] = %[[CLEAN]] to %[[HI]] step %c16_i32 iter_args(%[[M:.*]] = %[[PRE]]#0, %[[L:.*]] = %[[PRE]]#1, %[[ACC:.*]] = %[[PRE]]#2) -> (tensor<16xf32>, tensor<16xf32>, tensor<16x32xf32>)
// CHECK:   %[[K:.*]] = kiln.load %{{.*}}[%c0_i32, %[[KB]]] {{.*}} -> tensor<32x16xbf16>
// CHECK:   %[[V:.*]] = kiln.load %{{.*}}[%[[KB]], %c0_i32] {{.*}} -> tensor<16x32xbf16>
// CHECK:   %[[KEYS:.*]] = arith.addi %{{.*}}, %{{.*}} : tensor<16x16xi32>
// CHECK:   %[[CAUSAL:.*]] = arith.cmpi sle, %[[KEYS]], %{{.*}} : tensor<16x16xi32>
// CHECK:   %[[QK:.*]] = kiln.dot %[[Q]], %[[K]], %{{.*}} : tensor<16x32xbf16>, tensor<32x16xbf16> -> tensor<16x16xf32>
// CHECK:   %[[S:.*]] = arith.mulf %[[QK]]
// CHECK:   %[[INSIDE:.*]] = arith.cmpi slt, %[[KEYS]], %{{.*}} : tensor<16x16xi32>
// CHECK:   %[[VALID:.*]] = arith.andi %[[CAUSAL]], %[[INSIDE]] : tensor<16x16xi1>
// CHECK:   %[[SV:.*]] = arith.select %[[VALID]], %[[S]], %{{.*}} : tensor<16x16xi1>, tensor<16x16xf32>
// CHECK:   %[[BMAX:.*]] = kiln.reduce max %[[SV]] {axis = 1 : i32} : tensor<16x16xf32> -> tensor<16xf32>
// CHECK:   %[[MNEW:.*]] = arith.maximumf %[[M]], %[[BMAX]] : tensor<16xf32>
// CHECK:   %[[NINF:.*]] = arith.cmpf oeq, %[[MNEW]], %{{.*}} : tensor<16xf32>
// CHECK:   %[[SAFE:.*]] = arith.select %[[NINF]], %{{.*}}, %[[MNEW]] : tensor<16xi1>, tensor<16xf32>
// CHECK:   %[[SAFE2:.*]] = kiln.expand_dims %[[SAFE]] {axis = 1 : i32}
// CHECK:   %[[SAFEB:.*]] = kiln.broadcast %[[SAFE2]]
// CHECK:   %[[SHIFT:.*]] = arith.subf %[[SV]], %[[SAFEB]] : tensor<16x16xf32>
// CHECK:   %[[E:.*]] = math.exp %[[SHIFT]] : tensor<16x16xf32>
// CHECK:   %[[BSUM:.*]] = kiln.reduce sum %[[E]] {axis = 1 : i32}
// CHECK:   %[[DM:.*]] = arith.subf %[[M]], %[[SAFE]] : tensor<16xf32>
// CHECK:   %[[ALPHA:.*]] = math.exp %[[DM]] : tensor<16xf32>
// CHECK:   %[[LS:.*]] = arith.mulf %[[L]], %[[ALPHA]] : tensor<16xf32>
// CHECK:   %[[LNEW:.*]] = arith.addf %[[LS]], %[[BSUM]] : tensor<16xf32>
// CHECK:   %[[P:.*]] = kiln.cast %[[E]] : tensor<16x16xf32> to tensor<16x16xbf16>
// CHECK:   %[[A2:.*]] = kiln.expand_dims %[[ALPHA]] {axis = 1 : i32}
// CHECK:   %[[AB:.*]] = kiln.broadcast %[[A2]] : tensor<16x1xf32> -> tensor<16x32xf32>
// CHECK:   %[[ACCS:.*]] = arith.mulf %[[ACC]], %[[AB]] : tensor<16x32xf32>
// CHECK:   %[[ACCN:.*]] = kiln.dot %[[P]], %[[V]], %[[ACCS]] : tensor<16x16xbf16>, tensor<16x32xbf16> -> tensor<16x32xf32>
// CHECK:   scf.yield %[[MNEW]], %[[LNEW]], %[[ACCN]]
// CHECK: }
// CHECK: %[[LF:.*]] = kiln.expand_dims %[[RES]]#1 {axis = 1 : i32}
// CHECK: %[[LFB:.*]] = kiln.broadcast %[[LF]] : tensor<16x1xf32> -> tensor<16x32xf32>
// CHECK: %[[O:.*]] = arith.divf %[[RES]]#2, %[[LFB]] : tensor<16x32xf32>
// CHECK: kiln.cast %[[O]]
// CHECK: %[[LOG:.*]] = math.log %[[RES]]#1
// CHECK: arith.addf %[[RES]]#0, %[[LOG]]
// CHECK-NOT: scf.for
kiln.func @attention(%q: !kiln.ptr<bf16>, %k: !kiln.ptr<bf16>, %v: !kiln.ptr<bf16>,
                     %o: !kiln.ptr<bf16>, %lse: !kiln.ptr<f32>, %n: i32, %scale: f32,
                     %causal: i32) attributes {stream_block = 16 : i64} {
  %pm = kiln.program_id 0 : i32
  %c0 = arith.constant 0 : i32
  %c16 = arith.constant 16 : i32
  %one = arith.constant 1 : i64
  %d = arith.constant 32 : i64
  %nn = arith.extsi %n : i32 to i64
  %dq = kiln.make_desc %q, [%nn, %d], [%d, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dkt = kiln.make_desc %k, [%d, %nn], [%one, %d] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dv = kiln.make_desc %v, [%nn, %d], [%d, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %do = kiln.make_desc %o, [%nn, %d], [%d, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dl = kiln.make_desc %lse, [%nn], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %row = arith.muli %pm, %c16 : i32
  %tq = kiln.load %dq[%row, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<16x32xbf16>
  %tkt = kiln.load %dkt[%c0, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<32x?xbf16>
  %tv = kiln.load %dv[%c0, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<?x32xbf16>
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %z = kiln.splat %zero : tensor<16x?xf32>
  %qk = kiln.dot %tq, %tkt, %z : tensor<16x32xbf16>, tensor<32x?xbf16> -> tensor<16x?xf32>
  %sc = kiln.splat %scale : tensor<16x?xf32>
  %s = arith.mulf %qk, %sc : tensor<16x?xf32>
  %isc = arith.cmpi ne, %causal, %c0 : i32
  %big = arith.constant 2147483647 : i32
  %lim = arith.select %isc, %c0, %big : i32
  %rows = kiln.iota : tensor<16xi32>
  %rowsp = kiln.splat %row : tensor<16xi32>
  %qidx = arith.addi %rows, %rowsp : tensor<16xi32>
  %lims = kiln.splat %lim : tensor<16xi32>
  %qlim = arith.maxsi %qidx, %lims : tensor<16xi32>
  %qlim2 = kiln.expand_dims %qlim {axis = 1 : i32} : tensor<16xi32> -> tensor<16x1xi32>
  %qlimb = kiln.broadcast %qlim2 : tensor<16x1xi32> -> tensor<16x?xi32>
  %keys = kiln.iota : tensor<?xi32>
  %keys2 = kiln.expand_dims %keys {axis = 0 : i32} : tensor<?xi32> -> tensor<1x?xi32>
  %keysb = kiln.broadcast %keys2 : tensor<1x?xi32> -> tensor<16x?xi32>
  %seen = arith.cmpi sle, %keysb, %qlimb : tensor<16x?xi32>
  %ninfs = kiln.splat %ninf : tensor<16x?xf32>
  %sv = arith.select %seen, %s, %ninfs : tensor<16x?xi1>, tensor<16x?xf32>
  %m = kiln.reduce max %sv {axis = 1 : i32} : tensor<16x?xf32> -> tensor<16xf32>
  %m2 = kiln.expand_dims %m {axis = 1 : i32} : tensor<16xf32> -> tensor<16x1xf32>
  %mb = kiln.broadcast %m2 : tensor<16x1xf32> -> tensor<16x?xf32>
  %sm = arith.subf %sv, %mb : tensor<16x?xf32>
  %e = math.exp %sm : tensor<16x?xf32>
  %l = kiln.reduce sum %e {axis = 1 : i32} : tensor<16x?xf32> -> tensor<16xf32>
  %l2 = kiln.expand_dims %l {axis = 1 : i32} : tensor<16xf32> -> tensor<16x1xf32>
  %lb = kiln.broadcast %l2 : tensor<16x1xf32> -> tensor<16x?xf32>
  %p = arith.divf %e, %lb : tensor<16x?xf32>
  %pb = kiln.cast %p : tensor<16x?xf32> to tensor<16x?xbf16>
  %acc = kiln.splat %zero : tensor<16x32xf32>
  %out = kiln.dot %pb, %tv, %acc : tensor<16x?xbf16>, tensor<?x32xbf16> -> tensor<16x32xf32>
  %outb = kiln.cast %out : tensor<16x32xf32> to tensor<16x32xbf16>
  kiln.store %do[%row, %c0], %outb : !kiln.desc<bf16, 2>[i32, i32], tensor<16x32xbf16>
  %logl = math.log %l : tensor<16xf32>
  %lrow = arith.addf %m, %logl : tensor<16xf32>
  kiln.store %dl[%row], %lrow : !kiln.desc<f32, 1>[i32], tensor<16xf32>
  kiln.return
}

// -----

// Without a mask of its own, the scores get one select to -inf past the extent, which
// both the maximum and (through exp) the sum and the product see; only the last block
// needs it. A dot accumulating into a loaded tile adds it after the deferred division.
// The loops run to the extent (n - the load's offset).

// CHECK-LABEL: kiln.func @plain
// CHECK: %[[OFF:.*]] = arith.extsi %start : i32 to i64
// CHECK: %[[REST:.*]] = arith.subi %{{.*}}, %[[OFF]] : i64
// CHECK: %[[POS:.*]] = arith.maxsi %[[REST]], %c0_i64 : i64
// CHECK: %[[EXTENT:.*]] = arith.trunci %[[POS]] : i64 to i32
// CHECK: %[[CLEAN:.*]] = arith.muli %{{.*}}, %c8_i32 : i32
// CHECK: scf.for %{{.*}} = %c0_i32 to %[[CLEAN]] step %c8_i32
// CHECK-NOT: arith.select {{.*}} tensor<8x8xi1>
// CHECK: %[[RES:.*]]:3 = scf.for %[[KB:.*]] = %[[CLEAN]] to %[[EXTENT]] step %c8_i32
// CHECK:   kiln.load %{{.*}}[%c0_i32, %{{.*}}]
// CHECK:   %[[INSIDE:.*]] = arith.cmpi slt, %{{.*}}, %{{.*}} : tensor<8x8xi32>
// CHECK:   %[[S:.*]] = arith.select %[[INSIDE]], %{{.*}}, %{{.*}} : tensor<8x8xi1>, tensor<8x8xf32>
// CHECK:   kiln.reduce max %[[S]]
// CHECK:   arith.subf %[[S]]
// CHECK-NOT: arith.select {{.*}} tensor<8x8xi1>
// CHECK:   kiln.dot
// CHECK: }
// CHECK: %[[O:.*]] = arith.divf %[[RES]]#2
// CHECK: arith.addf %[[O]], %[[C:.*]] : tensor<8x16xf32>
kiln.func @plain(%q: !kiln.ptr<f32>, %k: !kiln.ptr<f32>, %v: !kiln.ptr<f32>,
                 %c: !kiln.ptr<f32>, %n: i32, %start: i32) attributes {stream_block = 8 : i64} {
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %d = arith.constant 16 : i64
  %nn = arith.extsi %n : i32 to i64
  %dq = kiln.make_desc %q, [%d, %d], [%d, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %dkt = kiln.make_desc %k, [%d, %nn], [%one, %d] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %dv = kiln.make_desc %v, [%nn, %d], [%d, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %dc = kiln.make_desc %c, [%d, %d], [%d, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %tq = kiln.load %dq[%c0, %c0] : !kiln.desc<f32, 2>[i32, i32] -> tensor<8x16xf32>
  %tkt = kiln.load %dkt[%c0, %start] : !kiln.desc<f32, 2>[i32, i32] -> tensor<16x?xf32>
  %tv = kiln.load %dv[%start, %c0] : !kiln.desc<f32, 2>[i32, i32] -> tensor<?x16xf32>
  %zero = arith.constant 0.0 : f32
  %z = kiln.splat %zero : tensor<8x?xf32>
  %s = kiln.dot %tq, %tkt, %z : tensor<8x16xf32>, tensor<16x?xf32> -> tensor<8x?xf32>
  %m = kiln.reduce max %s {axis = 1 : i32} : tensor<8x?xf32> -> tensor<8xf32>
  %m2 = kiln.expand_dims %m {axis = 1 : i32} : tensor<8xf32> -> tensor<8x1xf32>
  %mb = kiln.broadcast %m2 : tensor<8x1xf32> -> tensor<8x?xf32>
  %sm = arith.subf %s, %mb : tensor<8x?xf32>
  %e = math.exp %sm : tensor<8x?xf32>
  %l = kiln.reduce sum %e {axis = 1 : i32} : tensor<8x?xf32> -> tensor<8xf32>
  %l2 = kiln.expand_dims %l {axis = 1 : i32} : tensor<8xf32> -> tensor<8x1xf32>
  %lb = kiln.broadcast %l2 : tensor<8x1xf32> -> tensor<8x?xf32>
  %p = arith.divf %e, %lb : tensor<8x?xf32>
  %tc = kiln.load %dc[%c0, %c0] : !kiln.desc<f32, 2>[i32, i32] -> tensor<8x16xf32>
  %out = kiln.dot %p, %tv, %tc : tensor<8x?xf32>, tensor<?x16xf32> -> tensor<8x16xf32>
  kiln.store %dc[%c0, %c0], %out : !kiln.desc<f32, 2>[i32, i32], tensor<8x16xf32>
  kiln.return
}

// -----

// A whole-row softmax: the maximum and the sum fuse into one sweep (online normalizer;
// its whole blocks unmasked, the last one masked in a loop of its own); writing
// exp(x - max) / sum needs both final, so a second sweep recomputes and stores (stores
// past the row are dropped, so it needs no mask and no second loop).

// CHECK-LABEL: kiln.func @softmax
// CHECK: %[[PRE:.*]]:2 = scf.for {{.*}} iter_args({{.*}}) -> (f32, f32)
// CHECK-NOT: kiln.store
// CHECK:   kiln.reduce max
// CHECK:   math.exp
// CHECK:   kiln.reduce sum
// CHECK: }
// CHECK: %[[STATS:.*]]:2 = scf.for {{.*}} iter_args(%{{.*}} = %[[PRE]]#0, %{{.*}} = %[[PRE]]#1) -> (f32, f32)
// CHECK:   arith.cmpi slt
// CHECK-NOT: kiln.store
// CHECK: }
// CHECK: %[[MAX:.*]] = kiln.splat %[[STATS]]#0 : tensor<32xf32>
// CHECK: %[[SUM:.*]] = kiln.splat %[[STATS]]#1 : tensor<32xf32>
// CHECK: scf.for
// CHECK:   %[[X:.*]] = kiln.load
// CHECK:   %[[D:.*]] = arith.subf %[[X]], %[[MAX]]
// CHECK:   %[[E:.*]] = math.exp %[[D]]
// CHECK:   %[[P:.*]] = arith.divf %[[E]], %[[SUM]]
// CHECK:   kiln.store %{{.*}}[%{{.*}}], %[[P]]
// CHECK-NOT: scf.for
kiln.func @softmax(%x: !kiln.ptr<f32>, %y: !kiln.ptr<f32>, %cols: i32)
    attributes {stream_block = 32 : i64} {
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %n = arith.extsi %cols : i32 to i64
  %dx = kiln.make_desc %x, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %dy = kiln.make_desc %y, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %t = kiln.load %dx[%c0] : !kiln.desc<f32, 1>[i32] -> tensor<?xf32>
  %m = kiln.reduce max %t {axis = 0 : i32} : tensor<?xf32> -> f32
  %mt = kiln.splat %m : tensor<?xf32>
  %d = arith.subf %t, %mt : tensor<?xf32>
  %e = math.exp %d : tensor<?xf32>
  %s = kiln.reduce sum %e {axis = 0 : i32} : tensor<?xf32> -> f32
  %st = kiln.splat %s : tensor<?xf32>
  %p = arith.divf %e, %st : tensor<?xf32>
  kiln.store %dy[%c0], %p : !kiln.desc<f32, 1>[i32], tensor<?xf32>
  kiln.return
}

// -----

// Layer normalisation: the variance needs the final mean non-linearly ((x - mean)^2),
// and the output needs the final variance, so three sweeps: sum, sum of squares, write
// (the first two with their last, masked block in a loop of its own).

// CHECK-LABEL: kiln.func @layernorm
// CHECK: %[[SUM0:.*]] = scf.for {{.*}} -> (f32)
// CHECK: %[[SUM:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[SUM0]]) -> (f32)
// CHECK: %[[MEAN:.*]] = arith.divf %[[SUM]]
// CHECK: %[[SQ0:.*]] = scf.for {{.*}} -> (f32)
// CHECK:   arith.subf %{{.*}}, %{{.*}} : tensor<64xf32>
// CHECK: %[[SQ:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[SQ0]]) -> (f32)
// CHECK: arith.divf %[[SQ]]
// CHECK: math.rsqrt
// CHECK: scf.for
// CHECK:   kiln.store
// CHECK-NOT: scf.for
kiln.func @layernorm(%x: !kiln.ptr<f32>, %y: !kiln.ptr<f32>, %cols: i32)
    attributes {stream_block = 64 : i64} {
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %n = arith.extsi %cols : i32 to i64
  %nf = arith.sitofp %cols : i32 to f32
  %eps = arith.constant 1.0e-5 : f32
  %dx = kiln.make_desc %x, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %dy = kiln.make_desc %y, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %t = kiln.load %dx[%c0] : !kiln.desc<f32, 1>[i32] -> tensor<?xf32>
  %sum = kiln.reduce sum %t {axis = 0 : i32} : tensor<?xf32> -> f32
  %mean = arith.divf %sum, %nf : f32
  %meant = kiln.splat %mean : tensor<?xf32>
  %c = arith.subf %t, %meant : tensor<?xf32>
  %c2 = arith.mulf %c, %c : tensor<?xf32>
  %sq = kiln.reduce sum %c2 {axis = 0 : i32} : tensor<?xf32> -> f32
  %var = arith.divf %sq, %nf : f32
  %ve = arith.addf %var, %eps : f32
  %rstd = math.rsqrt %ve : f32
  %rt = kiln.splat %rstd : tensor<?xf32>
  %out = arith.mulf %c, %rt : tensor<?xf32>
  kiln.store %dy[%c0], %out : !kiln.desc<f32, 1>[i32], tensor<?xf32>
  kiln.return
}

// -----

// Kernels without streamed tiles are left alone.

// CHECK-LABEL: kiln.func @unstreamed
// CHECK-NOT: scf.for
// CHECK: kiln.reduce max
kiln.func @unstreamed(%x: !kiln.ptr<f32>, %y: !kiln.ptr<f32>) {
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %n = arith.constant 64 : i64
  %dx = kiln.make_desc %x, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %t = kiln.load %dx[%c0] : !kiln.desc<f32, 1>[i32] -> tensor<64xf32>
  %m = kiln.reduce max %t {axis = 0 : i32} : tensor<64xf32> -> f32
  %dy = kiln.make_desc %y, [%one], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %mt = kiln.splat %m : tensor<1xf32>
  kiln.store %dy[%c0], %mt : !kiln.desc<f32, 1>[i32], tensor<1xf32>
  kiln.return
}
