// Fuzzing corpus for the GPU lowering: every op on tiles that divide over 128 threads.
kiln.func @gpu_ops(%p: !kiln.ptr<f32>, %q: !kiln.ptr<i4>, %d: !kiln.desc<bf16, 2>,
                   %n: i32, %x: f32) attributes {grid = ["cdiv(n, 256)"]} {
  %pid = kiln.program_id 0 : i32
  %np = kiln.num_programs 0 : i32
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %i = kiln.iota : tensor<256xi32>
  %s = kiln.splat %pid : tensor<256xi32>
  %offs = arith.addi %s, %i : tensor<256xi32>
  %nn = kiln.splat %n : tensor<256xi32>
  %mask = arith.cmpi slt, %offs, %nn : tensor<256xi32>
  %ptrs = kiln.addptr %p, %offs : !kiln.ptr<f32>, tensor<256xi32> -> tensor<256x!kiln.ptr<f32>>
  %v = kiln.gather %ptrs mask %mask : tensor<256x!kiln.ptr<f32>> -> tensor<256xf32>, tensor<256xi1>
  %e = math.exp %v : tensor<256xf32>
  %m = kiln.reduce max %e {axis = 0 : i32} : tensor<256xf32> -> f32
  %cs = kiln.scan sum %e {axis = 0 : i32} : tensor<256xf32> -> tensor<256xf32>
  kiln.scatter %ptrs, %cs mask %mask : tensor<256x!kiln.ptr<f32>>, tensor<256xf32>, tensor<256xi1>
  %old = kiln.atomic_add %ptrs, %e mask %mask : tensor<256x!kiln.ptr<f32>>, tensor<256xf32>, tensor<256xi1> -> tensor<256xf32>
  %t = kiln.load %d[%c0, %pid] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<16x16xbf16>
  %tt = kiln.transpose %t {order = array<i32: 1, 0>} : tensor<16x16xbf16> -> tensor<16x16xbf16>
  %z = arith.constant 0.0 : f32
  %acc = kiln.splat %z : tensor<16x16xf32>
  %c = kiln.dot %t, %tt, %acc : tensor<16x16xbf16>, tensor<16x16xbf16> -> tensor<16x16xf32>
  %r = kiln.reduce sum %c {axis = 1 : i32} : tensor<16x16xf32> -> tensor<16xf32>
  %re = kiln.expand_dims %r {axis = 1 : i32} : tensor<16xf32> -> tensor<16x1xf32>
  %rb = kiln.broadcast %re : tensor<16x1xf32> -> tensor<16x16xf32>
  %h = kiln.cast %rb : tensor<16x16xf32> to tensor<16x16xbf16>
  kiln.store %d[%pid, %c0], %h : !kiln.desc<bf16, 2>[i32, i32], tensor<16x16xbf16>
  %fl = kiln.reshape %c : tensor<16x16xf32> -> tensor<256xf32>
  %q4 = kiln.cast unsigned %fl : tensor<256xf32> to tensor<256xi4>
  %one = arith.constant 1 : i64
  %n64 = arith.extsi %n : i32 to i64
  %dq = kiln.make_desc %q, [%n64], [%one] : !kiln.ptr<i4> -> !kiln.desc<i4, 1>
  kiln.store %dq[%pid], %q4 : !kiln.desc<i4, 1>[i32], tensor<256xi4>
  %sum = scf.for %k = %c0 to %n step %c1 iter_args(%a = %fl) -> (tensor<256xf32>) : i32 {
    %w = arith.addf %a, %e : tensor<256xf32>
    scf.yield %w : tensor<256xf32>
  }
  kiln.return
}
