// A file cut off in the middle of a type.
kiln.func @f(%x: f32) {
  %y = kiln.splat %x : tensor<4x