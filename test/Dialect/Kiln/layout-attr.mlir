// RUN: kiln-opt %s -split-input-file -verify-diagnostics | FileCheck %s
// RUN: kiln-opt %s -split-input-file -verify-diagnostics | kiln-opt -split-input-file | FileCheck %s
// Layout attributes are parsed, checked and printed canonically by the layout library.

// CHECK-LABEL: kiln.func @layouts
kiln.func @layouts(%x: f16) {
  // Spaces are dropped and an identity swizzle is left out.
  // CHECK: tensor<4x8xf16, #kiln.layout<"(4,8):(8,1)">>
  %a = kiln.splat %x : tensor<4x8xf16, #kiln.layout<"( 4 , 8 ) : ( 8 , 1 )">>
  // CHECK: tensor<64x64xf16, #kiln.layout<"Sw<3,3,3>o(64,64):(64,1)">>
  %b = kiln.splat %x : tensor<64x64xf16, #kiln.layout<"Sw<3,3,3>o(64,64):(64,1)">>
  // Hierarchical shapes: the layout's size (32) matches the tile, not its rank.
  // CHECK: tensor<32xf16, #kiln.layout<"((2,4),4):((1,2),8)">>
  %c = kiln.splat %x : tensor<32xf16, #kiln.layout<"((2,4),4):((1,2),8)">>
  kiln.return
}

// -----

kiln.func @mismatch(%x: f16) {
  // expected-error @+1 {{'kiln.splat' op result layout #kiln.layout<"(4,4):(4,1)"> maps 16 elements but the tile has 32}}
  %a = kiln.splat %x : tensor<4x8xf16, #kiln.layout<"(4,4):(4,1)">>
  kiln.return
}

// -----

kiln.func @shape_stride(%x: f16) {
  // Shape and stride must have the same profile.
  // expected-error @+1 {{invalid layout '(4,8):(1)'}}
  %a = kiln.splat %x : tensor<4x8xf16, #kiln.layout<"(4,8):(1)">>
  kiln.return
}

// -----

kiln.func @syntax(%x: f16) {
  // expected-error @+1 {{invalid layout 'Sw<3,3>o(8,8):(8,1)'}}
  %a = kiln.splat %x : tensor<8x8xf16, #kiln.layout<"Sw<3,3>o(8,8):(8,1)">>
  kiln.return
}

// -----

kiln.func @not_string(%x: f16) {
  // expected-error @+1 {{expected string}}
  %a = kiln.splat %x : tensor<8x8xf16, #kiln.layout<(8,8):(8,1)>>
  kiln.return
}
