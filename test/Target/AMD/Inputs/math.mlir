// tanh and erf have no AMDGPU instruction: they come from the device libraries (ocml).
kiln.func @act(%x: !kiln.ptr<f32>, %n: i32) attributes {grid = ["cdiv(n, 256)"]} {
  %pid = kiln.program_id 0 : i32
  %c256 = arith.constant 256 : i32
  %start = arith.muli %pid, %c256 : i32
  %iota = kiln.iota : tensor<256xi32>
  %base = kiln.splat %start : tensor<256xi32>
  %offs = arith.addi %base, %iota : tensor<256xi32>
  %nt = kiln.splat %n : tensor<256xi32>
  %mask = arith.cmpi slt, %offs, %nt : tensor<256xi32>
  %p = kiln.addptr %x, %offs : !kiln.ptr<f32>, tensor<256xi32> -> tensor<256x!kiln.ptr<f32>>
  %v = kiln.gather %p mask %mask : tensor<256x!kiln.ptr<f32>> -> tensor<256xf32>, tensor<256xi1>
  %t = math.tanh %v : tensor<256xf32>
  %e = math.erf %t : tensor<256xf32>
  kiln.scatter %p, %e mask %mask : tensor<256x!kiln.ptr<f32>>, tensor<256xf32>, tensor<256xi1>
  kiln.return
}
