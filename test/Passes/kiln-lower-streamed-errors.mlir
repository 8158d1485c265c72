// Code generation takes static tiles only; kilnc runs kiln-stream-fusion first.
// RUN: kiln-opt %s -kiln-lower-to-host -verify-diagnostics
// RUN: kiln-opt %s -kiln-lower-to-gpu -verify-diagnostics

kiln.func @streamed(%x: !kiln.ptr<f32>, %n: i64) {
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %d = kiln.make_desc %x, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  // expected-error @+1 {{produces the streamed tile 'tensor<?xf32>'; run kiln-stream-fusion first (kilnc does) to tile the streamed axis into blocks}}
  %t = kiln.load %d[%c0] : !kiln.desc<f32, 1>[i32] -> tensor<?xf32>
  kiln.store %d[%c0], %t : !kiln.desc<f32, 1>[i32], tensor<?xf32>
  kiln.return
}
