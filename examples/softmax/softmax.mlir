// Row softmax, one program per row, any row length, written over the whole row at once:
// the row is a streamed ('?') tile. kiln-stream-fusion derives the two-sweep online
// softmax from it: one loop over 4096-wide blocks keeps the running maximum and the
// rescaled running sum (the online normalizer), a second one writes exp(x - max) / sum
// (the division needs the final sum, so it cannot join the first sweep).
kiln.func @softmax(%x: !kiln.ptr<f32>, %y: !kiln.ptr<f32>, %rows: i32, %cols: i32,
                   %stride: i32) attributes {grid = ["rows"], stream_block = 4096 : i64} {
  %row = kiln.program_id 0 : i32
  %c0 = arith.constant 0 : i32
  %c1_i64 = arith.constant 1 : i64
  %row_off = arith.muli %row, %stride : i32
  %xrow = kiln.addptr %x, %row_off : !kiln.ptr<f32>, i32 -> !kiln.ptr<f32>
  %yrow = kiln.addptr %y, %row_off : !kiln.ptr<f32>, i32 -> !kiln.ptr<f32>
  %n = arith.extsi %cols : i32 to i64
  %dx = kiln.make_desc %xrow, [%n], [%c1_i64] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %dy = kiln.make_desc %yrow, [%n], [%c1_i64] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %t = kiln.load %dx[%c0] : !kiln.desc<f32, 1>[i32] -> tensor<?xf32>
  %m = kiln.reduce max %t {axis = 0 : i32} : tensor<?xf32> -> f32
  %mt = kiln.splat %m : tensor<?xf32>
  %shifted = arith.subf %t, %mt : tensor<?xf32>
  %e = math.exp %shifted : tensor<?xf32>
  %s = kiln.reduce sum %e {axis = 0 : i32} : tensor<?xf32> -> f32
  %st = kiln.splat %s : tensor<?xf32>
  %p = arith.divf %e, %st : tensor<?xf32>
  kiln.store %dy[%c0], %p : !kiln.desc<f32, 1>[i32], tensor<?xf32>
  kiln.return
}
