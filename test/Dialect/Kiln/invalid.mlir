// RUN: kiln-opt %s -split-input-file -verify-diagnostics
// Every verifier error of the kiln dialect, each with the rule it protects.

// Kernels communicate through memory only, so launchers need no result handling.
// expected-error @+1 {{kernels return nothing}}
kiln.func @returns() -> i32 {
  kiln.return
}

// -----

// Launchers only know how to pass pointers, descriptors and plain scalars.
// expected-error @+1 {{kernel parameters are pointers, descriptors, integers or floats}}
kiln.func @bad_param(%t: tensor<4xf32>) {
  kiln.return
}

// -----

// expected-error @+1 {{integer parameter 0 must be i1, i8, i16, i32 or i64}}
kiln.func @odd_int(%n: i7) {
  kiln.return
}

// -----

// expected-error @+1 {{float parameter 0 must be f16, bf16, f32 or f64}}
kiln.func @odd_float(%x: f8E4M3FN) {
  kiln.return
}

// -----

// Only scalars can be folded into the code at compile time.
// expected-error @+1 {{is marked kiln.constexpr but only scalars can be bound}}
kiln.func @constexpr_ptr(%p: !kiln.ptr<f32> {kiln.constexpr}) {
  kiln.return
}

// -----

// expected-error @+1 {{kiln.constexpr is a unit attribute}}
kiln.func @constexpr_value(%n: i32 {kiln.constexpr = 3}) {
  kiln.return
}

// -----

// A grid rule may only name integer scalar parameters.
// expected-error @+1 {{invalid grid expression: 'm' is not a scalar integer parameter}}
kiln.func @grid_unknown(%n: i32) attributes {grid = ["cdiv(m, 4)"]} {
  kiln.return
}

// -----

// expected-error @+1 {{invalid grid expression: unknown function 'ceil'}}
kiln.func @grid_function(%n: i32) attributes {grid = ["ceil(n)"]} {
  kiln.return
}

// -----

// expected-error @+1 {{grid has 4 entries; expected 1 to 3}}
kiln.func @grid_rank(%n: i32) attributes {grid = ["1", "1", "1", "1"]} {
  kiln.return
}

// -----

// expected-error @+1 {{parameter name 'a' is used twice}}
kiln.func @dup_names(%a: i32, %b: i32) attributes {param_names = ["a", "a"]} {
  kiln.return
}

// -----

// expected-error @+1 {{has 1 parameter names for 2 parameters}}
kiln.func @few_names(%a: i32, %b: i32) attributes {param_names = ["a"]} {
  kiln.return
}

// -----

// expected-error @+1 {{pointee must be a signless integer of 1-8, 16, 32 or 64 bits}}
kiln.func @bad_pointee(%p: !kiln.ptr<index>) {
  kiln.return
}

// -----

// expected-error @+1 {{descriptor rank must be between 1 and 5}}
kiln.func @bad_rank(%d: !kiln.desc<f32, 6>) {
  kiln.return
}

// -----

// expected-error @+1 {{descriptor element must be a signless integer}}
kiln.func @bad_desc_elem(%d: !kiln.desc<complex<f32>, 1>) {
  kiln.return
}

// -----

kiln.func @program_axis() {
  // Grids have three axes.
  // expected-error @+1 {{attribute 'axis' failed to satisfy constraint}}
  %p = kiln.program_id 3 : i32
  kiln.return
}

// -----

kiln.func @iota_rank() {
  // expected-error @+1 {{result must be a 1-D tile}}
  %r = kiln.iota : tensor<4x4xi32>
  kiln.return
}

// -----

kiln.func @iota_overflow() {
  // The values 0..N-1 must fit in the element type.
  // expected-error @+1 {{tile of 512 elements overflows 'i8'}}
  %r = kiln.iota : tensor<512xi8>
  kiln.return
}

// -----

kiln.func @splat_type(%x: f32) {
  // expected-error @+1 {{failed to verify that scalar is the tile's element type}}
  %s = "kiln.splat"(%x) : (f32) -> tensor<4xf16>
  kiln.return
}

// -----

