kiln.func @k(%p: !kiln.ptr<f32>, %q: !kiln.ptr<f32>, %c: i1) {
  %r = scf.if %c -> !kiln.ptr<f32> {
    scf.yield %p : !kiln.ptr<f32>
  } else {
    scf.yield %q : !kiln.ptr<f32>
  }
  %x = arith.constant 1.0 : f32
  %o = kiln.atomic_add %r, %x : !kiln.ptr<f32>, f32 -> f32
  kiln.return
}
