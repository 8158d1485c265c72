// GPU check kernel: per program 16 rows of a row-major matrix; writes each row's sum and
// maximum, the forward and reverse running sums of the first 16 columns, a reverse scan
// with a non-commutative combiner, and their transpose. Exercises reductions along an axis, tiles smaller than the thread block
// (16 elements over 128 threads: replicated, single-owner stores), scans both ways and
// transposes.
kiln.func @rowstats(%x: !kiln.ptr<f32>, %sums: !kiln.ptr<f32>, %maxs: !kiln.ptr<f32>,
                    %fwd: !kiln.ptr<f32>, %rev: !kiln.ptr<f32>, %tr: !kiln.ptr<f32>,
                    %newest: !kiln.ptr<f32>,
                    %rows: i32, %cols: i32) attributes {grid = ["cdiv(rows, 16)"]} {
  %pid = kiln.program_id 0 : i32
  %c0 = arith.constant 0 : i32
  %c16 = arith.constant 16 : i32
  %one = arith.constant 1 : i64
  %r0 = arith.muli %pid, %c16 : i32
  %m = arith.extsi %rows : i32 to i64
  %n = arith.extsi %cols : i32 to i64
  %dx = kiln.make_desc %x, [%m, %n], [%n, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %ds = kiln.make_desc %sums, [%m], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %dm = kiln.make_desc %maxs, [%m], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %acc0 = kiln.splat %zero : tensor<16xf32>
  %max0 = kiln.splat %ninf : tensor<16xf32>
  %res:2 = scf.for %c = %c0 to %cols step %c16 iter_args(%s = %acc0, %mx = %max0) -> (tensor<16xf32>, tensor<16xf32>) : i32 {
    %t = kiln.load %dx[%r0, %c] : !kiln.desc<f32, 2>[i32, i32] -> tensor<16x16xf32>
    %tm = kiln.load %dx[%r0, %c] {padding = 0xFF800000 : f32} : !kiln.desc<f32, 2>[i32, i32] -> tensor<16x16xf32>
    %bs = kiln.reduce sum %t {axis = 1 : i32} : tensor<16x16xf32> -> tensor<16xf32>
    %bm = kiln.reduce max %tm {axis = 1 : i32} : tensor<16x16xf32> -> tensor<16xf32>
    %s2 = arith.addf %s, %bs : tensor<16xf32>
    %m2 = arith.maximumf %mx, %bm : tensor<16xf32>
    scf.yield %s2, %m2 : tensor<16xf32>, tensor<16xf32>
  }
  %c16_64 = arith.constant 16 : i64
  %dfwd = kiln.make_desc %fwd, [%m, %c16_64], [%c16_64, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %drev = kiln.make_desc %rev, [%m, %c16_64], [%c16_64, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %dtr = kiln.make_desc %tr, [%c16_64, %m], [%m, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %head = kiln.load %dx[%r0, %c0] : !kiln.desc<f32, 2>[i32, i32] -> tensor<16x16xf32>
  %sf = kiln.scan sum %head {axis = 1 : i32} : tensor<16x16xf32> -> tensor<16x16xf32>
  %sr = kiln.scan sum %head {axis = 1 : i32, reverse} : tensor<16x16xf32> -> tensor<16x16xf32>
  // "Keep the newer value" is associative but not commutative: a reverse scan with it
  // must give back each element itself, whatever order a target combines in.
  %keep = kiln.scan %head {axis = 1 : i32, reverse} : tensor<16x16xf32> -> tensor<16x16xf32> combiner {
  ^bb0(%older: f32, %newer: f32):
    kiln.yield %newer : f32
  }
  %dnew = kiln.make_desc %newest, [%m, %c16_64], [%c16_64, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  kiln.store %dnew[%r0, %c0], %keep : !kiln.desc<f32, 2>[i32, i32], tensor<16x16xf32>
  %ht = kiln.transpose %head {order = array<i32: 1, 0>} : tensor<16x16xf32> -> tensor<16x16xf32>
  kiln.store %dfwd[%r0, %c0], %sf : !kiln.desc<f32, 2>[i32, i32], tensor<16x16xf32>
  kiln.store %drev[%r0, %c0], %sr : !kiln.desc<f32, 2>[i32, i32], tensor<16x16xf32>
  kiln.store %dtr[%c0, %r0], %ht : !kiln.desc<f32, 2>[i32, i32], tensor<16x16xf32>
  kiln.store %ds[%r0], %res#0 : !kiln.desc<f32, 1>[i32], tensor<16xf32>
  kiln.store %dm[%r0], %res#1 : !kiln.desc<f32, 1>[i32], tensor<16xf32>
  kiln.return
}