kiln.func @broadcast_rank(%x: f32) {
  %t = kiln.splat %x : tensor<4xf32>
  // expected-error @+1 {{use kiln.expand_dims first}}
  %b = kiln.broadcast %t : tensor<4xf32> -> tensor<2x4xf32>
  kiln.return
}

// -----

kiln.func @broadcast_dim(%x: f32) {
  %t = kiln.splat %x : tensor<2x4xf32>
  // expected-error @+1 {{dimension 0 of size 2 cannot broadcast to 8}}
  %b = kiln.broadcast %t : tensor<2x4xf32> -> tensor<8x4xf32>
  kiln.return
}

// -----

kiln.func @expand_axis(%x: f32) {
  %t = kiln.splat %x : tensor<4xf32>
  // expected-error @+1 {{axis 2 out of range [0, 1]}}
  %e = kiln.expand_dims %t {axis = 2 : i32} : tensor<4xf32> -> tensor<4x1xf32>
  kiln.return
}

// -----

kiln.func @expand_shape(%x: f32) {
  %t = kiln.splat %x : tensor<4xf32>
  // expected-error @+1 {{result shape [4x1] should be [1x4]}}
  %e = kiln.expand_dims %t {axis = 0 : i32} : tensor<4xf32> -> tensor<4x1xf32>
  kiln.return
}

// -----

kiln.func @reshape_size(%x: f32) {
  %t = kiln.splat %x : tensor<4x4xf32>
  // expected-error @+1 {{cannot reshape 16 elements into 8}}
  %r = kiln.reshape %t : tensor<4x4xf32> -> tensor<8xf32>
  kiln.return
}

// -----

kiln.func @transpose_order(%x: f32) {
  %t = kiln.splat %x : tensor<4x8xf32>
  // expected-error @+1 {{order must be a permutation of 0..1}}
  %r = kiln.transpose %t {order = array<i32: 0, 0>} : tensor<4x8xf32> -> tensor<4x8xf32>
  kiln.return
}

// -----

kiln.func @transpose_count(%x: f32) {
  %t = kiln.splat %x : tensor<4x8xf32>
  // expected-error @+1 {{order has 3 entries for a rank-2 tile}}
  %r = kiln.transpose %t {order = array<i32: 0, 1, 2>} : tensor<4x8xf32> -> tensor<4x8xf32>
  kiln.return
}

// -----

kiln.func @transpose_shape(%x: f32) {
  %t = kiln.splat %x : tensor<4x8xf32>
  // expected-error @+1 {{result dimension 0 should be 8}}
  %r = kiln.transpose %t {order = array<i32: 1, 0>} : tensor<4x8xf32> -> tensor<4x8xf32>
  kiln.return
}

// -----

kiln.func @transpose_rank(%x: f32) {
  %t = kiln.splat %x : tensor<4x8xf32>
  // expected-error @+1 {{result rank differs from input rank}}
  %r = kiln.transpose %t {order = array<i32: 1, 0>} : tensor<4x8xf32> -> tensor<32xf32>
  kiln.return
}

// -----

kiln.func @cast_shape(%x: f32) {
  %t = kiln.splat %x : tensor<4xf32>
  // expected-error @+1 {{input and result must both be scalars or tiles of one shape}}
  %c = kiln.cast %t : tensor<4xf32> to tensor<8xf16>
  kiln.return
}

// -----

kiln.func @cast_type(%x: f32) {
  // expected-error @+1 {{cannot cast 'f32' to 'complex<f32>'}}
  %c = kiln.cast %x : f32 to complex<f32>
  kiln.return
}

// -----

kiln.func @cast_unsigned(%x: f32) {
  // Signedness only means something for integers.
  // expected-error @+1 {{'unsigned' needs an integer on one side}}
  %c = kiln.cast unsigned %x : f32 to f16
  kiln.return
}

// -----

kiln.func @desc_type(%p: !kiln.ptr<f16>, %n: i64) {
  // expected-error @+1 {{pointer to 'f16' cannot describe elements of 'f32'}}
  %d = kiln.make_desc %p, [%n], [%n] : !kiln.ptr<f16> -> !kiln.desc<f32, 1>
  kiln.return
}

// -----

