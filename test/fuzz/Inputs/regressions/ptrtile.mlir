kiln.func @k(%p: !kiln.ptr<f32>, %q: !kiln.ptr<f32>) {
  %offs = kiln.iota : tensor<16xi32>
  %ptrs = kiln.addptr %p, %offs : !kiln.ptr<f32>, tensor<16xi32> -> tensor<16x!kiln.ptr<f32>>
  %e = kiln.expand_dims %ptrs {axis = 0 : i32} : tensor<16x!kiln.ptr<f32>> -> tensor<1x16x!kiln.ptr<f32>>
  %b = kiln.broadcast %e : tensor<1x16x!kiln.ptr<f32>> -> tensor<4x16x!kiln.ptr<f32>>
  %t = kiln.transpose %b {order = array<i32: 1, 0>} : tensor<4x16x!kiln.ptr<f32>> -> tensor<16x4x!kiln.ptr<f32>>
  %v = kiln.gather %t : tensor<16x4x!kiln.ptr<f32>> -> tensor<16x4xf32>
  %qs = kiln.splat %q : tensor<16x4x!kiln.ptr<f32>>
  kiln.scatter %qs, %v : tensor<16x4x!kiln.ptr<f32>>, tensor<16x4xf32>
  kiln.return
}
