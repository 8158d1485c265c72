kiln.func @k(%p: !kiln.ptr<f8E4M3FN>, %q: !kiln.ptr<f32>, %n: i64) {
  %one = arith.constant 1 : i64
  %c0 = arith.constant 0 : i32
  %d = kiln.make_desc %p, [%n], [%one] : !kiln.ptr<f8E4M3FN> -> !kiln.desc<f8E4M3FN, 1>
  %t = kiln.load %d[%c0] : !kiln.desc<f8E4M3FN, 1>[i32] -> tensor<128xf8E4M3FN>
  %m = kiln.reduce max %t {axis = 0 : i32} : tensor<128xf8E4M3FN> -> f8E4M3FN
  %f = kiln.cast %m : f8E4M3FN to f32
  %o = kiln.atomic_add %q, %f : !kiln.ptr<f32>, f32 -> f32
  kiln.return
}