kiln.func @desc_rank(%p: !kiln.ptr<f32>, %n: i64) {
  // expected-error @+1 {{a rank-2 descriptor needs 2 sizes and strides, got 1 and 1}}
  %d = kiln.make_desc %p, [%n], [%n] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  kiln.return
}

// -----

kiln.func @load_offsets(%d: !kiln.desc<f32, 2>, %i: i32) {
  // expected-error @+1 {{needs 2 offsets for a rank-2 descriptor, got 1}}
  %t = kiln.load %d[%i] : !kiln.desc<f32, 2>[i32] -> tensor<4x4xf32>
  kiln.return
}

// -----

kiln.func @load_rank(%d: !kiln.desc<f32, 2>, %i: i32) {
  // expected-error @+1 {{tile rank 1 differs from descriptor rank 2}}
  %t = kiln.load %d[%i, %i] : !kiln.desc<f32, 2>[i32, i32] -> tensor<4xf32>
  kiln.return
}

// -----

kiln.func @load_elem(%d: !kiln.desc<f32, 1>, %i: i32) {
  // expected-error @+1 {{tile element type 'f16' differs from descriptor element type 'f32'}}
  %t = kiln.load %d[%i] : !kiln.desc<f32, 1>[i32] -> tensor<4xf16>
  kiln.return
}

// -----

kiln.func @load_padding(%d: !kiln.desc<f32, 1>, %i: i32) {
  // expected-error @+1 {{padding of type 'i32' does not match element type 'f32'}}
  %t = kiln.load %d[%i] {padding = 0 : i32} : !kiln.desc<f32, 1>[i32] -> tensor<4xf32>
  kiln.return
}

// -----

kiln.func @load_padding_kind(%d: !kiln.desc<f32, 1>, %i: i32) {
  // expected-error @+1 {{padding must be an integer or float constant}}
  %t = kiln.load %d[%i] {padding = dense<0.0> : tensor<1xf32>} : !kiln.desc<f32, 1>[i32] -> tensor<4xf32>
  kiln.return
}

// -----

kiln.func @store_rank(%d: !kiln.desc<f32, 2>, %i: i32, %x: f32) {
  %t = kiln.splat %x : tensor<4xf32>
  // expected-error @+1 {{tile rank 1 differs from descriptor rank 2}}
  kiln.store %d[%i, %i], %t : !kiln.desc<f32, 2>[i32, i32], tensor<4xf32>
  kiln.return
}

// -----

kiln.func @addptr_pointee(%p: !kiln.ptr<f32>, %i: i32) {
  // expected-error @+1 {{result must point to 'f32'}}
  %q = kiln.addptr %p, %i : !kiln.ptr<f32>, i32 -> !kiln.ptr<f16>
  kiln.return
}

// -----

kiln.func @addptr_shapes(%p: !kiln.ptr<f32>) {
  %a = kiln.iota : tensor<4xi32>
  %b = kiln.iota : tensor<8xi32>
  %pa = kiln.addptr %p, %a : !kiln.ptr<f32>, tensor<4xi32> -> tensor<4x!kiln.ptr<f32>>
  // expected-error @+1 {{pointer tile [4] and offset tile [8] differ in shape}}
  %pb = kiln.addptr %pa, %b : tensor<4x!kiln.ptr<f32>>, tensor<8xi32> -> tensor<4x!kiln.ptr<f32>>
  kiln.return
}

// -----

kiln.func @addptr_result(%p: !kiln.ptr<f32>) {
  %a = kiln.iota : tensor<4xi32>
  // expected-error @+1 {{result shape should be [4]}}
  %pa = kiln.addptr %p, %a : !kiln.ptr<f32>, tensor<4xi32> -> !kiln.ptr<f32>
  kiln.return
}

// -----

kiln.func @addptr_packed(%p: !kiln.ptr<i4>) {
  %a = kiln.iota : tensor<4xi32>
  // Packed elements have no byte address of their own.
  // expected-error @+1 {{pointers to sub-byte 'i4' cannot be advanced}}
  %pa = kiln.addptr %p, %a : !kiln.ptr<i4>, tensor<4xi32> -> tensor<4x!kiln.ptr<i4>>
  kiln.return
}

