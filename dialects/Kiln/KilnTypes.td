//===- KilnTypes.td - pointer and descriptor types -------------*- tablegen -*-===//
#ifndef KILN_TYPES_TD
#define KILN_TYPES_TD

include "KilnDialect.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

class Kiln_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Kiln_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def Kiln_PtrType : Kiln_Type<"Ptr", "ptr"> {
  let summary = "pointer to elements in global memory";
  let description = [{
    A pointer to elements of `pointee` in global memory. Any integer width from 1 to
    64 bits and every float type is a legal pointee; sub-byte elements are packed
    little-endian inside bytes, and pointer arithmetic counts elements.

    ```mlir
    !kiln.ptr<f16>
    !kiln.ptr<i4>
    ```
  }];
  let parameters = (ins "Type":$pointee);
  let assemblyFormat = "`<` $pointee `>`";
  let genVerifyDecl = 1;
}

def Kiln_DescType : Kiln_Type<"Desc", "desc"> {
  let summary = "tensor descriptor: base pointer, shape and strides";
  let description = [{
    Describes a rank-`rank` tensor in global memory: a base pointer, a shape and strides
    (in elements) known at run time. Block loads and stores through a descriptor mask
    every element outside the shape.

    ```mlir
    !kiln.desc<bf16, 2>
    ```
  }];
  let parameters = (ins "Type":$elementType, "unsigned":$rank);
  let assemblyFormat = "`<` $elementType `,` $rank `>`";
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def Kiln_LayoutAttr : AttrDef<Kiln_Dialect, "Layout"> {
  let mnemonic = "layout";
  let summary = "a CuTe layout, optionally swizzled, in CuTe's notation";
  let description = [{
    A layout from Kiln's layout algebra (see docs/layouts.md): a hierarchical
    shape:stride function, optionally composed with a `Sw<B,M,S>` swizzle and an offset.
    Parsed, checked and printed in canonical form by the layout library, so an illegal
    layout is a diagnostic at its location. As a tile's encoding it says where each
    element lives; its size must equal the tile's element count.

    ```mlir
    #kiln.layout<"((2,4),8):((1,2),8)">
    #kiln.layout<"Sw<3,3,3>o(64,64):(64,1)">
    tensor<64x64xf16, #kiln.layout<"Sw<3,3,3>o(64,64):(64,1)">>
    ```
  }];
  let parameters = (ins StringRefParameter<"layout in CuTe notation">:$spec);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Number of elements the layout maps (the size of its domain).
    int64_t getSize() const;
  }];
}

#endif
