//===- KilnOps.td - operations of the kiln tile dialect --------*- tablegen -*-===//
#ifndef KILN_OPS_TD
#define KILN_OPS_TD

include "KilnDialect.td"
include "KilnTypes.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/CallInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/FunctionInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Kiln_Tile : StaticShapeTensorOf<[AnyType]>;
// A tile that may span a whole streamed axis: one dimension written `?` (all keys of
// attention, a whole softmax row). Only kiln-stream-fusion's input has them; it tiles
// the axis into blocks, and code generation accepts static tiles only.
def Kiln_StreamTile : RankedTensorOf<[AnyType]>;
def Kiln_StreamIntTile : RankedTensorOf<[AnySignlessInteger]>;
def Kiln_IntTile : StaticShapeTensorOf<[AnySignlessInteger]>;
def Kiln_BoolTile : StaticShapeTensorOf<[I1]>;
def Kiln_PtrTile : StaticShapeTensorOf<[Kiln_PtrType]>;
def Kiln_PtrLike : AnyTypeOf<[Kiln_PtrType, Kiln_PtrTile]>;
def Kiln_IntLike : AnyTypeOf<[AnySignlessInteger, Kiln_IntTile]>;
def Kiln_BoolLike : AnyTypeOf<[I1, Kiln_BoolTile]>;
def Kiln_Offset : AnyTypeOf<[I32, I64]>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Kiln_CombineKind : I32EnumAttr<"CombineKind", "built-in combiner of a reduction or scan", [
    I32EnumAttrCase<"sum", 0>, I32EnumAttrCase<"max", 1>, I32EnumAttrCase<"min", 2>,
    I32EnumAttrCase<"prod", 3>]> {
  let cppNamespace = "::mlir::kiln";
  let genSpecializedAttr = 0;
}
def Kiln_CombineKindAttr : EnumAttr<Kiln_Dialect, Kiln_CombineKind, "combine">;

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

