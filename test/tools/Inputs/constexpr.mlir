// A kernel with a compile-time scale.
kiln.func @scale(%x: !kiln.ptr<i32>,
                 %SCALE: i32 {kiln.constexpr}) attributes {grid = ["cdiv(SCALE, 2)"]} {
  %v = kiln.splat %SCALE : tensor<4xi32>
  %i = kiln.iota : tensor<4xi32>
  %p = kiln.addptr %x, %i : !kiln.ptr<i32>, tensor<4xi32> -> tensor<4x!kiln.ptr<i32>>
  kiln.scatter %p, %v : tensor<4x!kiln.ptr<i32>>, tensor<4xi32>
  kiln.return
}
