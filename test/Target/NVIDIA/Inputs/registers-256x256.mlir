// A 256x256 f32 accumulator over 512 threads is 128 registers a thread: all that 512
// threads may have, with nothing left for the MMAs' operands and addresses.
kiln.func @too_wide(%a: !kiln.ptr<bf16>, %b: !kiln.ptr<bf16>, %c: !kiln.ptr<f32>)
    attributes {num_threads = 512 : i64} {
  %n = arith.constant 256 : i64
  %k = arith.constant 64 : i64
  %one = arith.constant 1 : i64
  %c0 = arith.constant 0 : i32
  %da = kiln.make_desc %a, [%n, %k], [%k, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %db = kiln.make_desc %b, [%k, %n], [%n, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dc = kiln.make_desc %c, [%n, %n], [%n, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %ta = kiln.load %da[%c0, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<256x64xbf16>
  %tb = kiln.load %db[%c0, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<64x256xbf16>
  %zero = arith.constant 0.0 : f32
  %acc = kiln.splat %zero : tensor<256x256xf32>
  %r = kiln.dot %ta, %tb, %acc : tensor<256x64xbf16>, tensor<64x256xbf16> -> tensor<256x256xf32>
  kiln.store %dc[%c0, %c0], %r : !kiln.desc<f32, 2>[i32, i32], tensor<256x256xf32>
  kiln.return
}
