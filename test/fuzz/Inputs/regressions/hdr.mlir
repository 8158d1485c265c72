kiln.func @norm(%x: !kiln.ptr<f32>, %g: !kiln.ptr<f32>, %args: i32, %n: i32) attributes {grid = ["cdiv(n, 128)"]} {
  kiln.return
}
kiln.func @dotted(%x.y: !kiln.ptr<f32>, %int: i32) {
  kiln.return
}
