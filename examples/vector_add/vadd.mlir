// Vector add: out[i] = x[i] + y[i], one 1024-element tile per program.
kiln.func @vadd(%x: !kiln.ptr<f32>, %y: !kiln.ptr<f32>, %out: !kiln.ptr<f32>, %n: i32)
    attributes {grid = ["cdiv(n, 1024)"]} {
  %pid = kiln.program_id 0 : i32
  %c1024 = arith.constant 1024 : i32
  %start = arith.muli %pid, %c1024 : i32
  %iota = kiln.iota : tensor<1024xi32>
  %base = kiln.splat %start : tensor<1024xi32>
  %offs = arith.addi %base, %iota : tensor<1024xi32>
  %nt = kiln.splat %n : tensor<1024xi32>
  %mask = arith.cmpi slt, %offs, %nt : tensor<1024xi32>
  %px = kiln.addptr %x, %offs : !kiln.ptr<f32>, tensor<1024xi32> -> tensor<1024x!kiln.ptr<f32>>
  %py = kiln.addptr %y, %offs : !kiln.ptr<f32>, tensor<1024xi32> -> tensor<1024x!kiln.ptr<f32>>
  %po = kiln.addptr %out, %offs : !kiln.ptr<f32>, tensor<1024xi32> -> tensor<1024x!kiln.ptr<f32>>
  %vx = kiln.gather %px mask %mask : tensor<1024x!kiln.ptr<f32>> -> tensor<1024xf32>, tensor<1024xi1>
  %vy = kiln.gather %py mask %mask : tensor<1024x!kiln.ptr<f32>> -> tensor<1024xf32>, tensor<1024xi1>
  %sum = arith.addf %vx, %vy : tensor<1024xf32>
  kiln.scatter %po, %sum mask %mask : tensor<1024x!kiln.ptr<f32>>, tensor<1024xf32>, tensor<1024xi1>
  kiln.return
}