// -----

kiln.func @addptr_packed_scalar(%p: !kiln.ptr<i2>, %i: i32) {
  // expected-error @+1 {{pointers to sub-byte 'i2' cannot be advanced}}
  %q = kiln.addptr %p, %i : !kiln.ptr<i2>, i32 -> !kiln.ptr<i2>
  kiln.return
}

// -----

kiln.func @gather_result(%p: !kiln.ptr<f32>) {
  %a = kiln.iota : tensor<4xi32>
  %pa = kiln.addptr %p, %a : !kiln.ptr<f32>, tensor<4xi32> -> tensor<4x!kiln.ptr<f32>>
  // expected-error @+1 {{result should be a [4] tile of 'f32'}}
  %v = kiln.gather %pa : tensor<4x!kiln.ptr<f32>> -> tensor<4xf16>
  kiln.return
}

// -----

kiln.func @gather_mask(%p: !kiln.ptr<f32>, %b: i1) {
  %a = kiln.iota : tensor<4xi32>
  %pa = kiln.addptr %p, %a : !kiln.ptr<f32>, tensor<4xi32> -> tensor<4x!kiln.ptr<f32>>
  %m = kiln.splat %b : tensor<8xi1>
  // expected-error @+1 {{mask shape [8] differs from pointer shape [4]}}
  %v = kiln.gather %pa mask %m : tensor<4x!kiln.ptr<f32>> -> tensor<4xf32>, tensor<8xi1>
  kiln.return
}

// -----

kiln.func @gather_other(%p: !kiln.ptr<f32>, %x: f32) {
  %a = kiln.iota : tensor<4xi32>
  %pa = kiln.addptr %p, %a : !kiln.ptr<f32>, tensor<4xi32> -> tensor<4x!kiln.ptr<f32>>
  %o = kiln.splat %x : tensor<4xf32>
  // Without a mask every lane loads, so a fallback value would never be used.
  // expected-error @+1 {{'other' needs a mask}}
  %v = "kiln.gather"(%pa, %o) {operandSegmentSizes = array<i32: 1, 0, 1>} : (tensor<4x!kiln.ptr<f32>>, tensor<4xf32>) -> tensor<4xf32>
  kiln.return
}

// -----

kiln.func @scatter_value(%p: !kiln.ptr<f32>, %x: f16) {
  %a = kiln.iota : tensor<4xi32>
  %pa = kiln.addptr %p, %a : !kiln.ptr<f32>, tensor<4xi32> -> tensor<4x!kiln.ptr<f32>>
  %v = kiln.splat %x : tensor<4xf16>
  // expected-error @+1 {{value should be a [4] tile of 'f32'}}
  kiln.scatter %pa, %v : tensor<4x!kiln.ptr<f32>>, tensor<4xf16>
  kiln.return
}

// -----

kiln.func @atomic_value(%p: !kiln.ptr<f32>, %x: f32) {
  %a = kiln.iota : tensor<4xi32>
  %pa = kiln.addptr %p, %a : !kiln.ptr<f32>, tensor<4xi32> -> tensor<4x!kiln.ptr<f32>>
  // expected-error @+1 {{value must be a tile [4] of 'f32'}}
  %o = kiln.atomic_add %pa, %x : tensor<4x!kiln.ptr<f32>>, f32 -> f32
  kiln.return
}

// -----

kiln.func @atomic_type(%p: !kiln.ptr<i8>, %x: i8) {
  // Hardware atomics exist for these widths only.
  // expected-error @+1 {{atomic add supports f32, f16, bf16, i32 and i64, got 'i8'}}
  %o = kiln.atomic_add %p, %x : !kiln.ptr<i8>, i8 -> i8
  kiln.return
}

// -----

kiln.func @atomic_result(%p: !kiln.ptr<f32>, %x: f32) {
  // expected-error @+1 {{result must have the value's type 'f32'}}
  %o = kiln.atomic_add %p, %x : !kiln.ptr<f32>, f32 -> f16
  kiln.return
}

// -----

