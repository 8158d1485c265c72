//===- MemoryOps.cpp - global loads, stores and atomics of blocked tiles -----------===//
#include "passes/GPU/KernelLowering.h"

#define DEBUG_TYPE "kiln-lower-to-gpu"

using namespace mlir;
using namespace mlir::kiln;

namespace mlir::kiln::lowering {

LogicalResult KernelLowering::lowerAddPtr(AddPtrOp op) {
  Location loc = op.getLoc();
  auto ptrType = LLVM::LLVMPointerType::get(b.getContext());
  Type pointee = cast<PtrType>(elementOf(op.getType())).getPointee();
  Type storage = storageType(b, pointee);
  return mapElementwise(op, [&](int64_t k, const Dist &d) -> Value {
    Value off = toI64(b, loc, element(op.getOffset(), k, d));
    return b.create<LLVM::GEPOp>(loc, ptrType, storage, element(op.getPtr(), k, d),
                                 ValueRange{off});
  });
}

Value KernelLowering::atomic(OpBuilder &bb, Location loc, LLVM::AtomicBinOp kind, Value ptr, Value val) {
  bool merge = kind == LLVM::AtomicBinOp::_and || kind == LLVM::AtomicBinOp::_or;
  return bb.create<LLVM::AtomicRMWOp>(loc, kind, ptr, val,
                                      merge ? LLVM::AtomicOrdering::monotonic
                                            : LLVM::AtomicOrdering::seq_cst);
}

/// Whether chunks of `vec` registers of tile `t` can move as one vector access: whole
/// bytes per element and chunks that never cross a row.
bool KernelLowering::vectorizable(RankedTensorType t, int64_t vec) {
  Type elem = t.getElementType();
  return vec > 1 && !isPacked(elem) && t.getDimSize(t.getRank() - 1) % vec == 0;
}

/// For `vec` elements starting at tile coordinates `first` (along the last dim):
/// (all in bounds, contiguous and aligned for one vector access; linear index of the
/// first element).
std::pair<Value, Value> KernelLowering::chunkFastPath(Location loc, Type elem, const DescParts &desc,
                                                      ValueRange offsets, ArrayRef<Value> first, int64_t vec) {
  auto [inBounds, linear] = blockElement(b, loc, desc, offsets, first);
  SmallVector<Value> last(first);
  last.back() = b.create<arith::AddIOp>(loc, last.back(), cst(loc, vec - 1));
  Value lastIn = blockElement(b, loc, desc, offsets, last).first;
  Value unit = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, desc.strides.back(),
                                       i64Const(b, loc, 1));
  int64_t elemBytes = getElementBitWidth(elem) / 8, bytes = vec * elemBytes;
  Value addr = b.create<LLVM::PtrToIntOp>(loc, b.getI64Type(), desc.base);
  Value byteOffset = b.create<arith::MulIOp>(loc, linear, i64Const(b, loc, elemBytes));
  Value start = b.create<arith::AddIOp>(loc, addr, byteOffset);
  Value misaligned = b.create<arith::AndIOp>(loc, start, i64Const(b, loc, bytes - 1));
  Value aligned = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, misaligned,
                                          i64Const(b, loc, 0));
  Value ok = b.create<arith::AndIOp>(loc, inBounds, lastIn);
  ok = b.create<arith::AndIOp>(loc, ok, b.create<arith::AndIOp>(loc, unit, aligned));
  return {ok, linear};
}

SmallVector<Value> KernelLowering::offsetsOf(ValueRange offsets) {
  SmallVector<Value> out;
  for (Value v : offsets)
    out.push_back(scalar(v));
  return out;
}

/// Element at `coords` of the block at `offsets`, or the padding outside the tensor,
/// as its storage type.
Value KernelLowering::guardedLoad(OpBuilder &bb, Location l, LoadOp op, const DescParts &desc,
                                  ValueRange offsets, ArrayRef<Value> coords) {
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
  Type elem = op.getType().getElementType();
  TypedAttr padding = op.getPaddingAttr();
  auto [inBounds, linear] = blockElement(b, l, desc, offsets, coords);
  return branchValue(
      b, l, inBounds,
      [&](OpBuilder &x, Location y) { return loadElement(x, y, desc.base, linear, elem); },
      [&](OpBuilder &x, Location y) {
        Value pad = padding ? (Value)x.create<arith::ConstantOp>(y, padding) : zeroOf(x, y, elem);
        return toStorage(x, y, pad);
      });
}

