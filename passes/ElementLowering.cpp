//===- ElementLowering.cpp - scalar element code shared by Kiln's lowerings ===//
#include "passes/ElementLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

#include <cmath>

namespace mlir::kiln::lowering {


//===----------------------------------------------------------------------===//
// Scalar-or-tile arithmetic helpers. Every helper works on scalars and on tiles, since
// arith ops are elementwise on tensors.
//===----------------------------------------------------------------------===//

/// `like` with its element type replaced by `elem` (a tile stays a tile).
Type withElement(Type like, Type elem) {
  if (auto tile = dyn_cast<RankedTensorType>(like))
    return tile.clone(elem);
  return elem;
}

Type elementOf(Type type) {
  if (auto tile = dyn_cast<RankedTensorType>(type))
    return tile.getElementType();
  return type;
}

/// An integer or float constant of type `type` (splat when a tile).
Value constantLike(OpBuilder &b, Location loc, Type type, double value) {
  Type elem = elementOf(type);
  TypedAttr attr;
  if (auto intType = dyn_cast<IntegerType>(elem))
    attr = b.getIntegerAttr(intType, APInt(intType.getWidth(), (int64_t)value, true));
  else if (isa<IndexType>(elem))
    attr = b.getIndexAttr((int64_t)value);
  else
    attr = b.getFloatAttr(elem, value);
  if (auto tile = dyn_cast<RankedTensorType>(type))
    return b.create<arith::ConstantOp>(loc, SplatElementsAttr::get(tile, attr));
  return b.create<arith::ConstantOp>(loc, attr);
}

Value intConst(OpBuilder &b, Location loc, Type type, int64_t value) {
  Type elem = elementOf(type);
  auto attr = b.getIntegerAttr(elem, APInt(elem.getIntOrFloatBitWidth(), value, true));
  if (auto tile = dyn_cast<RankedTensorType>(type))
    return b.create<arith::ConstantOp>(loc, SplatElementsAttr::get(tile, attr));
  return b.create<arith::ConstantOp>(loc, attr);
}

Value i64Const(OpBuilder &b, Location loc, int64_t value) {
  return b.create<arith::ConstantIntOp>(loc, value, 64);
}

Value toI64(OpBuilder &b, Location loc, Value v) {
  Type target = withElement(v.getType(), b.getI64Type());
  if (v.getType() == target)
    return v;
  if (isa<IndexType>(elementOf(v.getType())))
    return b.create<arith::IndexCastOp>(loc, target, v);
  return b.create<arith::ExtSIOp>(loc, target, v);
}

bool isF8(Type t) { return isa<Float8E4M3FNType, Float8E5M2Type>(t); }

/// Format of an 8-bit float: exponent bits, mantissa bits, bias, and whether the top
/// exponent encodes infinities (e5m2) or is mostly finite (e4m3fn).
namespace {
struct F8Format {
  int exp, man, bias;
  bool ieee;
};
F8Format f8Format(Type t) {
  if (isa<Float8E5M2Type>(t))
    return {5, 2, 15, true};
  return {4, 3, 7, false};
}

/// Decodes 8-bit float bits (i8, scalar or tile) to f32.
} // namespace

static Value decodeF8(OpBuilder &b, Location loc, Value bits, F8Format f) {
  Type i32 = withElement(bits.getType(), b.getI32Type());
  Type f32 = withElement(bits.getType(), b.getF32Type());
  auto c = [&](int64_t v) { return intConst(b, loc, i32, v); };
  Value x = b.create<arith::ExtUIOp>(loc, i32, bits);
  Value sign = b.create<arith::ShLIOp>(loc, b.create<arith::ShRUIOp>(loc, x, c(7)), c(31));
  Value e = b.create<arith::AndIOp>(loc, b.create<arith::ShRUIOp>(loc, x, c(f.man)),
                                    c((1 << f.exp) - 1));
  Value m = b.create<arith::AndIOp>(loc, x, c((1 << f.man) - 1));
  // Normal numbers: rebias the exponent and widen the mantissa.
  Value normal = b.create<arith::OrIOp>(
      loc, b.create<arith::ShLIOp>(loc, b.create<arith::AddIOp>(loc, e, c(127 - f.bias)), c(23)),
      b.create<arith::ShLIOp>(loc, m, c(23 - f.man)));
  normal = b.create<arith::OrIOp>(loc, normal, sign);
  // Subnormals: m * 2^(1 - bias - man), exact in f32.
  Value sub = b.create<arith::MulFOp>(loc, b.create<arith::UIToFPOp>(loc, f32, m),
                                      constantLike(b, loc, f32, std::ldexp(1.0, 1 - f.bias - f.man)));
  Value subBits = b.create<arith::OrIOp>(loc, b.create<arith::BitcastOp>(loc, i32, sub), sign);
  Value isSub = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, e, c(0));
  Value out = b.create<arith::SelectOp>(loc, isSub, subBits, normal);
  int64_t maxExp = (1 << f.exp) - 1;
  Value eMax = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, e, c(maxExp));
  Value nan = c(0x7FC00000);
  if (f.ieee) {
    Value mZero = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, m, c(0));
    Value inf = b.create<arith::OrIOp>(loc, c(0x7F800000), sign);
    out = b.create<arith::SelectOp>(loc, eMax, b.create<arith::SelectOp>(loc, mZero, inf, nan), out);
  } else {
    Value mAll = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, m, c((1 << f.man) - 1));
    out = b.create<arith::SelectOp>(loc, b.create<arith::AndIOp>(loc, eMax, mAll), nan, out);
  }
  return b.create<arith::BitcastOp>(loc, f32, out);
}

