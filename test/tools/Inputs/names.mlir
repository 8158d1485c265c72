// Parameter names that a careless launcher would shadow or redeclare.
kiln.func @norm(%g: !kiln.ptr<f32>, %args: i32, %grid_x: i32, %i: i32)
    attributes {grid = ["cdiv(args, 128)", "grid_x", "i"]} {
  kiln.return
}