LogicalResult KernelLowering::lowerLoad(LoadOp op) {
  Location loc = op.getLoc();
  if (layouts.layoutOf(op).kind == TileLayoutKind::Shared)
    return lowerSharedLoad(op);
  if (layouts.layoutOf(op).kind == TileLayoutKind::BlockIO)
    return lowerBlockIOLoad(op);
  Dist d = distOf(op);
  Type elem = d.type.getElementType();
  const DescParts &desc = descs[op.getDesc()];
  SmallVector<Value> offsets = offsetsOf(op.getOffsets());
  Type storage = storageType(b, elem);
  auto ptrType = LLVM::LLVMPointerType::get(b.getContext());
  auto scalarLoad = [&](OpBuilder &bb, Location l, int64_t k) -> Value {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
    return guardedLoad(b, l, op, desc, offsets, coordinates(l, d, k));
  };
  int64_t vec = vecWidth(d);
  SmallVector<Value> out;
  if (!vectorizable(d.type, vec)) {
    for (int64_t k = 0; k < perThread(d); ++k)
      out.push_back(fromStorage(b, loc, scalarLoad(b, loc, k), elem));
    tiles[op] = out;
    return success();
  }
  // Chunks of `vec` registers: one vector load when the chunk is in bounds, contiguous
  // and aligned (the common case), element by element otherwise (edges, odd strides).
  auto vecType = VectorType::get({vec}, storage);
  for (int64_t k = 0; k < perThread(d); k += vec) {
    auto [fast, linear] =
        chunkFastPath(loc, elem, desc, offsets, coordinates(loc, d, k), vec);
    SmallVector<Type> types(vec, storage);
    auto ifOp = b.create<scf::IfOp>(loc, types, fast, /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      Value addr = b.create<LLVM::GEPOp>(loc, ptrType, storage, desc.base, ValueRange{linear});
      Value v = b.create<LLVM::LoadOp>(loc, vecType, addr,
                                       vec * getElementBitWidth(elem) / 8);
      SmallVector<Value> parts;
      for (int64_t j = 0; j < vec; ++j)
        parts.push_back(b.create<LLVM::ExtractElementOp>(
            loc, v, b.create<LLVM::ConstantOp>(loc, b.getI32Type(), j)));
      b.create<scf::YieldOp>(loc, parts);
      b.setInsertionPointToStart(&ifOp.getElseRegion().front());
      SmallVector<Value> slow;
      for (int64_t j = 0; j < vec; ++j)
        slow.push_back(scalarLoad(b, loc, k + j));
      b.create<scf::YieldOp>(loc, slow);
    }
    for (Value r : ifOp.getResults())
      out.push_back(fromStorage(b, loc, r, elem));
  }
  tiles[op] = out;
  return success();
}

LogicalResult KernelLowering::lowerStore(StoreOp op) {
  Location loc = op.getLoc();
  Value value = op.getValue();
  Dist d = splatScalars.count(value) ? blocked(value.getType()) : distOf(value);
  Type elem = d.type.getElementType();
  const DescParts &desc = descs[op.getDesc()];
  SmallVector<Value> offsets = offsetsOf(op.getOffsets());
  auto ptrType = LLVM::LLVMPointerType::get(b.getContext());
  ArrayRef<Value> values = regs(value, d);
  Value owner = ownerMask(loc, d);
  auto scalarStore = [&](int64_t k) {
    auto [inBounds, linear] = blockElement(b, loc, desc, offsets, coordinates(loc, d, k));
    Value v = values[k];
    whenTrue(b, loc, andMask(loc, inBounds, owner), [&](OpBuilder &bb, Location l) {
      storeElement(bb, l, desc.base, linear, v, elem,
                   [this](OpBuilder &x, Location y, LLVM::AtomicBinOp kind, Value p, Value val) {
                     return atomic(x, y, kind, p, val);
                   });
    });
  };
  int64_t vec = vecWidth(d);
  if (!vectorizable(d.type, vec)) {
    for (int64_t k = 0; k < perThread(d); ++k)
      scalarStore(k);
    return success();
  }
  Type storage = storageType(b, elem);
  auto vecType = VectorType::get({vec}, storage);
  for (int64_t k = 0; k < perThread(d); k += vec) {
    auto [fast, linear] =
        chunkFastPath(loc, elem, desc, offsets, coordinates(loc, d, k), vec);
    auto ifOp = b.create<scf::IfOp>(loc, TypeRange{}, fast, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    Value v = b.create<LLVM::PoisonOp>(loc, vecType);
    for (int64_t j = 0; j < vec; ++j)
      v = b.create<LLVM::InsertElementOp>(loc, v, toStorage(b, loc, values[k + j]),
                                          b.create<LLVM::ConstantOp>(loc, b.getI32Type(), j));
    Value addr = b.create<LLVM::GEPOp>(loc, ptrType, storage, desc.base, ValueRange{linear});
    b.create<LLVM::StoreOp>(loc, v, addr, vec * getElementBitWidth(elem) / 8);
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    for (int64_t j = 0; j < vec; ++j)
      scalarStore(k + j);
  }
  return success();
}

LogicalResult KernelLowering::lowerAtomicAdd(AtomicAddOp op) {
  Location loc = op.getLoc();
  Type elem = elementOf(op.getType());
  auto kind = isa<FloatType>(elem) ? LLVM::AtomicBinOp::fadd : LLVM::AtomicBinOp::add;
  if (!isa<RankedTensorType>(op.getType())) {
    // One scalar atomic per program, not one per thread.
    Value first = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, cst(loc, 0));
    Value cond = first;
    if (op.getMask())
      cond = b.create<arith::AndIOp>(loc, cond, scalar(op.getMask()));
    Value old = branchValue(
        b, loc, cond,
        [&](OpBuilder &bb, Location l) {
          return atomic(bb, l, kind, scalar(op.getPtrs()), scalar(op.getValue()));
        },
        [&](OpBuilder &bb, Location l) { return zeroOf(bb, l, elem); });
    // Every thread sees the value thread 0 got.
    scalars.map(op.getResult(), broadcastFromThread0(loc, old));
    return success();
  }
  Value owner = ownerMask(loc, blocked(op.getType()));
  return mapElementwise(op, [&](int64_t k, const Dist &d) -> Value {
    Value p = element(op.getPtrs(), k, d), v = element(op.getValue(), k, d);
    Value cond = andMask(loc, op.getMask() ? element(op.getMask(), k, d) : Value(), owner);
    if (!cond)
      return atomic(b, loc, kind, p, v);
    return branchValue(
        b, loc, cond,
        [&](OpBuilder &bb, Location l) { return atomic(bb, l, kind, p, v); },
        [&](OpBuilder &bb, Location l) { return zeroOf(bb, l, elem); });
  });
}

} // namespace mlir::kiln::lowering