kiln.func @atomic_mask(%p: !kiln.ptr<f32>, %x: f32, %b: i1) {
  %m = kiln.splat %b : tensor<4xi1>
  // expected-error @+1 {{mask must be a tile exactly when the pointers are}}
  %o = kiln.atomic_add %p, %x mask %m : !kiln.ptr<f32>, f32, tensor<4xi1> -> f32
  kiln.return
}

// -----

kiln.func @dot_rank(%x: f32) {
  %a = kiln.splat %x : tensor<4xf32>
  // expected-error @+1 {{operands must all be 2-D, or all 3-D (batched)}}
  %c = kiln.dot %a, %a, %a : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  kiln.return
}

// -----

kiln.func @dot_k(%x: f32) {
  %a = kiln.splat %x : tensor<4x8xf32>
  %b = kiln.splat %x : tensor<4x4xf32>
  %c = kiln.splat %x : tensor<4x4xf32>
  // expected-error @+1 {{K of a (8) differs from K of b (4)}}
  %d = kiln.dot %a, %b, %c : tensor<4x8xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  kiln.return
}

// -----

kiln.func @dot_acc(%x: f32) {
  %a = kiln.splat %x : tensor<4x8xf32>
  %b = kiln.splat %x : tensor<8x4xf32>
  %c = kiln.splat %x : tensor<4x8xf32>
  // expected-error @+1 {{accumulator shape [4x8] should be 4x4}}
  %d = kiln.dot %a, %b, %c : tensor<4x8xf32>, tensor<8x4xf32> -> tensor<4x8xf32>
  kiln.return
}

// -----

kiln.func @dot_batch(%x: f32) {
  %a = kiln.splat %x : tensor<2x4x8xf32>
  %b = kiln.splat %x : tensor<3x8x4xf32>
  %c = kiln.splat %x : tensor<2x4x4xf32>
  // expected-error @+1 {{batch sizes differ}}
  %d = kiln.dot %a, %b, %c : tensor<2x4x8xf32>, tensor<3x8x4xf32> -> tensor<2x4x4xf32>
  kiln.return
}

// -----

kiln.func @dot_mixed(%x: f32, %h: f16) {
  %a = kiln.splat %x : tensor<4x8xf32>
  %b = kiln.splat %h : tensor<8x4xf16>
  %c = kiln.splat %x : tensor<4x4xf32>
  // expected-error @+1 {{a and b element types differ: 'f32' vs 'f16'}}
  %d = kiln.dot %a, %b, %c : tensor<4x8xf32>, tensor<8x4xf16> -> tensor<4x4xf32>
  kiln.return
}

// -----

kiln.func @dot_bf16_acc(%h: bf16) {
  %a = kiln.splat %h : tensor<4x8xbf16>
  %b = kiln.splat %h : tensor<8x4xbf16>
  %c = kiln.splat %h : tensor<4x4xbf16>
  // Accumulating in bf16 loses most of the product's bits.
  // expected-error @+1 {{accumulator 'bf16' cannot accumulate 'bf16' products; use f32}}
  %d = kiln.dot %a, %b, %c : tensor<4x8xbf16>, tensor<8x4xbf16> -> tensor<4x4xbf16>
  kiln.return
}

// -----

kiln.func @dot_int(%i: i16, %z: i32) {
  %a = kiln.splat %i : tensor<4x8xi16>
  %b = kiln.splat %i : tensor<8x4xi16>
  %c = kiln.splat %z : tensor<4x4xi32>
  // expected-error @+1 {{integer dot needs signed inputs of 2 to 8 bits and an i32 accumulator}}
  %d = kiln.dot %a, %b, %c : tensor<4x8xi16>, tensor<8x4xi16> -> tensor<4x4xi32>
  kiln.return
}

// -----

kiln.func @reduce_axis(%x: f32) {
  %t = kiln.splat %x : tensor<4xf32>
  // expected-error @+1 {{axis 1 out of range for a rank-1 tile}}
  %r = kiln.reduce sum %t {axis = 1 : i32} : tensor<4xf32> -> f32
  kiln.return
}

// -----

