//===- ElementLowering.h - scalar element code shared by Kiln's lowerings --===//
//
// The host and GPU lowerings differ in how tiles are held (a tensor per program versus
// registers spread over threads) but emit the same code per element: casts with Kiln's
// rounding rules, packed sub-byte and 8-bit-float memory accesses, descriptor bounds
// checks and combiners. That code lives here. Helpers taking a Value work on scalars
// and on tiles alike, since arith ops are elementwise on tensors.
//
#ifndef KILN_PASSES_ELEMENTLOWERING_H
#define KILN_PASSES_ELEMENTLOWERING_H

#include "dialects/Kiln/KilnDialect.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir::kiln::lowering {

/// `like` with its element type replaced by `elem` (a tile stays a tile).
Type withElement(Type like, Type elem);
/// The element type of a tile, or the type itself for a scalar.
Type elementOf(Type type);
/// An integer or float constant of `type` (a splat when `type` is a tile).
Value constantLike(OpBuilder &b, Location loc, Type type, double value);
Value intConst(OpBuilder &b, Location loc, Type type, int64_t value);
Value i64Const(OpBuilder &b, Location loc, int64_t value);
/// Sign-extends (or index-casts) an integer scalar or tile to i64.
Value toI64(OpBuilder &b, Location loc, Value v);

bool isF8(Type t);
/// Converts `v` to element type `to` with kiln.cast's semantics (round to nearest
/// even, saturating float-to-integer with NaN to 0, e4m3fn saturating, e5m2 to inf).
Value castElements(OpBuilder &b, Location loc, Value v, Type to, bool isUnsigned);

/// Whether elements of `type` are bit-packed (widths that are not whole bytes).
bool isPacked(Type type);
/// The integer type an element moves through memory and control flow as.
Type storageType(OpBuilder &b, Type elem);
Value toStorage(OpBuilder &b, Location loc, Value v);
Value fromStorage(OpBuilder &b, Location loc, Value raw, Type elem);

/// Loads element `index` (i64) of an array of `elem` at `base` (an LLVM pointer) as its
/// storage type; `fromStorage` gives the element.
Value loadElement(OpBuilder &b, Location loc, Value base, Value index, Type elem);

/// Emits an atomic read-modify-write and returns the old value.
using AtomicEmitter =
    function_ref<Value(OpBuilder &, Location, LLVM::AtomicBinOp, Value ptr, Value val)>;

/// Stores `value` as element `index` of an array of `elem` at `base`. Packed elements
/// are merged into their bytes with atomic and/or through `emitAtomic`, so programs
/// writing neighbouring elements of one byte do not race.
void storeElement(OpBuilder &b, Location loc, Value base, Value index, Value value,
                  Type elem, AtomicEmitter emitAtomic);

/// A descriptor value unpacked: base pointer, sizes and strides (i64).
struct DescParts {
  Value base;
  SmallVector<Value> shape, strides;
};
/// Unpacks the LLVM struct {ptr, [rank x i64], [rank x i64]} a descriptor lowers to.
DescParts unpackDesc(OpBuilder &b, Location loc, Value desc, unsigned rank);

/// For tile coordinates `coords` (integers or index) of a block at `offsets`: whether the
/// element is inside the described tensor, and its linear index (i64).
std::pair<Value, Value> blockElement(OpBuilder &b, Location loc, const DescParts &desc,
                                     ValueRange offsets, ValueRange coords);

/// `then` when `cond` holds, else `otherwise`, as an scf.if yielding one value; only the
/// taken branch runs (loads behind a mask must not execute). A null `cond` means true.
Value branchValue(OpBuilder &b, Location loc, Value cond,
                  function_ref<Value(OpBuilder &, Location)> then,
                  function_ref<Value(OpBuilder &, Location)> otherwise);

/// Emits `body` under `cond` (an scf.if without results); a null `cond` means always.
void whenTrue(OpBuilder &b, Location loc, Value cond,
              function_ref<void(OpBuilder &, Location)> body);

/// Zero of `elem` (the default padding and masked-off value).
Value zeroOf(OpBuilder &b, Location loc, Type elem);

/// Combines two scalars with a built-in kind. Float max/min propagate NaN.
Value combineBuiltin(OpBuilder &b, Location loc, CombineKind kind, Value x, Value y);
/// Identity of a built-in combiner for element type `elem`.
TypedAttr combineIdentity(OpBuilder &b, CombineKind kind, Type elem);
/// Applies a reduce or scan combiner (built-in `kind`, else the region) to two scalars.
Value applyCombiner(OpBuilder &b, Location loc, std::optional<CombineKind> kind,
                    Region &region, Value acc, Value x);

/// Rejects arith/math arithmetic on 8-bit floats (they have no LLVM type to compute in)
/// with a diagnostic at the op.
LogicalResult checkElementArithmetic(Operation *root);

} // namespace mlir::kiln::lowering

#endif