/// Encodes f32 (scalar or tile) to 8-bit float bits (i8), rounding to nearest even.
/// e5m2 overflows to infinity; e4m3fn, which has no infinity, saturates to ±448.
static Value encodeF8(OpBuilder &b, Location loc, Value x, F8Format f) {
  Type i32 = withElement(x.getType(), b.getI32Type());
  Type i8 = withElement(x.getType(), b.getI8Type());
  auto c = [&](int64_t v) { return intConst(b, loc, i32, v); };
  Value bits = b.create<arith::BitcastOp>(loc, i32, x);
  Value sign = b.create<arith::ShRUIOp>(loc, bits, c(31));
  Value a = b.create<arith::AndIOp>(loc, bits, c(0x7FFFFFFF));
  int drop = 23 - f.man;
  // Round the mantissa to nearest even, then rebias the exponent.
  Value lsb = b.create<arith::AndIOp>(loc, b.create<arith::ShRUIOp>(loc, a, c(drop)), c(1));
  Value r = b.create<arith::AddIOp>(loc, a, b.create<arith::AddIOp>(loc, c((1 << (drop - 1)) - 1), lsb));
  r = b.create<arith::ShRUIOp>(loc, r, c(drop));
  Value normal = b.create<arith::SubIOp>(loc, r, c((127 - f.bias) << f.man));
  // Below the smallest normal: round |x| / 2^(1 - bias - man) to an integer.
  Value absX = b.create<arith::BitcastOp>(loc, x.getType(), a);
  Value scaled = b.create<arith::MulFOp>(
      loc, absX, constantLike(b, loc, x.getType(), std::ldexp(1.0, f.bias - 1 + f.man)));
  Value sub = b.create<arith::FPToUIOp>(loc, i32, b.create<math::RoundEvenOp>(loc, scaled));
  Value isSub = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, a,
                                        c((int64_t)(127 + 1 - f.bias) << 23));
  Value enc = b.create<arith::SelectOp>(loc, isSub, sub, normal);
  int64_t maxFinite = f.ieee ? 0x7B : 0x7E;
  Value over = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt, enc, c(maxFinite));
  enc = b.create<arith::SelectOp>(loc, over, c(f.ieee ? 0x7C : 0x7E), enc);
  Value isNan = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ugt, a, c(0x7F800000));
  enc = b.create<arith::SelectOp>(loc, isNan, c(0x7F), enc);
  enc = b.create<arith::OrIOp>(loc, enc, b.create<arith::ShLIOp>(loc, sign, c(7)));
  return b.create<arith::TruncIOp>(loc, i8, enc);
}

