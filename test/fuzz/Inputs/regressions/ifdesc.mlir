kiln.func @k(%a: !kiln.desc<f32, 1>, %b: !kiln.desc<f32, 1>, %c: i1) {
  %d = scf.if %c -> !kiln.desc<f32, 1> {
    scf.yield %a : !kiln.desc<f32, 1>
  } else {
    scf.yield %b : !kiln.desc<f32, 1>
  }
  %z = arith.constant 0 : i32
  %t = kiln.load %d[%z] : !kiln.desc<f32, 1>[i32] -> tensor<128xf32>
  kiln.store %a[%z], %t : !kiln.desc<f32, 1>[i32], tensor<128xf32>
  kiln.return
}
