kiln.func @k(%p: !kiln.ptr<i32>) {
  %ptrs = kiln.splat %p : tensor<128x!kiln.ptr<i32>>
  %q = kiln.reduce %ptrs {axis = 0 : i32} : tensor<128x!kiln.ptr<i32>> -> !kiln.ptr<i32> combiner {
  ^bb0(%l: !kiln.ptr<i32>, %r: !kiln.ptr<i32>):
    kiln.yield %l : !kiln.ptr<i32>
  }
  %one = arith.constant 1 : i32
  %o = kiln.atomic_add %q, %one : !kiln.ptr<i32>, i32 -> i32
  kiln.return
}