/// Converts `v` (scalar or tile) to element type `to` with kiln.cast semantics.
Value castElements(OpBuilder &b, Location loc, Value v, Type to, bool isUnsigned) {
  Type from = elementOf(v.getType());
  Type target = withElement(v.getType(), to);
  if (from == to)
    return v;
  Type f32 = withElement(v.getType(), b.getF32Type());
  if (isF8(from)) {
    Value bits = b.create<arith::BitcastOp>(loc, withElement(v.getType(), b.getI8Type()), v);
    return castElements(b, loc, decodeF8(b, loc, bits, f8Format(from)), to, isUnsigned);
  }
  if (isF8(to)) {
    Value wide = castElements(b, loc, v, b.getF32Type(), isUnsigned);
    return b.create<arith::BitcastOp>(loc, target, encodeF8(b, loc, wide, f8Format(to)));
  }
  auto fromInt = dyn_cast<IntegerType>(from), toInt = dyn_cast<IntegerType>(to);
  // i1 is a boolean: it converts as 0/1 whatever the signedness.
  bool srcUnsigned = isUnsigned || (fromInt && fromInt.getWidth() == 1);
  if (fromInt && toInt) {
    if (toInt.getWidth() < fromInt.getWidth())
      return b.create<arith::TruncIOp>(loc, target, v);
    if (srcUnsigned)
      return b.create<arith::ExtUIOp>(loc, target, v);
    return b.create<arith::ExtSIOp>(loc, target, v);
  }
  if (fromInt) {
    if (srcUnsigned)
      return b.create<arith::UIToFPOp>(loc, target, v);
    return b.create<arith::SIToFPOp>(loc, target, v);
  }
  if (toInt) {
    // i1 is a boolean: converting to it uses the unsigned range [0, 1].
    isUnsigned = isUnsigned || toInt.getWidth() == 1;
    // Saturating, NaN to zero: fptosi alone is undefined out of range.
    Type wideFloat = from.getIntOrFloatBitWidth() < 32 ? f32 : v.getType();
    Value x = from.getIntOrFloatBitWidth() < 32 ? b.create<arith::ExtFOp>(loc, f32, v) : v;
    unsigned w = toInt.getWidth();
    double lo = isUnsigned ? 0.0 : -std::ldexp(1.0, w - 1);
    double hi = isUnsigned ? std::ldexp(1.0, w) : std::ldexp(1.0, w - 1);
    Value loC = constantLike(b, loc, wideFloat, lo), hiC = constantLike(b, loc, wideFloat, hi);
    Value tooLow = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLE, x, loC);
    Value tooHigh = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGE, x, hiC);
    Value isNan = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, x, x);
    Value zero = constantLike(b, loc, wideFloat, 0.0);
    Value safe = b.create<arith::SelectOp>(
        loc, b.create<arith::OrIOp>(loc, b.create<arith::OrIOp>(loc, tooLow, tooHigh), isNan),
        zero, x);
    Value conv = isUnsigned ? (Value)b.create<arith::FPToUIOp>(loc, target, safe)
                            : (Value)b.create<arith::FPToSIOp>(loc, target, safe);
    APInt maxV = isUnsigned ? APInt::getMaxValue(w) : APInt::getSignedMaxValue(w);
    APInt minV = isUnsigned ? APInt::getMinValue(w) : APInt::getSignedMinValue(w);
    Value maxC = intConst(b, loc, target, maxV.getSExtValue());
    Value minC = intConst(b, loc, target, minV.getSExtValue());
    if (isUnsigned && w == 64)
      maxC = intConst(b, loc, target, -1);
    conv = b.create<arith::SelectOp>(loc, tooHigh, maxC, conv);
    return b.create<arith::SelectOp>(loc, tooLow, minC, conv);
  }
  // Float to float; f16 <-> bf16 goes through f32 so each step is exact or rounds once.
  unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
  if (fw == tw) {
    Value wide = b.create<arith::ExtFOp>(loc, f32, v);
    return b.create<arith::TruncFOp>(loc, target, wide);
  }
  if (tw > fw)
    return b.create<arith::ExtFOp>(loc, target, v);
  return b.create<arith::TruncFOp>(loc, target, v);
}

//===----------------------------------------------------------------------===//
// Memory access helpers
//===----------------------------------------------------------------------===//

/// Whether elements of `type` are bit-packed (widths that are not whole bytes).
bool isPacked(Type type) { return getElementBitWidth(type) % 8 != 0; }

/// The integer type an element is moved as: 8-bit floats have no LLVM type, and 16-bit
/// floats flowing through control flow make LLVM round-trip them through f32 with
/// libcalls on CPUs without native support.
Type storageType(OpBuilder &b, Type elem) {
  if (isF8(elem))
    return b.getI8Type();
  if (isa<Float16Type, BFloat16Type>(elem))
    return b.getI16Type();
  return elem;
}

