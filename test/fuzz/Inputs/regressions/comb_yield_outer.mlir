kiln.func @k(%p: !kiln.ptr<i32>, %s: i32) {
  %x = kiln.iota : tensor<128xi32>
  %r = kiln.reduce %x {axis = 0 : i32} : tensor<128xi32> -> i32 combiner {
  ^bb0(%l: i32, %r: i32):
    kiln.yield %s : i32
  }
  %one = arith.constant 1 : i32
  %old = kiln.atomic_add %p, %r : !kiln.ptr<i32>, i32 -> i32
  kiln.return
}
