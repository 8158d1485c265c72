// Attention forward, O = softmax(Q·Kᵀ · scale) · V, written by hand as FlashAttention's
// tiled recurrence: one program per 64 query rows of one head; key/value blocks of 64
// stream through with a running row maximum m and sum l (the online normalizer), the
// accumulator rescaled by exp(m_old - m_new) as m grows. Q, K, V and O are [heads * n, 64]
// bf16, rows of one head consecutive; keys past n are masked. The first kernel of the
// attention family: the fusion pass that derives it and the Hopper schedule come next.
kiln.func @attention(%q: !kiln.ptr<bf16>, %k: !kiln.ptr<bf16>, %v: !kiln.ptr<bf16>,
                     %o: !kiln.ptr<bf16>, %n: i32, %heads: i32, %scale: f32)
    attributes {grid = ["cdiv(n, 64)", "heads"], num_threads = 128 : i64} {
  %pm = kiln.program_id 0 : i32
  %ph = kiln.program_id 1 : i32
  %c0 = arith.constant 0 : i32
  %c64 = arith.constant 64 : i32
  %one = arith.constant 1 : i64
  %d = arith.constant 64 : i64
  %nn = arith.extsi %n : i32 to i64
  // This head's rows: a [n, 64] block starting at row ph * n.
  %hrow = arith.muli %ph, %n : i32
  %hrow64 = arith.extsi %hrow : i32 to i64
  %hoff = arith.muli %hrow64, %d : i64
  %hoff32 = arith.trunci %hoff : i64 to i32
  %qh = kiln.addptr %q, %hoff32 : !kiln.ptr<bf16>, i32 -> !kiln.ptr<bf16>
  %kh = kiln.addptr %k, %hoff32 : !kiln.ptr<bf16>, i32 -> !kiln.ptr<bf16>
  %vh = kiln.addptr %v, %hoff32 : !kiln.ptr<bf16>, i32 -> !kiln.ptr<bf16>
  %oh = kiln.addptr %o, %hoff32 : !kiln.ptr<bf16>, i32 -> !kiln.ptr<bf16>
  %dq = kiln.make_desc %qh, [%nn, %d], [%d, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  // Kᵀ: a [64, n] view of K (columns of K are rows of the view).
  %dkt = kiln.make_desc %kh, [%d, %nn], [%one, %d] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dv = kiln.make_desc %vh, [%nn, %d], [%d, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %do = kiln.make_desc %oh, [%nn, %d], [%d, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %row = arith.muli %pm, %c64 : i32
  %tq = kiln.load %dq[%row, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<64x64xbf16>
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %m0 = kiln.splat %ninf : tensor<64xf32>
  %l0 = kiln.splat %zero : tensor<64xf32>
  %acc0 = kiln.splat %zero : tensor<64x64xf32>
  %s0 = kiln.splat %zero : tensor<64x64xf32>
  %sc = kiln.splat %scale : tensor<64x64xf32>
  %ninfs = kiln.splat %ninf : tensor<64x64xf32>
  %cols = kiln.iota : tensor<64xi32>
  %cols2 = kiln.expand_dims %cols {axis = 0 : i32} : tensor<64xi32> -> tensor<1x64xi32>
  %colsb = kiln.broadcast %cols2 : tensor<1x64xi32> -> tensor<64x64xi32>
  %nsplat = kiln.splat %n : tensor<64x64xi32>
  %res:3 = scf.for %kb = %c0 to %n step %c64
      iter_args(%m = %m0, %l = %l0, %acc = %acc0) -> (tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>) : i32 {
    %tkt = kiln.load %dkt[%c0, %kb] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<64x64xbf16>
    %tv = kiln.load %dv[%kb, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<64x64xbf16>
    %qk = kiln.dot %tq, %tkt, %s0 : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %s1 = arith.mulf %qk, %sc : tensor<64x64xf32>
    // Keys past n do not exist.
    %kbs = kiln.splat %kb : tensor<64x64xi32>
    %key = arith.addi %colsb, %kbs : tensor<64x64xi32>
    %valid = arith.cmpi slt, %key, %nsplat : tensor<64x64xi32>
    %sv = arith.select %valid, %s1, %ninfs : tensor<64x64xi1>, tensor<64x64xf32>
    %bmax = kiln.reduce max %sv {axis = 1 : i32} : tensor<64x64xf32> -> tensor<64xf32>
    %mnew = arith.maximumf %m, %bmax : tensor<64xf32>
    %mn2 = kiln.expand_dims %mnew {axis = 1 : i32} : tensor<64xf32> -> tensor<64x1xf32>
    %mnb = kiln.broadcast %mn2 : tensor<64x1xf32> -> tensor<64x64xf32>
    %sm = arith.subf %sv, %mnb : tensor<64x64xf32>
    %p = math.exp %sm : tensor<64x64xf32>
    %md = arith.subf %m, %mnew : tensor<64xf32>
    %alpha = math.exp %md : tensor<64xf32>
    %psum = kiln.reduce sum %p {axis = 1 : i32} : tensor<64x64xf32> -> tensor<64xf32>
    %la = arith.mulf %l, %alpha : tensor<64xf32>
    %lnew = arith.addf %la, %psum : tensor<64xf32>
    %al2 = kiln.expand_dims %alpha {axis = 1 : i32} : tensor<64xf32> -> tensor<64x1xf32>
    %alb = kiln.broadcast %al2 : tensor<64x1xf32> -> tensor<64x64xf32>
    %accs = arith.mulf %acc, %alb : tensor<64x64xf32>
    %pb = kiln.cast %p : tensor<64x64xf32> to tensor<64x64xbf16>
    %accn = kiln.dot %pb, %tv, %accs : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    scf.yield %mnew, %lnew, %accn : tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>
  }
  %l2 = kiln.expand_dims %res#1 {axis = 1 : i32} : tensor<64xf32> -> tensor<64x1xf32>
  %lb = kiln.broadcast %l2 : tensor<64x1xf32> -> tensor<64x64xf32>
  %out = arith.divf %res#2, %lb : tensor<64x64xf32>
  %outb = kiln.cast %out : tensor<64x64xf32> to tensor<64x64xbf16>
  kiln.store %do[%row, %c0], %outb : !kiln.desc<bf16, 2>[i32, i32], tensor<64x64xbf16>
  kiln.return
}
