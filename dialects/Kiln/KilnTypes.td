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

#endif