Value toStorage(OpBuilder &b, Location loc, Value v) {
  Type storage = storageType(b, v.getType());
  return storage == v.getType() ? v : b.create<arith::BitcastOp>(loc, storage, v);
}

Value fromStorage(OpBuilder &b, Location loc, Value raw, Type elem) {
  return raw.getType() == elem ? raw : b.create<arith::BitcastOp>(loc, elem, raw);
}

/// Loads element `index` (i64) of an array of `elem` at `base` (!llvm.ptr), as its
/// storage type (see storageType; `fromStorage` gives the element).
Value loadElement(OpBuilder &b, Location loc, Value base, Value index, Type elem) {
  auto ptrType = LLVM::LLVMPointerType::get(b.getContext());
  if (!isPacked(elem)) {
    Type storage = storageType(b, elem);
    Value addr = b.create<LLVM::GEPOp>(loc, ptrType, storage, base, ValueRange{index});
    return b.create<LLVM::LoadOp>(loc, storage, addr);
  }
  // Packed element of w < 8 bits: it may straddle two bytes.
  unsigned w = getElementBitWidth(elem);
  Type i8 = b.getI8Type(), i16 = b.getI16Type();
  Value bit = b.create<arith::MulIOp>(loc, index, i64Const(b, loc, w));
  Value byte = b.create<arith::ShRUIOp>(loc, bit, i64Const(b, loc, 3));
  Value shift = b.create<arith::AndIOp>(loc, bit, i64Const(b, loc, 7));
  Value addr = b.create<LLVM::GEPOp>(loc, ptrType, i8, base, ValueRange{byte});
  Value lo = b.create<arith::ExtUIOp>(loc, i16, b.create<LLVM::LoadOp>(loc, i8, addr));
  Value straddles = b.create<arith::CmpIOp>(
      loc, arith::CmpIPredicate::ugt, b.create<arith::AddIOp>(loc, shift, i64Const(b, loc, w)),
      i64Const(b, loc, 8));
  auto ifOp = b.create<scf::IfOp>(
      loc, straddles,
      [&](OpBuilder &t, Location l) {
        Value next = t.create<LLVM::GEPOp>(l, ptrType, i8, addr,
                                           ValueRange{i64Const(t, l, 1)});
        Value hi = t.create<arith::ExtUIOp>(l, i16, t.create<LLVM::LoadOp>(l, i8, next));
        t.create<scf::YieldOp>(l, ValueRange{t.create<arith::ShLIOp>(l, hi, intConst(t, l, i16, 8))});
      },
      [&](OpBuilder &e, Location l) {
        e.create<scf::YieldOp>(l, ValueRange{intConst(e, l, i16, 0)});
      });
  Value word = b.create<arith::OrIOp>(loc, lo, ifOp.getResult(0));
  Value shifted = b.create<arith::ShRUIOp>(loc, word, b.create<arith::TruncIOp>(loc, i16, shift));
  return b.create<arith::TruncIOp>(loc, elem, shifted);
}

