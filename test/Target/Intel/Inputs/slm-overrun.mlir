// A 512x128 f32 transpose exchanges 256 KiB through workgroup memory; an Intel work-group
// gets 128 KiB of SLM.
kiln.func @big_transpose(%x: !kiln.ptr<f32>, %y: !kiln.ptr<f32>) {
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %rows = arith.constant 512 : i64
  %cols = arith.constant 128 : i64
  %dx = kiln.make_desc %x, [%rows, %cols], [%cols, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %dy = kiln.make_desc %y, [%cols, %rows], [%rows, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %a = kiln.load %dx[%c0, %c0] : !kiln.desc<f32, 2>[i32, i32] -> tensor<512x128xf32>
  %t = kiln.transpose %a {order = array<i32: 1, 0>} : tensor<512x128xf32> -> tensor<128x512xf32>
  kiln.store %dy[%c0, %c0], %t : !kiln.desc<f32, 2>[i32, i32], tensor<128x512xf32>
  kiln.return
}
