kiln.func @k(%p: !kiln.ptr<i13>, %n: i64) {
  %one = arith.constant 1 : i64
  %c0 = arith.constant 0 : i32
  %d = kiln.make_desc %p, [%n], [%one] : !kiln.ptr<i13> -> !kiln.desc<i13, 1>
  %t = kiln.load %d[%c0] : !kiln.desc<i13, 1>[i32] -> tensor<128xi13>
  kiln.store %d[%c0], %t : !kiln.desc<i13, 1>[i32], tensor<128xi13>
  kiln.return
}
