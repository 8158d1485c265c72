kiln.func @k(%p: !kiln.ptr<f32>) {
  %offs = kiln.iota : tensor<128xi32>
  %ptrs = kiln.addptr %p, %offs : !kiln.ptr<f32>, tensor<128xi32> -> tensor<128x!kiln.ptr<f32>>
  %t = kiln.reshape %ptrs : tensor<128x!kiln.ptr<f32>> -> tensor<1x128x!kiln.ptr<f32>>
  %b = kiln.broadcast %t : tensor<1x128x!kiln.ptr<f32>> -> tensor<2x128x!kiln.ptr<f32>>
  %v = kiln.gather %b : tensor<2x128x!kiln.ptr<f32>> -> tensor<2x128xf32>
  kiln.scatter %b, %v : tensor<2x128x!kiln.ptr<f32>>, tensor<2x128xf32>
  kiln.return
}
