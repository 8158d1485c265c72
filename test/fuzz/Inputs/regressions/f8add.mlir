kiln.func @k(%p: !kiln.ptr<f8E5M2>, %n: i64) {
  %one = arith.constant 1 : i64
  %c0 = arith.constant 0 : i32
  %d = kiln.make_desc %p, [%n], [%one] : !kiln.ptr<f8E5M2> -> !kiln.desc<f8E5M2, 1>
  %t = kiln.load %d[%c0] : !kiln.desc<f8E5M2, 1>[i32] -> tensor<128xf8E5M2>
  %s = arith.addf %t, %t : tensor<128xf8E5M2>
  kiln.store %d[%c0], %s : !kiln.desc<f8E5M2, 1>[i32], tensor<128xf8E5M2>
  kiln.return
}