/// Stores `value` as element `index` (i64) of an array of `elem` at `base`. Packed
/// elements are merged into their bytes with atomic and/or, so programs writing
/// neighbouring elements of one byte do not race.
void storeElement(OpBuilder &b, Location loc, Value base, Value index, Value value,
                  Type elem, AtomicEmitter emitAtomic) {
  auto ptrType = LLVM::LLVMPointerType::get(b.getContext());
  if (!isPacked(elem)) {
    Type storage = storageType(b, elem);
    Value addr = b.create<LLVM::GEPOp>(loc, ptrType, storage, base, ValueRange{index});
    if (storage != elem)
      value = b.create<arith::BitcastOp>(loc, storage, value);
    b.create<LLVM::StoreOp>(loc, value, addr);
    return;
  }
  unsigned w = getElementBitWidth(elem);
  Type i8 = b.getI8Type(), i16 = b.getI16Type();
  Value bit = b.create<arith::MulIOp>(loc, index, i64Const(b, loc, w));
  Value byte = b.create<arith::ShRUIOp>(loc, bit, i64Const(b, loc, 3));
  Value shift = b.create<arith::TruncIOp>(
      loc, i16, b.create<arith::AndIOp>(loc, bit, i64Const(b, loc, 7)));
  Value mask = b.create<arith::ShLIOp>(loc, intConst(b, loc, i16, (1 << w) - 1), shift);
  Value bits = b.create<arith::ShLIOp>(loc, b.create<arith::ExtUIOp>(loc, i16, value), shift);
  auto mergeByte = [&](OpBuilder &bb, Location l, Value addr, Value mask16, Value bits16,
                       int64_t byteShift) {
    Value sh = intConst(bb, l, i16, byteShift);
    Value m = bb.create<arith::TruncIOp>(l, i8, bb.create<arith::ShRUIOp>(l, mask16, sh));
    Value v = bb.create<arith::TruncIOp>(l, i8, bb.create<arith::ShRUIOp>(l, bits16, sh));
    Value keep = bb.create<arith::XOrIOp>(l, m, intConst(bb, l, i8, -1));
    emitAtomic(bb, l, LLVM::AtomicBinOp::_and, addr, keep);
    emitAtomic(bb, l, LLVM::AtomicBinOp::_or, addr, v);
  };
  Value addr = b.create<LLVM::GEPOp>(loc, ptrType, i8, base, ValueRange{byte});
  mergeByte(b, loc, addr, mask, bits, 0);
  Value straddles = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ugt,
                                            b.create<arith::ShRUIOp>(loc, mask, intConst(b, loc, i16, 8)),
                                            intConst(b, loc, i16, 0));
  whenTrue(b, loc, straddles, [&](OpBuilder &t, Location l) {
    Value next = t.create<LLVM::GEPOp>(l, ptrType, i8, addr, ValueRange{i64Const(t, l, 1)});
    mergeByte(t, l, next, mask, bits, 8);
  });
}

/// A descriptor value unpacked: base pointer, sizes and strides (i64).
DescParts unpackDesc(OpBuilder &b, Location loc, Value desc, unsigned rank) {
  DescParts parts;
  parts.base = b.create<LLVM::ExtractValueOp>(loc, desc, ArrayRef<int64_t>{0});
  for (unsigned d = 0; d < rank; ++d) {
    parts.shape.push_back(b.create<LLVM::ExtractValueOp>(loc, desc, ArrayRef<int64_t>{1, d}));
    parts.strides.push_back(b.create<LLVM::ExtractValueOp>(loc, desc, ArrayRef<int64_t>{2, d}));
  }
  return parts;
}

/// For tile coordinates `ivs` (index) of a block at `offsets`: (in bounds?, linear index).
std::pair<Value, Value> blockElement(OpBuilder &b, Location loc, const DescParts &desc,
                                     ValueRange offsets, ValueRange ivs) {
  Value inBounds = b.create<arith::ConstantIntOp>(loc, 1, 1);
  Value linear = i64Const(b, loc, 0);
  Value zero = i64Const(b, loc, 0);
  for (size_t d = 0; d < ivs.size(); ++d) {
    Value coord = b.create<arith::AddIOp>(loc, toI64(b, loc, offsets[d]), toI64(b, loc, ivs[d]));
    Value ge = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, coord, zero);
    Value lt = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, coord, desc.shape[d]);
    inBounds = b.create<arith::AndIOp>(loc, inBounds, b.create<arith::AndIOp>(loc, ge, lt));
    linear = b.create<arith::AddIOp>(loc, linear,
                                     b.create<arith::MulIOp>(loc, coord, desc.strides[d]));
  }
  return {inBounds, linear};
}


/// Zero of `elem` (the default padding and masked-off value).
Value zeroOf(OpBuilder &b, Location loc, Type elem) {
  if (isF8(elem))
    return b.create<arith::BitcastOp>(loc, elem, intConst(b, loc, b.getI8Type(), 0));
  return constantLike(b, loc, elem, 0.0);
}

/// Combines two scalars with a built-in kind. Float max/min propagate NaN.
Value combineBuiltin(OpBuilder &b, Location loc, CombineKind kind, Value x, Value y) {
  bool isFloat = isa<FloatType>(x.getType());
  switch (kind) {
  case CombineKind::sum:
    return isFloat ? (Value)b.create<arith::AddFOp>(loc, x, y) : b.create<arith::AddIOp>(loc, x, y);
  case CombineKind::prod:
    return isFloat ? (Value)b.create<arith::MulFOp>(loc, x, y) : b.create<arith::MulIOp>(loc, x, y);
  case CombineKind::max:
    if (isFloat)
      return b.create<arith::MaximumFOp>(loc, x, y);
    // Booleans are unsigned: max is "any", min is "all".
    if (x.getType().isInteger(1))
      return b.create<arith::MaxUIOp>(loc, x, y);
    return b.create<arith::MaxSIOp>(loc, x, y);
  case CombineKind::min:
    if (isFloat)
      return b.create<arith::MinimumFOp>(loc, x, y);
    if (x.getType().isInteger(1))
      return b.create<arith::MinUIOp>(loc, x, y);
    return b.create<arith::MinSIOp>(loc, x, y);
  }
  return x;
}

