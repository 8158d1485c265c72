// Variable-length attention forward: a batch of sequences of different lengths packed
// token-major, as FlashAttention's varlen interface takes them. Q, K, V and O are
// [total, heads, D] (K and V with heads / group heads), `cu_seqlens` holds batch + 1
// cumulative offsets (cu[b] is sequence b's first token, cu[batch] = total), and `lse`
// is [heads, total] f32. One program per 64 query rows of one head of one sequence: the
// grid is laid out for the longest sequence (`max_n`), and a program whose rows lie past
// its sequence's end sees no keys (its rows are masked on store). Written naively over
// all keys, like attention.mlir.in: kiln-stream-fusion derives the blocked recurrence,
// and the causal bound, from the sequence's own length. D = 64.
kiln.func @attention_varlen(%q: !kiln.ptr<bf16>, %k: !kiln.ptr<bf16>, %v: !kiln.ptr<bf16>,
                            %o: !kiln.ptr<bf16>, %lse: !kiln.ptr<f32>,
                            %cu: !kiln.ptr<i32>, %total: i32, %max_n: i32, %batch: i32,
                            %heads: i32, %group: i32, %scale: f32, %causal: i32)
    attributes {grid = ["cdiv(max_n, 64)", "heads", "batch"], num_threads = 128 : i64,
                num_stages = 3 : i64} {
  %pm = kiln.program_id 0 : i32
  %ph = kiln.program_id 1 : i32
  %pb = kiln.program_id 2 : i32
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %c64 = arith.constant 64 : i32
  %one = arith.constant 1 : i64
  %d = arith.constant 64 : i64
  // This sequence's tokens: [cu[b], cu[b + 1]).
  %bn = arith.addi %batch, %c1 : i32
  %bn64 = arith.extsi %bn : i32 to i64
  %dcu = kiln.make_desc %cu, [%bn64], [%one] : !kiln.ptr<i32> -> !kiln.desc<i32, 1>
  %start_t = kiln.load %dcu[%pb] : !kiln.desc<i32, 1>[i32] -> tensor<1xi32>
  %start = kiln.reduce sum %start_t {axis = 0 : i32} : tensor<1xi32> -> i32
  %pb1 = arith.addi %pb, %c1 : i32
  %end_t = kiln.load %dcu[%pb1] : !kiln.desc<i32, 1>[i32] -> tensor<1xi32>
  %end = kiln.reduce sum %end_t {axis = 0 : i32} : tensor<1xi32> -> i32
  %len = arith.subi %end, %start : i32
  %row = arith.muli %pm, %c64 : i32
  // A program past the end of its sequence streams no keys.
  %inside = arith.cmpi slt, %row, %len : i32
  %nkeys = arith.select %inside, %len, %c0 : i32
  %len64 = arith.extsi %len : i32 to i64
  %nk64 = arith.extsi %nkeys : i32 to i64
  // Token-major rows: token t of head h at (t * heads + h) * D.
  %h64 = arith.extsi %heads : i32 to i64
  %qstride = arith.muli %h64, %d : i64
  %kvh = arith.divsi %heads, %group : i32
  %kvh64 = arith.extsi %kvh : i32 to i64
  %kvstride = arith.muli %kvh64, %d : i64
  %start64 = arith.extsi %start : i32 to i64
  %ph64 = arith.extsi %ph : i32 to i64
  %qtok = arith.muli %start64, %h64 : i64
  %qtokh = arith.addi %qtok, %ph64 : i64
  %qoff = arith.muli %qtokh, %d : i64
  %qoff32 = arith.trunci %qoff : i64 to i32
  %kvhead = arith.divsi %ph, %group : i32
  %kvhead64 = arith.extsi %kvhead : i32 to i64
  %ktok = arith.muli %start64, %kvh64 : i64
  %ktokh = arith.addi %ktok, %kvhead64 : i64
  %koff = arith.muli %ktokh, %d : i64
  %koff32 = arith.trunci %koff : i64 to i32
  %qs = kiln.addptr %q, %qoff32 : !kiln.ptr<bf16>, i32 -> !kiln.ptr<bf16>
  %os = kiln.addptr %o, %qoff32 : !kiln.ptr<bf16>, i32 -> !kiln.ptr<bf16>
  %ks = kiln.addptr %k, %koff32 : !kiln.ptr<bf16>, i32 -> !kiln.ptr<bf16>
  %vs = kiln.addptr %v, %koff32 : !kiln.ptr<bf16>, i32 -> !kiln.ptr<bf16>
  %lrow0 = arith.muli %ph, %total : i32
  %lrow = arith.addi %lrow0, %start : i32
  %ls = kiln.addptr %lse, %lrow : !kiln.ptr<f32>, i32 -> !kiln.ptr<f32>
  %dq = kiln.make_desc %qs, [%len64, %d], [%qstride, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dkt = kiln.make_desc %ks, [%d, %nk64], [%one, %kvstride] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dv = kiln.make_desc %vs, [%nk64, %d], [%kvstride, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %do = kiln.make_desc %os, [%len64, %d], [%qstride, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dl = kiln.make_desc %ls, [%len64], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %tq = kiln.load %dq[%row, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<64x64xbf16>
  %tkt = kiln.load %dkt[%c0, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<64x?xbf16>
  %tv = kiln.load %dv[%c0, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<?x64xbf16>
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %z = kiln.splat %zero : tensor<64x?xf32>
  %qk = kiln.dot %tq, %tkt, %z : tensor<64x64xbf16>, tensor<64x?xbf16> -> tensor<64x?xf32>
  %log2e = arith.constant 1.44269504088896340736 : f32
  %scale2 = arith.mulf %scale, %log2e : f32
  %sc = kiln.splat %scale2 : tensor<64x?xf32>
  %s = arith.mulf %qk, %sc fastmath<contract> : tensor<64x?xf32>
  // Causal within the sequence: query row r sees keys 0..r.
  %isc = arith.cmpi ne, %causal, %c0 : i32
  %big = arith.constant 2147483647 : i32
  %lim = arith.select %isc, %c0, %big : i32
  %rows = kiln.iota : tensor<64xi32>
  %rowsp = kiln.splat %row : tensor<64xi32>
  %qidx = arith.addi %rows, %rowsp : tensor<64xi32>
  %lims = kiln.splat %lim : tensor<64xi32>
  %qlim = arith.maxsi %qidx, %lims : tensor<64xi32>
  %qlim2 = kiln.expand_dims %qlim {axis = 1 : i32} : tensor<64xi32> -> tensor<64x1xi32>
  %qlimb = kiln.broadcast %qlim2 : tensor<64x1xi32> -> tensor<64x?xi32>
  %keys = kiln.iota : tensor<?xi32>
  %keys2 = kiln.expand_dims %keys {axis = 0 : i32} : tensor<?xi32> -> tensor<1x?xi32>
  %keysb = kiln.broadcast %keys2 : tensor<1x?xi32> -> tensor<64x?xi32>
  %seen = arith.cmpi sle, %keysb, %qlimb : tensor<64x?xi32>
  %ninfs = kiln.splat %ninf : tensor<64x?xf32>
  %sv = arith.select %seen, %s, %ninfs : tensor<64x?xi1>, tensor<64x?xf32>
  %m = kiln.reduce max %sv {axis = 1 : i32} : tensor<64x?xf32> -> tensor<64xf32>
  %m2 = kiln.expand_dims %m {axis = 1 : i32} : tensor<64xf32> -> tensor<64x1xf32>
  %mb = kiln.broadcast %m2 : tensor<64x1xf32> -> tensor<64x?xf32>
  %sm = arith.subf %sv, %mb fastmath<contract> : tensor<64x?xf32>
  %e = math.exp2 %sm : tensor<64x?xf32>
  %l = kiln.reduce sum %e {axis = 1 : i32} : tensor<64x?xf32> -> tensor<64xf32>
  %l2 = kiln.expand_dims %l {axis = 1 : i32} : tensor<64xf32> -> tensor<64x1xf32>
  %lb = kiln.broadcast %l2 : tensor<64x1xf32> -> tensor<64x?xf32>
  %p = arith.divf %e, %lb : tensor<64x?xf32>
  %pb16 = kiln.cast %p : tensor<64x?xf32> to tensor<64x?xbf16>
  %acc = kiln.splat %zero : tensor<64x64xf32>
  %out = kiln.dot %pb16, %tv, %acc : tensor<64x?xbf16>, tensor<?x64xbf16> -> tensor<64x64xf32>
  %outb = kiln.cast %out : tensor<64x64xf32> to tensor<64x64xbf16>
  kiln.store %do[%row, %c0], %outb : !kiln.desc<bf16, 2>[i32, i32], tensor<64x64xbf16>
  %ln2 = arith.constant 0.69314718055994530942 : f32
  %ln2s = kiln.splat %ln2 : tensor<64xf32>
  %mnat = arith.mulf %m, %ln2s : tensor<64xf32>
  %logl = math.log %l : tensor<64xf32>
  %lrowv = arith.addf %mnat, %logl : tensor<64xf32>
  kiln.store %dl[%row], %lrowv : !kiln.desc<f32, 1>[i32], tensor<64xf32>
  kiln.return
}
