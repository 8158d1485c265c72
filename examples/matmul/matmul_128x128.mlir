// C = A · B with bf16 inputs and f32 accumulation, tiled for tensor cores: one 128x128
// output tile per program of 256 threads, K swept in 64-wide steps whose A and B blocks
// the compiler copies into shared memory four stages deep. On sm_90a two warpgroups
// issue wgmma (64 rows each); on sm_80 eight warps issue mma.sync (64x32 blocks each).
// Any M, N, K: edge tiles are masked by the descriptors (zero padding makes the masked
// products vanish).
kiln.func @matmul_128x128(%a: !kiln.ptr<bf16>, %b: !kiln.ptr<bf16>, %c: !kiln.ptr<f32>,
                          %M: i32, %N: i32, %K: i32, %lda: i32, %ldb: i32, %ldc: i32)
    attributes {grid = ["cdiv(M, 128)", "cdiv(N, 128)"], num_threads = 256 : i64,
                num_stages = 4 : i64} {
  %pm = kiln.program_id 0 : i32
  %pn = kiln.program_id 1 : i32
  %c0 = arith.constant 0 : i32
  %c64 = arith.constant 64 : i32
  %c128 = arith.constant 128 : i32
  %one = arith.constant 1 : i64
  %m = arith.extsi %M : i32 to i64
  %n = arith.extsi %N : i32 to i64
  %k = arith.extsi %K : i32 to i64
  %sa = arith.extsi %lda : i32 to i64
  %sb = arith.extsi %ldb : i32 to i64
  %sc = arith.extsi %ldc : i32 to i64
  %da = kiln.make_desc %a, [%m, %k], [%sa, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %db = kiln.make_desc %b, [%k, %n], [%sb, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dc = kiln.make_desc %c, [%m, %n], [%sc, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %row = arith.muli %pm, %c128 : i32
  %col = arith.muli %pn, %c128 : i32
  %zero = arith.constant 0.0 : f32
  %acc0 = kiln.splat %zero : tensor<128x128xf32>
  %acc = scf.for %kk = %c0 to %K step %c64 iter_args(%acc_i = %acc0) -> (tensor<128x128xf32>) : i32 {
    %ta = kiln.load %da[%row, %kk] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<128x64xbf16>
    %tb = kiln.load %db[%kk, %col] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<64x128xbf16>
    %next = kiln.dot %ta, %tb, %acc_i : tensor<128x64xbf16>, tensor<64x128xbf16> -> tensor<128x128xf32>
    scf.yield %next : tensor<128x128xf32>
  }
  kiln.store %dc[%row, %col], %acc : !kiln.desc<f32, 2>[i32, i32], tensor<128x128xf32>
  kiln.return
}
