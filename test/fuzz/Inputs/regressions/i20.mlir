kiln.func @k(%p: !kiln.ptr<i20>, %n: i64) {
  %one = arith.constant 1 : i64
  %c0 = arith.constant 0 : i32
  %d = kiln.make_desc %p, [%n], [%one] : !kiln.ptr<i20> -> !kiln.desc<i20, 1>
  %t = kiln.load %d[%c0] : !kiln.desc<i20, 1>[i32] -> tensor<128xi20>
  kiln.store %d[%c0], %t : !kiln.desc<i20, 1>[i32], tensor<128xi20>
  kiln.return
}
