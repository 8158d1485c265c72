// Row softmax, one program per row, any row length: the row is streamed in 4096-wide
// tiles with the online normalizer (running max and rescaled running sum), then
// normalised in a second sweep. Tails are masked by the descriptor.
kiln.func @softmax(%x: !kiln.ptr<f32>, %y: !kiln.ptr<f32>, %rows: i32, %cols: i32,
                   %stride: i32) attributes {grid = ["rows"]} {
  %row = kiln.program_id 0 : i32
  %c0 = arith.constant 0 : i32
  %c1_i64 = arith.constant 1 : i64
  %block = arith.constant 4096 : i32
  %neg_inf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %row_off = arith.muli %row, %stride : i32
  %xrow = kiln.addptr %x, %row_off : !kiln.ptr<f32>, i32 -> !kiln.ptr<f32>
  %yrow = kiln.addptr %y, %row_off : !kiln.ptr<f32>, i32 -> !kiln.ptr<f32>
  %n = arith.extsi %cols : i32 to i64
  %dx = kiln.make_desc %xrow, [%n], [%c1_i64] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %dy = kiln.make_desc %yrow, [%n], [%c1_i64] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %stats:2 = scf.for %c = %c0 to %cols step %block iter_args(%m = %neg_inf, %s = %zero) -> (f32, f32) : i32 {
    %t = kiln.load %dx[%c] {padding = 0xFF800000 : f32} : !kiln.desc<f32, 1>[i32] -> tensor<4096xf32>
    %bm = kiln.reduce max %t {axis = 0 : i32} : tensor<4096xf32> -> f32
    %m_new = arith.maximumf %m, %bm : f32
    %mt = kiln.splat %m_new : tensor<4096xf32>
    %shifted = arith.subf %t, %mt : tensor<4096xf32>
    %e = math.exp %shifted : tensor<4096xf32>
    %bs = kiln.reduce sum %e {axis = 0 : i32} : tensor<4096xf32> -> f32
    %dm = arith.subf %m, %m_new : f32
    %scale = math.exp %dm : f32
    %s_scaled = arith.mulf %s, %scale : f32
    %s_new = arith.addf %s_scaled, %bs : f32
    scf.yield %m_new, %s_new : f32, f32
  }
  %mt = kiln.splat %stats#0 : tensor<4096xf32>
  %one = arith.constant 1.0 : f32
  %inv = arith.divf %one, %stats#1 : f32
  %invt = kiln.splat %inv : tensor<4096xf32>
  scf.for %c = %c0 to %cols step %block : i32 {
    %t = kiln.load %dx[%c] : !kiln.desc<f32, 1>[i32] -> tensor<4096xf32>
    %shifted = arith.subf %t, %mt : tensor<4096xf32>
    %e = math.exp %shifted : tensor<4096xf32>
    %p = arith.mulf %e, %invt : tensor<4096xf32>
    kiln.store %dy[%c], %p : !kiln.desc<f32, 1>[i32], tensor<4096xf32>
  }
  kiln.return
}