kiln.func @reduce_result(%x: f32) {
  %t = kiln.splat %x : tensor<4x8xf32>
  // expected-error @+1 {{result type should be 'tensor<4xf32>'}}
  %r = kiln.reduce sum %t {axis = 1 : i32} : tensor<4x8xf32> -> tensor<8xf32>
  kiln.return
}

// -----

kiln.func @reduce_none(%x: f32) {
  %t = kiln.splat %x : tensor<4xf32>
  // expected-error @+1 {{needs exactly one of a built-in kind or a combiner region}}
  %r = kiln.reduce %t {axis = 0 : i32} : tensor<4xf32> -> f32
  kiln.return
}

// -----

kiln.func @reduce_both(%x: f32) {
  %t = kiln.splat %x : tensor<4xf32>
  // expected-error @+1 {{needs exactly one of a built-in kind or a combiner region}}
  %r = kiln.reduce sum %t {axis = 0 : i32} : tensor<4xf32> -> f32 combiner {
  ^bb0(%a: f32, %b: f32):
    kiln.yield %a : f32
  }
  kiln.return
}

// -----

kiln.func @reduce_kind(%x: f32) {
  %t = kiln.splat %x : tensor<4xf32>
  // expected-error @+1 {{unknown combiner 'avg'}}
  %r = kiln.reduce avg %t {axis = 0 : i32} : tensor<4xf32> -> f32
  kiln.return
}

// -----

kiln.func @reduce_args(%x: f32) {
  %t = kiln.splat %x : tensor<4xf32>
  // expected-error @+1 {{combiner must take two 'f32' arguments}}
  %r = kiln.reduce %t {axis = 0 : i32} : tensor<4xf32> -> f32 combiner {
  ^bb0(%a: f32):
    kiln.yield %a : f32
  }
  kiln.return
}

// -----

kiln.func @reduce_yield(%x: f32) {
  %t = kiln.splat %x : tensor<4xf32>
  // expected-error @+1 {{combiner must yield one 'f32'}}
  %r = kiln.reduce %t {axis = 0 : i32} : tensor<4xf32> -> f32 combiner {
  ^bb0(%a: f32, %b: f32):
    kiln.yield %a, %b : f32, f32
  }
  kiln.return
}

// -----

kiln.func @reduce_blocks(%x: f32) {
  %t = kiln.splat %x : tensor<4xf32>
  // expected-error @+1 {{combiner must have one block}}
  %r = kiln.reduce %t {axis = 0 : i32} : tensor<4xf32> -> f32 combiner {
  ^bb0(%a: f32, %b: f32):
    cf.br ^bb1
  ^bb1:
    kiln.yield %a : f32
  }
  kiln.return
}

// -----

kiln.func @reduce_impure(%x: f32, %p: !kiln.ptr<f32>) {
  %t = kiln.splat %x : tensor<4xf32>
  // The order of combination is unspecified, so side effects would be too.
  %r = kiln.reduce %t {axis = 0 : i32} : tensor<4xf32> -> f32 combiner {
  ^bb0(%a: f32, %b: f32):
    // expected-error @+1 {{is not allowed in a combiner: combiners must be pure}}
    %o = kiln.atomic_add %p, %a : !kiln.ptr<f32>, f32 -> f32
    kiln.yield %o : f32
  }
  kiln.return
}

// -----

kiln.func @reduce_ptr(%p: !kiln.ptr<f32>) {
  %a = kiln.iota : tensor<4xi32>
  %pa = kiln.addptr %p, %a : !kiln.ptr<f32>, tensor<4xi32> -> tensor<4x!kiln.ptr<f32>>
  // expected-error @+1 {{combines integer or float elements, got '!kiln.ptr<f32>'}}
  %r = kiln.reduce sum %pa {axis = 0 : i32} : tensor<4x!kiln.ptr<f32>> -> !kiln.ptr<f32>
  kiln.return
}

// -----

kiln.func @scan_result(%x: f32) {
  %t = kiln.splat %x : tensor<4xf32>
  // expected-error @+1 {{result type should be 'tensor<4xf32>'}}
  %r = kiln.scan sum %t {axis = 0 : i32} : tensor<4xf32> -> tensor<4xf16>
  kiln.return
}

// -----

