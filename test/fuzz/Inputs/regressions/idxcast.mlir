kiln.func @k(%p: !kiln.ptr<i32>, %n: i32) {
  %i = kiln.cast %n : i32 to index
  %j = kiln.cast %i : index to i32
  %o = kiln.atomic_add %p, %j : !kiln.ptr<i32>, i32 -> i32
  kiln.return
}
