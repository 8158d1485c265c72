// Attention forward, O = softmax(Q·Kᵀ · scale) · V, written as the math says: S, P and
// O over all n keys at once, the key axis a streamed ('?') dimension. kilnc's
// kiln-stream-fusion derives FlashAttention's recurrence from it: one program per 64
// query rows of one head, keys and values in blocks (64 on an H100: the key block and
// pipeline depth come from the IO-aware schedule model for the target chip, 64 on the
// host) with a running row maximum m
// and sum l (the online normalizer), the accumulator rescaled by exp(m_old - m_new) as
// m grows and divided by l once at the end; keys past n are masked. Q, K, V and O are
// [heads * n, 64] bf16, rows of one head consecutive.
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
  %tkt = kiln.load %dkt[%c0, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<64x?xbf16>
  %tv = kiln.load %dv[%c0, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<?x64xbf16>
  // S = Q·Kᵀ · scale
  %zero = arith.constant 0.0 : f32
  %z = kiln.splat %zero : tensor<64x?xf32>
  %qk = kiln.dot %tq, %tkt, %z : tensor<64x64xbf16>, tensor<64x?xbf16> -> tensor<64x?xf32>
  %sc = kiln.splat %scale : tensor<64x?xf32>
  %s = arith.mulf %qk, %sc : tensor<64x?xf32>
  // P = softmax(S) along the keys
  %m = kiln.reduce max %s {axis = 1 : i32} : tensor<64x?xf32> -> tensor<64xf32>
  %m2 = kiln.expand_dims %m {axis = 1 : i32} : tensor<64xf32> -> tensor<64x1xf32>
  %mb = kiln.broadcast %m2 : tensor<64x1xf32> -> tensor<64x?xf32>
  %sm = arith.subf %s, %mb : tensor<64x?xf32>
  // afn: an approximate exp is enough here (ex2.approx on NVIDIA, not libdevice's expf).
  %e = math.exp %sm fastmath<afn> : tensor<64x?xf32>
  %l = kiln.reduce sum %e {axis = 1 : i32} : tensor<64x?xf32> -> tensor<64xf32>
  %l2 = kiln.expand_dims %l {axis = 1 : i32} : tensor<64xf32> -> tensor<64x1xf32>
  %lb = kiln.broadcast %l2 : tensor<64x1xf32> -> tensor<64x?xf32>
  %p = arith.divf %e, %lb : tensor<64x?xf32>
  %pb = kiln.cast %p : tensor<64x?xf32> to tensor<64x?xbf16>
  // O = P·V
  %acc = kiln.splat %zero : tensor<64x64xf32>
  %out = kiln.dot %pb, %tv, %acc : tensor<64x?xbf16>, tensor<?x64xbf16> -> tensor<64x64xf32>
  %outb = kiln.cast %out : tensor<64x64xf32> to tensor<64x64xbf16>
  kiln.store %do[%row, %c0], %outb : !kiln.desc<bf16, 2>[i32, i32], tensor<64x64xbf16>
  kiln.return
}
