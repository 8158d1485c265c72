// A dot whose inner dimensions disagree.
kiln.func @bad(%x: f32) {
  %a = kiln.splat %x : tensor<4x16xf32>
  %b = kiln.dot %a, %a, %a : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>
  kiln.return
}