def Kiln_FuncOp : Kiln_Op<"func", [
    FunctionOpInterface, IsolatedFromAbove, AutomaticAllocationScope,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "a kernel: one program instance of a grid";
  let description = [{
    A kernel function. Its body runs once per program instance; `kiln.program_id`
    tells which. Parameters are pointers, tensor descriptors and scalars; a scalar
    parameter marked `kiln.constexpr` is bound to a value at compile time
    (`kilnc -D name=value`). Kernels return nothing.

    The optional `num_threads` sets how many GPU threads run one program instance
    (a multiple of 32, at most 1024); without it the target's default applies. The
    optional `num_stages` (1 to 8) sets how many shared-memory stages a pipelined loop
    of the kernel uses on GPUs (copies run `num_stages - 1` iterations ahead).
    The optional `stream_block` is the block size kiln-stream-fusion tiles the
    kernel's streamed axis (`?` dimensions) into. The optional `min_programs_per_sm`
    (1 to 32) asks NVIDIA targets to fit that many program instances on one
    multiprocessor: ptxas then keeps each thread within 65536 / (threads x that)
    registers, spilling if it must (kilnc reports spills). Other targets ignore it.
    The optional `cluster` (1 to 16) spreads each program instance over that many thread
    blocks of one NVIDIA thread-block cluster (sm_90 and up): register tiles are split
    across the blocks and reductions to a scalar combine through distributed shared
    memory, so a program can hold a tile eight times larger on chip (a 256k-element
    softmax row). The program is the same either way: targets without clusters ignore
    it, and `kiln.program_id` counts programs, not blocks. A clustered kernel may use
    only ops that keep tiles in place (loads, stores, elementwise, gathers, reductions to
    a scalar); others are rejected when lowering for a cluster.
    The optional unit `warp_specialize` asks sm_90a for a producer warpgroup: 128 more
    threads that only issue the TMA copies of the kernel's pipelined loops, through
    full and empty mbarriers per stage, while the program's threads (the consumers)
    never wait for the copies at a block-wide barrier. Other targets ignore it.

    The optional `grid` gives the launch grid as up to three integer expressions over
    the scalar parameters (`+ - * /`, `cdiv(a, b)`, `min`, `max`, parentheses), so
    launchers can compute it; `kilnc` writes it into the kernel's metadata.

    ```mlir
    kiln.func @vadd(%x: !kiln.ptr<f32>, %y: !kiln.ptr<f32>, %out: !kiln.ptr<f32>,
                    %n: i32) attributes {grid = ["cdiv(n, 1024)"]} {
      ...
      kiln.return
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<FunctionType>:$function_type,
                       OptionalAttr<StrAttr>:$sym_visibility,
                       OptionalAttr<DictArrayAttr>:$arg_attrs,
                       OptionalAttr<DictArrayAttr>:$res_attrs,
                       OptionalAttr<StrArrayAttr>:$grid,
                       OptionalAttr<StrArrayAttr>:$param_names,
                       OptionalAttr<I64Attr>:$num_threads,
                       OptionalAttr<I64Attr>:$num_stages,
                       OptionalAttr<I64Attr>:$stream_block,
                       OptionalAttr<I64Attr>:$min_programs_per_sm,
                       OptionalAttr<I64Attr>:$cluster,
                       UnitAttr:$warp_specialize);
  let regions = (region AnyRegion:$body);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::Region *getCallableRegion() { return isExternal() ? nullptr : &getBody(); }
    ::llvm::ArrayRef<::mlir::Type> getArgumentTypes() { return getFunctionType().getInputs(); }
    ::llvm::ArrayRef<::mlir::Type> getResultTypes() { return getFunctionType().getResults(); }
    /// Name of the parameter at `index` as written in the source (`%x` gives "x"),
    /// else `arg<index>`.
    std::string getParamName(unsigned index);
    /// Names of all parameters, in order.
    ::llvm::SmallVector<std::string> getParamNameList();
    /// Whether parameter `index` is bound at compile time.
    bool isConstexprParam(unsigned index);
  }];
}

def Kiln_ReturnOp : Kiln_Op<"return", [Pure, HasParent<"FuncOp">, ReturnLike, Terminator]> {
  let summary = "ends a kernel";
  let description = [{
    Ends the body of a `kiln.func`. Kernels produce results only through memory.

    ```mlir
    kiln.return
    ```
  }];
  let assemblyFormat = "attr-dict";
}

def Kiln_ProgramIdOp : Kiln_Op<"program_id", [Pure]> {
  let summary = "index of this program instance along a grid axis";
  let description = [{
    The coordinate (0, 1 or 2) of the running program instance in the launch grid.

    ```mlir
    %pid = kiln.program_id 0 : i32
    ```
  }];
  let arguments = (ins ConfinedAttr<I32Attr, [IntNonNegative, IntMaxValue<2>]>:$axis);
  let results = (outs I32:$result);
  let assemblyFormat = "$axis attr-dict `:` type($result)";
}

def Kiln_NumProgramsOp : Kiln_Op<"num_programs", [Pure]> {
  let summary = "extent of the launch grid along an axis";
  let description = [{
    ```mlir
    %n = kiln.num_programs 1 : i32
    ```
  }];
  let arguments = (ins ConfinedAttr<I32Attr, [IntNonNegative, IntMaxValue<2>]>:$axis);
  let results = (outs I32:$result);
  let assemblyFormat = "$axis attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Tile construction and shape manipulation
//===----------------------------------------------------------------------===//

def Kiln_IotaOp : Kiln_Op<"iota", [Pure]> {
  let summary = "the 1-D tile 0, 1, ..., N-1";
  let description = [{
    ```mlir
    %r = kiln.iota : tensor<128xi32>
    ```
  }];
  let results = (outs Kiln_StreamIntTile:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Kiln_SplatOp : Kiln_Op<"splat", [Pure,
    TypesMatchWith<"scalar is the tile's element type", "result", "input",
                   "::llvm::cast<::mlir::ShapedType>($_self).getElementType()">]> {
  let summary = "a tile with every element equal to a scalar";
  let description = [{
    ```mlir
    %t = kiln.splat %x : tensor<64x64xf32>
    ```
  }];
  let arguments = (ins AnyType:$input);
  let results = (outs Kiln_StreamTile:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasFolder = 1;
}

def Kiln_BroadcastOp : Kiln_Op<"broadcast", [Pure, SameOperandsAndResultElementType]> {
  let summary = "repeat a tile along its size-1 dimensions";
  let description = [{
    Every dimension of the input is either equal to the result's or 1.

    ```mlir
    %b = kiln.broadcast %r : tensor<64x1xf32> -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins Kiln_StreamTile:$input);
  let results = (outs Kiln_StreamTile:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_ExpandDimsOp : Kiln_Op<"expand_dims", [Pure, SameOperandsAndResultElementType]> {
  let summary = "insert a size-1 dimension";
  let description = [{
    ```mlir
    %e = kiln.expand_dims %r {axis = 1 : i32} : tensor<64xf32> -> tensor<64x1xf32>
    ```
  }];
  let arguments = (ins Kiln_StreamTile:$input, I32Attr:$axis);
  let results = (outs Kiln_StreamTile:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Kiln_ReshapeOp : Kiln_Op<"reshape", [Pure, SameOperandsAndResultElementType]> {
  let summary = "reinterpret a tile with another shape of the same size";
  let description = [{
    Elements keep their row-major order.

    ```mlir
    %r = kiln.reshape %t : tensor<8x16xf32> -> tensor<128xf32>
    ```
  }];
  let arguments = (ins Kiln_Tile:$input);
  let results = (outs Kiln_Tile:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_TransposeOp : Kiln_Op<"transpose", [Pure, SameOperandsAndResultElementType]> {
  let summary = "permute the dimensions of a tile";
  let description = [{
    Result dimension `i` is input dimension `order[i]`.

    ```mlir
    %kt = kiln.transpose %k {order = array<i32: 1, 0>} : tensor<64x128xbf16> -> tensor<128x64xbf16>
    ```
  }];
  let arguments = (ins Kiln_StreamTile:$input, DenseI32ArrayAttr:$order);
  let results = (outs Kiln_StreamTile:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Kiln_CastOp : Kiln_Op<"cast", [Pure]> {
  let summary = "convert element types";
  let description = [{
    Converts each element among float types (f32, f16, bf16, f8E4M3FN, f8E5M2) and
    integers of any width. Integers are signed unless `unsigned` is given (it applies
    to the integer side). Float to float rounds to nearest even; float to integer
    truncates toward zero and saturates (NaN gives 0); integer to narrower integer
    keeps the low bits.

    ```mlir
    %w = kiln.cast unsigned %q : tensor<128xi4> to tensor<128xf16>
    %h = kiln.cast %acc : tensor<64x64xf32> to tensor<64x64xbf16>
    ```
  }];
  let arguments = (ins AnyType:$input, UnitAttr:$is_unsigned);
  let results = (outs AnyType:$result);
  let assemblyFormat = [{
    (`unsigned` $is_unsigned^)? $input attr-dict `:` type($input) `to` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

def Kiln_MakeDescOp : Kiln_Op<"make_desc", [Pure, AttrSizedOperandSegments]> {
  let summary = "build a tensor descriptor from a pointer, a shape and strides";
  let description = [{
    Shape and strides are counted in elements.

    ```mlir
    %d = kiln.make_desc %a, [%m, %k], [%lda, %c1] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
    ```
  }];
  let arguments = (ins Kiln_PtrType:$base, Variadic<I64>:$shape, Variadic<I64>:$strides);
  let results = (outs Kiln_DescType:$result);
  let assemblyFormat = [{
    $base `,` `[` $shape `]` `,` `[` $strides `]` attr-dict `:` qualified(type($base))
    `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Kiln_LoadOp : Kiln_Op<"load", [MemoryEffects<[MemRead]>]> {
  let summary = "load a block through a descriptor, masking out-of-bounds elements";
  let description = [{
    Loads the block of the result's shape whose first element sits at `offsets` in the
    described tensor. Elements outside the tensor's shape read as `padding` (zero when
    absent).

    ```mlir
    %t = kiln.load %d[%row, %col] {padding = 0xFF800000 : f32}
        : !kiln.desc<f32, 2>[i32, i32] -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins Kiln_DescType:$desc, Variadic<Kiln_Offset>:$offsets,
                       OptionalAttr<TypedAttrInterface>:$padding);
  let results = (outs Kiln_StreamTile:$result);
  let assemblyFormat = [{
    $desc `[` $offsets `]` attr-dict `:` qualified(type($desc)) `[` type($offsets) `]`
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def Kiln_StoreOp : Kiln_Op<"store", [MemoryEffects<[MemWrite]>]> {
  let summary = "store a block through a descriptor, skipping out-of-bounds elements";
  let description = [{
    ```mlir
    kiln.store %d[%row, %col], %t : !kiln.desc<f32, 2>[i32, i32], tensor<64x128xf32>
    ```
  }];
  let arguments = (ins Kiln_DescType:$desc, Variadic<Kiln_Offset>:$offsets, Kiln_StreamTile:$value);
  let assemblyFormat = [{
    $desc `[` $offsets `]` `,` $value attr-dict `:` qualified(type($desc))
    `[` type($offsets) `]` `,` type($value)
  }];
  let hasVerifier = 1;
}

def Kiln_AddPtrOp : Kiln_Op<"addptr", [Pure]> {
  let summary = "advance pointers by element offsets";
  let description = [{
    Adds offsets, counted in elements of the pointee, to a pointer or a tile of
    pointers. A scalar on either side is broadcast to the other's shape.

    ```mlir
    %p = kiln.addptr %x, %offs : !kiln.ptr<f32>, tensor<128xi32> -> tensor<128x!kiln.ptr<f32>>
    ```
  }];
  let arguments = (ins Kiln_PtrLike:$ptr, Kiln_IntLike:$offset);
  let results = (outs Kiln_PtrLike:$result);
  let assemblyFormat = [{
    $ptr `,` $offset attr-dict `:` qualified(type($ptr)) `,` type($offset) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Kiln_GatherOp : Kiln_Op<"gather", [MemoryEffects<[MemRead]>, AttrSizedOperandSegments,
    OptionalTypesMatchWith<"other has the result type", "result", "other", "$_self">]> {
  let summary = "load through a tile of pointers";
  let description = [{
    Loads one element per pointer. Where `mask` is false nothing is read and the result
    is `other` (zero when absent).

    ```mlir
    %v = kiln.gather %ptrs mask %m other %zeros
        : tensor<128x!kiln.ptr<f32>> -> tensor<128xf32>, tensor<128xi1>
    ```
  }];
  let arguments = (ins Kiln_PtrTile:$ptrs, Optional<Kiln_BoolTile>:$mask,
                       Optional<Kiln_Tile>:$other);
  let results = (outs Kiln_Tile:$result);
  let assemblyFormat = [{
    $ptrs (`mask` $mask^)? (`other` $other^)? attr-dict `:` qualified(type($ptrs))
    `->` type($result) (`,` type($mask)^)?
  }];
  let hasVerifier = 1;
}

def Kiln_ScatterOp : Kiln_Op<"scatter", [MemoryEffects<[MemWrite]>]> {
  let summary = "store through a tile of pointers";
  let description = [{
    Stores one element per pointer where `mask` is true (everywhere when absent).
    When two pointers alias, which store lands is unspecified.

    ```mlir
    kiln.scatter %ptrs, %v mask %m : tensor<128x!kiln.ptr<f32>>, tensor<128xf32>, tensor<128xi1>
    ```
  }];
  let arguments = (ins Kiln_PtrTile:$ptrs, Kiln_Tile:$value, Optional<Kiln_BoolTile>:$mask);
  let assemblyFormat = [{
    $ptrs `,` $value (`mask` $mask^)? attr-dict `:` qualified(type($ptrs)) `,` type($value)
    (`,` type($mask)^)?
  }];
  let hasVerifier = 1;
}

def Kiln_AtomicAddOp : Kiln_Op<"atomic_add", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "atomically add to memory, returning the old values";
  let description = [{
    For each pointer where `mask` holds, atomically adds the value and returns the value
    memory held before (`0` where masked off). Supports f32, f16, bf16, i32 and i64.

    ```mlir
    %old = kiln.atomic_add %ptrs, %v : tensor<128x!kiln.ptr<f32>>, tensor<128xf32>
    ```
  }];
  let arguments = (ins Kiln_PtrLike:$ptrs, AnyType:$value, Optional<Kiln_BoolLike>:$mask);
  let results = (outs AnyType:$result);
  let assemblyFormat = [{
    $ptrs `,` $value (`mask` $mask^)? attr-dict `:` qualified(type($ptrs)) `,` type($value)
    (`,` type($mask)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

def Kiln_DotOp : Kiln_Op<"dot", [Pure, AllTypesMatch<["acc", "result"]>]> {
  let summary = "tile matrix product with an accumulator";
  let description = [{
    `result = a · b + acc` for 2-D tiles (M×K · K×N) or batched 3-D tiles. Products are
    accumulated in the accumulator's element type (f32 for float inputs, i32 for
    8-bit-or-narrower integer inputs), which is the stated accumulation type.

    ```mlir
    %c = kiln.dot %a, %b, %acc : tensor<64x32xbf16>, tensor<32x64xbf16> -> tensor<64x64xf32>
    ```
  }];
  let arguments = (ins Kiln_StreamTile:$a, Kiln_StreamTile:$b, Kiln_StreamTile:$acc);
  let results = (outs Kiln_StreamTile:$result);
  let assemblyFormat = [{
    $a `,` $b `,` $acc attr-dict `:` type($a) `,` type($b) `->` type($result)
  }];
  let hasVerifier = 1;
}

class Kiln_CombineOp<string mnemonic> : Kiln_Op<mnemonic, [
    Pure]> {
  let arguments = (ins Kiln_StreamTile:$input, I32Attr:$axis,
                       OptionalAttr<Kiln_CombineKindAttr>:$kind);
  let regions = (region AnyRegion:$combiner);
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "::mlir::Type":$resultType, "::mlir::Value":$input, "int32_t":$axis,
                   "::mlir::kiln::CombineKind":$kind)>
  ];
}

def Kiln_ReduceOp : Kiln_CombineOp<"reduce"> {
  let summary = "reduce a tile along an axis";
  let description = [{
    Reduces along `axis` with a built-in combiner (`sum`, `max`, `min`, `prod`) or a
    user combiner region taking two elements and yielding one (it must be associative
    and commutative: the order of combination is unspecified). A 1-D tile reduces to a
    scalar. `max`/`min` of floats propagate NaN.

    ```mlir
    %m = kiln.reduce max %s {axis = 1 : i32} : tensor<64x128xf32> -> tensor<64xf32>
    %p = kiln.reduce %x {axis = 0 : i32} : tensor<16xi32> -> i32 combiner {
    ^bb0(%l: i32, %r: i32):
      %o = arith.ori %l, %r : i32
      kiln.yield %o : i32
    }
    ```
  }];
  let results = (outs AnyType:$result);
  let assemblyFormat = [{
    custom<CombineKind>($kind) $input attr-dict `:` type($input) `->` type($result)
    (`combiner` $combiner^)?
  }];
}

def Kiln_ScanOp : Kiln_CombineOp<"scan"> {
  let summary = "inclusive prefix combination along an axis";
  let description = [{
    Element `i` of the result combines input elements `0..i` along `axis` (`i..N-1`
    when `reverse` is set), with a built-in combiner or a user combiner region.

    ```mlir
    %c = kiln.scan sum %x {axis = 0 : i32} : tensor<128xi32> -> tensor<128xi32>
    ```
  }];
  let arguments = (ins Kiln_Tile:$input, I32Attr:$axis,
                       OptionalAttr<Kiln_CombineKindAttr>:$kind, UnitAttr:$reverse);
  let results = (outs Kiln_Tile:$result);
  let assemblyFormat = [{
    custom<CombineKind>($kind) $input attr-dict `:` type($input) `->` type($result)
    (`combiner` $combiner^)?
  }];
}

def Kiln_YieldOp : Kiln_Op<"yield", [Pure, Terminator, ReturnLike,
    ParentOneOf<["ReduceOp", "ScanOp"]>]> {
  let summary = "the combined value of a combiner region";
  let description = [{
    ```mlir
    kiln.yield %o : i32
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

#endif