kiln.func @yield_parent(%x: f32) {
  // expected-error @+1 {{expects parent op to be one of 'kiln.reduce, kiln.scan'}}
  kiln.yield %x : f32
}

// -----

func.func @return_parent() {
  // expected-error @+1 {{expects parent op 'kiln.func'}}
  kiln.return
}

// -----

kiln.func @reduce_capture(%x: f32, %s: f32) {
  %t = kiln.splat %x : tensor<4xf32>
  %r = kiln.reduce %t {axis = 0 : i32} : tensor<4xf32> -> f32 combiner {
  ^bb0(%a: f32, %b: f32):
    // Combiners run far from where they are written: only their arguments are visible.
    // expected-error @+1 {{uses a value from outside the combiner; combiners may only use their two arguments}}
    kiln.yield %s : f32
  }
  kiln.return
}

// -----

kiln.func @reduce_f8(%x: f32) {
  %f = kiln.splat %x : tensor<4xf32>
  %t = kiln.cast %f : tensor<4xf32> to tensor<4xf8E4M3FN>
  // expected-error @+1 {{8-bit floats are a storage format: kiln.cast the tile to f16, bf16 or f32 before combining}}
  %r = kiln.reduce max %t {axis = 0 : i32} : tensor<4xf8E4M3FN> -> f8E4M3FN
  kiln.return
}

// -----

kiln.func @reduce_empty_combiner(%x: f32) {
  %t = kiln.splat %x : tensor<4xf32>
  // expected-error @+1 {{combiner must yield one 'f32'}}
  %r = kiln.reduce %t {axis = 0 : i32} : tensor<4xf32> -> f32 combiner {
  ^bb0(%a: f32, %b: f32):
  }
  kiln.return
}

// -----

// Launchers are generated in C, so names must be C identifiers.
// expected-error @+1 {{kernel name 'int' must be a C identifier}}
kiln.func @int() {
  kiln.return
}

// -----

// expected-error @+1 {{parameter name 'kiln_g' must be a C identifier}}
kiln.func @names(%kiln_g: i32) {
  kiln.return
}

// -----

kiln.func @dot_bool(%i: i1, %z: i32) {
  %a = kiln.splat %i : tensor<4x8xi1>
  %b = kiln.splat %i : tensor<8x4xi1>
  %c = kiln.splat %z : tensor<4x4xi32>
  // expected-error @+1 {{integer dot needs signed inputs of 2 to 8 bits and an i32 accumulator}}
  %d = kiln.dot %a, %b, %c : tensor<4x8xi1>, tensor<8x4xi1> -> tensor<4x4xi32>
  kiln.return
}

// -----

// expected-error @+1 {{kernel parameters are pointers, descriptors, integers or floats}}
kiln.func @tile_param(%x: tensor<?xf32>) {
  kiln.return
}

// -----

// Grid rules are evaluated with checked 64-bit arithmetic.
// expected-error @+1 {{invalid grid expression: arithmetic overflows 64 bits}}
kiln.func @grid_overflow(%n: i32) attributes {grid = ["999999999999999 * 999999999999999"]} {
  kiln.return
}

// -----

// A program runs as whole warps, and no vendor allows more than 1024 threads per block.
// expected-error @+1 {{num_threads must be a multiple of 32 between 32 and 1024, got 100}}
kiln.func @threads(%n: i32) attributes {num_threads = 100} {
  kiln.return
}

// -----

// expected-error @+1 {{num_stages must be between 1 and 8, got 0}}
kiln.func @stages(%n: i32) attributes {num_stages = 0} {
  kiln.return
}

// -----

// expected-error @+1 {{stream_block must be between 1 and 65536, got 0}}
kiln.func @stream_block(%n: i32) attributes {stream_block = 0} {
  kiln.return
}

// -----

// expected-error @+1 {{min_programs_per_sm must be between 1 and 32, got 33}}
kiln.func @occupancy(%n: i32) attributes {min_programs_per_sm = 33} {
  kiln.return
}

// -----

// expected-error @+1 {{cluster must be between 1 and 16 thread blocks, got 32}}
kiln.func @cluster(%n: i32) attributes {cluster = 32} {
  kiln.return
}
