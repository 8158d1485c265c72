// A transpose of a 256x256 f32 tile exchanges 256 KiB through shared memory: more
// than any NVIDIA block may have.
kiln.func @too_big(%out: !kiln.ptr<f32>) attributes {num_threads = 1024 : i64} {
  %t = kiln.iota : tensor<65536xi32>
  %f = arith.sitofp %t : tensor<65536xi32> to tensor<65536xf32>
  %r = kiln.reshape %f : tensor<65536xf32> -> tensor<256x256xf32>
  %tr = kiln.transpose %r {order = array<i32: 1, 0>} : tensor<256x256xf32> -> tensor<256x256xf32>
  %n = arith.constant 256 : i64
  %one = arith.constant 1 : i64
  %c0 = arith.constant 0 : i32
  %d = kiln.make_desc %out, [%n, %n], [%n, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  kiln.store %d[%c0, %c0], %tr : !kiln.desc<f32, 2>[i32, i32], tensor<256x256xf32>
  kiln.return
}
