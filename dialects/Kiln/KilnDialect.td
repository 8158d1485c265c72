//===- KilnDialect.td - the kiln tile dialect ------------------*- tablegen -*-===//
#ifndef KILN_DIALECT_TD
#define KILN_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Kiln_Dialect : Dialect {
  let name = "kiln";
  let cppNamespace = "::mlir::kiln";
  let summary = "Kiln's target-neutral tile dialect";
  let description = [{
    A kernel is a `kiln.func` run once per program instance of a grid. Its values are
    scalars and *tiles*: statically shaped `tensor`s owned by one program instance.
    Memory is reached through `!kiln.ptr<T>` (scalar pointers and tiles of pointers,
    for gathers and scatters) and through `!kiln.desc<T, R>` tensor descriptors that
    carry a shape and strides, so block loads and stores are bounds-masked.
    Elementwise math uses `arith` and `math` directly on tiles; loops are `scf.for`
    carrying tiles. Element types include every integer width from 1 to 64 bits, so
    packed low-bit weights are first-class.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect"];
}

class Kiln_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kiln_Dialect, mnemonic, traits>;

#endif