/// Identity of a built-in combiner for element type `elem`.
TypedAttr combineIdentity(OpBuilder &b, CombineKind kind, Type elem) {
  if (auto f = dyn_cast<FloatType>(elem)) {
    const auto &sem = f.getFloatSemantics();
    switch (kind) {
    case CombineKind::sum: return b.getFloatAttr(f, APFloat::getZero(sem));
    case CombineKind::prod: return b.getFloatAttr(f, APFloat::getOne(sem));
    // Formats without infinity (e4m3fn) start from their largest finite value.
    case CombineKind::max:
      return b.getFloatAttr(f, APFloat::getInf(sem, true).isInfinity()
                                   ? APFloat::getInf(sem, true)
                                   : APFloat::getLargest(sem, true));
    case CombineKind::min:
      return b.getFloatAttr(f, APFloat::getInf(sem, false).isInfinity()
                                   ? APFloat::getInf(sem, false)
                                   : APFloat::getLargest(sem, false));
    }
  }
  unsigned w = elem.getIntOrFloatBitWidth();
  switch (kind) {
  case CombineKind::sum: return b.getIntegerAttr(elem, APInt(w, 0));
  case CombineKind::prod: return b.getIntegerAttr(elem, APInt(w, 1));
  case CombineKind::max:
    return b.getIntegerAttr(elem, w == 1 ? APInt(1, 0) : APInt::getSignedMinValue(w));
  case CombineKind::min:
    return b.getIntegerAttr(elem, w == 1 ? APInt(1, 1) : APInt::getSignedMaxValue(w));
  }
  return {};
}

/// Applies a combine op's combiner (built-in or region) to two scalars.
Value applyCombiner(OpBuilder &b, Location loc, std::optional<CombineKind> kind,
                    Region &region, Value acc, Value x) {
  if (kind)
    return combineBuiltin(b, loc, *kind, acc, x);
  IRMapping map;
  Block &block = region.front();
  map.map(block.getArgument(0), acc);
  map.map(block.getArgument(1), x);
  for (Operation &inner : block.without_terminator())
    b.clone(inner, map);
  return map.lookup(cast<YieldOp>(block.getTerminator()).getValues()[0]);
}


void whenTrue(OpBuilder &b, Location loc, Value cond,
              function_ref<void(OpBuilder &, Location)> body) {
  if (!cond)
    return body(b, loc);
  b.create<scf::IfOp>(loc, cond, [&](OpBuilder &t, Location l) {
    body(t, l);
    t.create<scf::YieldOp>(l);
  });
}

Value branchValue(OpBuilder &b, Location loc, Value cond,
                  function_ref<Value(OpBuilder &, Location)> then,
                  function_ref<Value(OpBuilder &, Location)> otherwise) {
  if (!cond)
    return then(b, loc);
  auto ifOp = b.create<scf::IfOp>(
      loc, cond,
      [&](OpBuilder &t, Location l) { t.create<scf::YieldOp>(l, ValueRange{then(t, l)}); },
      [&](OpBuilder &e, Location l) { e.create<scf::YieldOp>(l, ValueRange{otherwise(e, l)}); });
  return ifOp.getResult(0);
}

LogicalResult checkElementArithmetic(Operation *root) {
  WalkResult result = root->walk([](Operation *op) {
    if (!isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) ||
        isa<arith::BitcastOp, arith::ConstantOp, arith::SelectOp>(op))
      return WalkResult::advance();
    auto types = llvm::concat<const Type>(op->getOperandTypes(), op->getResultTypes());
    for (Type t : types)
      if (isF8(elementOf(t))) {
        op->emitOpError("on 8-bit floats is not supported: kiln.cast to f16, bf16 or f32 "
                        "first (8-bit floats are a storage format)");
        return WalkResult::interrupt();
      }
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

} // namespace mlir::kiln::lowering
