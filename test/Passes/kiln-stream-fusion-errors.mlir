// RUN: kiln-opt %s -split-input-file -kiln-stream-fusion -verify-diagnostics

kiln.func @product(%x: !kiln.ptr<f32>, %n: i64) {
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %d = kiln.make_desc %x, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %t = kiln.load %d[%c0] : !kiln.desc<f32, 1>[i32] -> tensor<?xf32>
  // expected-error @+1 {{reduces a streamed axis with prod; streamed reductions are sum, max or min}}
  %p = kiln.reduce prod %t {axis = 0 : i32} : tensor<?xf32> -> f32
  kiln.return
}

// -----

kiln.func @scan(%x: !kiln.ptr<f32>, %n: i64) {
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %d = kiln.make_desc %x, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %t = kiln.load %d[%c0] : !kiln.desc<f32, 1>[i32] -> tensor<?xf32>
  %s = kiln.reduce sum %t {axis = 0 : i32} : tensor<?xf32> -> f32
  %st = kiln.splat %s : tensor<16xf32>
  // A scan along the stream would carry a prefix between blocks: not supported.
  // expected-error @+1 {{'kiln.scan' op operand #0 must be statically shaped tensor}}
  %c = kiln.scan sum %t {axis = 0 : i32} : tensor<?xf32> -> tensor<?xf32>
  kiln.return
}

// -----

kiln.func @nested(%x: !kiln.ptr<f32>, %n: i64, %flag: i1) {
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %d = kiln.make_desc %x, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %t = kiln.load %d[%c0] : !kiln.desc<f32, 1>[i32] -> tensor<?xf32>
  // expected-error @+1 {{uses a streamed ('?') tile inside a region; streamed tiles must be at the top level of the kernel}}
  scf.if %flag {
    kiln.store %d[%c0], %t : !kiln.desc<f32, 1>[i32], tensor<?xf32>
  }
  kiln.return
}

// -----

kiln.func @two_axes(%x: !kiln.ptr<f32>, %n: i64) {
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %d = kiln.make_desc %x, [%n, %n], [%n, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  // expected-error @+1 {{has more than one streamed ('?') dimension}}
  %t = kiln.load %d[%c0, %c0] : !kiln.desc<f32, 2>[i32, i32] -> tensor<?x?xf32>
  kiln.return
}

// -----

// expected-error @+1 {{has streamed ('?') tiles but no streamed load gives the stream's extent}}
kiln.func @no_extent(%y: !kiln.ptr<i32>) {
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %i = kiln.iota : tensor<?xi32>
  %s = kiln.reduce sum %i {axis = 0 : i32} : tensor<?xi32> -> i32
  kiln.return
}

// -----

kiln.func @escape(%x: !kiln.ptr<f32>, %n: i64) {
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %d = kiln.make_desc %x, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %t = kiln.load %d[%c0] : !kiln.desc<f32, 1>[i32] -> tensor<?xf32>
  // Only reductions, contractions and stores turn streamed tiles into something else.
  %c0i = arith.constant 0 : index
  // expected-error @+1 {{uses a streamed ('?') tile but is not a reduction along the streamed axis, a contraction over it or a store}}
  %r = tensor.dim %t, %c0i : tensor<?xf32>
  kiln.return
}

// -----

kiln.func @leftover(%x: !kiln.ptr<f32>, %n: i64) {
  %c0 = arith.constant 0 : i32
  %one = arith.constant 1 : i64
  %d = kiln.make_desc %x, [%n], [%one] : !kiln.ptr<f32> -> !kiln.desc<f32, 1>
  %t = kiln.load %d[%c0] : !kiln.desc<f32, 1>[i32] -> tensor<?xf32>
  // Code generation needs static tiles: a streamed one left over is diagnosed there.
  // expected-error @+1 {{'kiln.reshape' op operand #0 must be statically shaped tensor}}
  %r = kiln.reshape %t : tensor<?xf32> -> tensor<16xf32>
  kiln.return
}
