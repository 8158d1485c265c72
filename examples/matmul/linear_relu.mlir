// Y = relu(A · B + bias) in bf16: a linear layer with its epilogue fused. bf16 inputs,
// f32 accumulation on tensor cores (128x256 output tiles, K in 64-wide steps copied four
// stages deep); the bias is added, the ReLU applied and the result rounded to bf16 in
// registers before the only store. Any M, N, K: edges are masked by the descriptors.
// Programs walk the output tiles in groups of 16 tile rows, column by column within a
// group, so the programs running together share A's rows and B's columns in L2.
kiln.func @linear_relu(%a: !kiln.ptr<bf16>, %b: !kiln.ptr<bf16>, %bias: !kiln.ptr<f32>,
                       %y: !kiln.ptr<bf16>, %M: i32, %N: i32, %K: i32, %lda: i32, %ldb: i32,
                       %ldy: i32)
    attributes {grid = ["cdiv(M, 128) * cdiv(N, 256)"], num_threads = 256 : i64,
                num_stages = 4 : i64} {
  %pid = kiln.program_id 0 : i32
  %c0 = arith.constant 0 : i32
  %g = arith.constant 16 : i32
  %c127 = arith.constant 127 : i32
  %c255 = arith.constant 255 : i32
  %mpad = arith.addi %M, %c127 : i32
  %npad = arith.addi %N, %c255 : i32
  %cm = arith.constant 128 : i32
  %cn = arith.constant 256 : i32
  %mt = arith.divsi %mpad, %cm : i32
  %nt = arith.divsi %npad, %cn : i32
  %width = arith.muli %g, %nt : i32
  %group = arith.divsi %pid, %width : i32
  %first = arith.muli %group, %g : i32
  %rest = arith.subi %mt, %first : i32
  %gsize = arith.minsi %rest, %g : i32
  %inner = arith.remsi %pid, %width : i32
  %pmi = arith.remsi %inner, %gsize : i32
  %pm = arith.addi %first, %pmi : i32
  %pn = arith.divsi %inner, %gsize : i32
  %c64 = arith.constant 64 : i32
  %c128 = arith.constant 128 : i32
  %c256 = arith.constant 256 : i32
  %one = arith.constant 1 : i64
  %m = arith.extsi %M : i32 to i64
  %n = arith.extsi %N : i32 to i64
  %k = arith.extsi %K : i32 to i64
  %sa = arith.extsi %lda : i32 to i64
  %sb = arith.extsi %ldb : i32 to i64
  %sy = arith.extsi %ldy : i32 to i64
  %da = kiln.make_desc %a, [%m, %k], [%sa, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %db = kiln.make_desc %b, [%k, %n], [%sb, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dbias = kiln.make_desc %bias, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %dy = kiln.make_desc %y, [%m, %n], [%sy, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %row = arith.muli %pm, %c128 : i32
  %col = arith.muli %pn, %c256 : i32
  %zero = arith.constant 0.0 : f32
  %acc0 = kiln.splat %zero : tensor<128x256xf32>
  %acc = scf.for %kk = %c0 to %K step %c64 iter_args(%acc_i = %acc0) -> (tensor<128x256xf32>) : i32 {
    %ta = kiln.load %da[%row, %kk] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<128x64xbf16>
    %tb = kiln.load %db[%kk, %col] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<64x256xbf16>
    %next = kiln.dot %ta, %tb, %acc_i : tensor<128x64xbf16>, tensor<64x256xbf16> -> tensor<128x256xf32>
    scf.yield %next : tensor<128x256xf32>
  }
  %bv = kiln.load %dbias[%col] : !kiln.desc<f32, 1>[i32] -> tensor<256xf32>
  %b2 = kiln.expand_dims %bv {axis = 0 : i32} : tensor<256xf32> -> tensor<1x256xf32>
  %bb = kiln.broadcast %b2 : tensor<1x256xf32> -> tensor<128x256xf32>
  %sum = arith.addf %acc, %bb : tensor<128x256xf32>
  %zeros = kiln.splat %zero : tensor<128x256xf32>
  %act = arith.maximumf %sum, %zeros : tensor<128x256xf32>
  %out = kiln.cast %act : tensor<128x256xf32> to tensor<128x256xbf16>
  kiln.store %dy[%row, %col], %out : !kiln.desc<bf16, 2>[i32, i32], tensor<128x256xbf16>
  kiln.return
}
