//===- ReduceScan.cpp - reductions, scans, broadcasts and transposes across threads ---===//
#include "passes/GPU/KernelLowering.h"

#define DEBUG_TYPE "kiln-lower-to-gpu"

using namespace mlir;
using namespace mlir::kiln;

namespace mlir::kiln::lowering {

Value KernelLowering::broadcastFromThread0(Location loc, Value v) {
  Type storage = storageType(b, v.getType());
  Value buf = sharedAlloc(loc, storageBytes(storage), false);
  Value zero = cst(loc, 0);
  Value isFirst = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, zero);
  Value raw = toStorage(b, loc, v);
  whenTrue(b, loc, isFirst, [&](OpBuilder &bb, Location l) { storeShared(bb, l, buf, zero, raw); });
  syncThreads(loc);
  return readShared(loc, buf, zero, v.getType());
}

LogicalResult KernelLowering::lowerReduce(ReduceOp op) {
  Location loc = op.getLoc();
  auto t = cast<RankedTensorType>(op.getInput().getType());
  Type elem = t.getElementType();
  if (elem.getIntOrFloatBitWidth() != 32)
    return op.emitOpError("GPU reductions support 32-bit elements; cast first");
  auto combine = [&](Value acc, Value x) {
    return applyCombiner(b, loc, op.getKind(), op.getCombiner(), acc, x);
  };
  // Registers, then lanes (butterfly shuffles), then warps (workgroup memory).
  ArrayRef<Value> in = regs(op.getInput(), blocked(t));
  Value acc = in[0];
  for (size_t k = 1; k < in.size(); ++k)
    acc = combine(acc, in[k]);
  int64_t lanes = std::min(threads, warpSize);
  for (int64_t offset = lanes / 2; offset >= 1; offset /= 2) {
    auto shuffle = b.create<gpu::ShuffleOp>(loc, acc, (int32_t)offset, (int32_t)warpSize,
                                            gpu::ShuffleMode::XOR);
    acc = combine(acc, shuffle.getShuffleResult());
  }
  int64_t warps = threads / warpSize;
  if (warps > 1) {
    Value buf = sharedAlloc(loc, warps * 4, false);
    Value warp = b.create<arith::DivUIOp>(loc, threadId, cst(loc, warpSize));
    Value lane = b.create<arith::RemUIOp>(loc, threadId, cst(loc, warpSize));
    Value isLane0 = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, lane, cst(loc, 0));
    whenTrue(b, loc, isLane0, [&](OpBuilder &bb, Location l) { storeShared(bb, l, buf, warp, acc); });
    syncThreads(loc);
    acc = loadShared(loc, buf, cst(loc, 0), elem);
    for (int64_t w = 1; w < warps; ++w)
      acc = combine(acc, loadShared(loc, buf, cst(loc, w), elem));
  }
  if (cluster > 1) {
    if (ReduceOp sum = normalizerSum(op)) {
      // Softmax's maximum stays local; the sum's exchange settles both (below).
      localMax[sum] = acc;
      // A block whose elements are all -inf subtracts 0: exp(-inf - -inf) would be NaN.
      acc = b.create<arith::SelectOp>(loc, isNegInf(loc, acc), zeroOf(b, loc, elem), acc);
    } else if (auto it = localMax.find(op); it != localMax.end()) {
      acc = combineNormalizer(loc, op, it->second, acc);
    } else {
      acc = combineOverCluster(loc, op, acc, combine);
    }
  }
  scalars.map(op.getResult(), acc);
  return success();
}

LogicalResult KernelLowering::lowerBroadcast(BroadcastOp op) {
  Location loc = op.getLoc();
  auto in = op.getInput().getType();
  if (failed(checkTile(op, in)))
    return failure();
  Dist d = distOf(op);
  TileLayout li = layouts.layoutOf(op.getInput());
  if (isMma(d) && d.layout.atom == 0 && li.kind == TileLayoutKind::MmaRows &&
      li.warpsM == d.layout.warpsM && li.warpsN == d.layout.warpsN &&
      li.warpgroup == d.layout.warpgroup && in.getDimSize(1) == 1 &&
      !splatScalars.count(op.getInput())) {
    // A row vector across an accumulator: register k of atom (i, j), value c sits on
    // row g + 8 * (c / 2) of atom row i, which this thread holds as rows register
    // 2 * i + c / 2.
    ArrayRef<Value> rows = regs(op.getInput(), Dist{cast<RankedTensorType>(in), li});
    int64_t atomsN = d.type.getDimSize(1) / d.layout.warpsN / 8;
    SmallVector<Value> out;
    for (int64_t k = 0; k < perThread(d); ++k)
      out.push_back(rows[(k / 4 / atomsN) * 2 + (k % 4) / 2]);
    tiles[op] = out;
    return success();
  }
  Value buf = toShared(loc, op.getInput());
  SmallVector<Value> out;
  for (int64_t k = 0; k < perThread(d); ++k) {
    SmallVector<Value> c = coordinates(loc, d, k);
    for (int64_t dim = 0; dim < in.getRank(); ++dim)
      if (in.getDimSize(dim) != d.type.getDimSize(dim))
        c[dim] = cst(loc, 0);
    out.push_back(readShared(loc, buf, linearize(loc, in.getShape(), c), d.type.getElementType()));
  }
  tiles[op] = out;
  return success();
}

LogicalResult KernelLowering::lowerTranspose(TransposeOp op) {
  Location loc = op.getLoc();
  auto in = op.getInput().getType();
  Value buf = toShared(loc, op.getInput());
  Dist d = distOf(op);
  SmallVector<Value> out;
  for (int64_t k = 0; k < perThread(d); ++k) {
    SmallVector<Value> c = coordinates(loc, d, k), src(in.getRank());
    for (auto [i, dim] : llvm::enumerate(op.getOrder()))
      src[dim] = c[i];
    out.push_back(readShared(loc, buf, linearize(loc, in.getShape(), src), d.type.getElementType()));
  }
  tiles[op] = out;
  return success();
}

/// Combines the input elements along `axis` at `coords` (the axis coordinate
/// ignored) for positions [lo, hi) of the axis, in order.
Value KernelLowering::combineAlong(Location loc, Value buf, RankedTensorType in, int64_t axis,
                                   SmallVector<Value> coords, Value lo, Value hi, Value init,
                                   std::optional<CombineKind> kind, Region &combiner) {
  auto loop = b.create<scf::ForOp>(
      loc, lo, hi, cst(loc, 1), ValueRange{init},
      [&](OpBuilder &inner, Location l, Value iv, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(inner.getInsertionBlock(), inner.getInsertionPoint());
        coords[axis] = iv;
        Value x = readShared(l, buf, linearize(l, in.getShape(), coords), in.getElementType());
        Value next = applyCombiner(b, l, kind, combiner, acc[0], x);
        b.create<scf::YieldOp>(l, next);
      });
  return loop.getResult(0);
}

/// Row reduction of an MMA accumulator tile (NVIDIA fragments): a row's elements sit
/// in one quad of lanes per warp column, so each thread combines its registers of a
/// row, the quad combines by shuffles, and the warps along N meet in shared memory.
/// Built-in combiners only (they reassociate).
LogicalResult KernelLowering::lowerRowReduceMMA(ReduceOp op, const Dist &src) {
  Location loc = op.getLoc();
  auto in = src.type;
  Type elem = in.getElementType();
  int64_t M = in.getDimSize(0), N = in.getDimSize(1);
  int64_t wm = M / src.layout.warpsM, wn = N / src.layout.warpsN;
  int64_t atomsM = wm / 16, atomsN = wn / 8, warpsN = src.layout.warpsN;
  auto combine = [&](Value a, Value x) {
    return applyCombiner(b, loc, op.getKind(), op.getCombiner(), a, x);
  };
  ArrayRef<Value> values = regs(op.getInput(), src);
  SmallVector<Value> partial = llvm::to_vector(values); // copied: maps may grow
  Dist d = distOf(op);
  // Into the accumulator's own rows with one warp column: registers only.
  bool inRegisters = isRows(d) && warpsN == 1;
  SmallVector<Value> rowValues;
  Value buf = inRegisters ? Value() : sharedAlloc(loc, warpsN * M * 4, false);
  Value lane = b.create<arith::RemUIOp>(loc, threadId, cst(loc, 32));
  Value warp = b.create<arith::DivUIOp>(loc, threadId, cst(loc, 32));
  Value warpRow = b.create<arith::DivUIOp>(loc, warp, cst(loc, warpsN));
  Value warpCol = b.create<arith::RemUIOp>(loc, warp, cst(loc, warpsN));
  Value g = b.create<arith::DivUIOp>(loc, lane, cst(loc, 4));
  Value quadLead = b.create<arith::CmpIOp>(
      loc, arith::CmpIPredicate::eq, b.create<arith::RemUIOp>(loc, lane, cst(loc, 4)), cst(loc, 0));
  for (int64_t i = 0; i < atomsM; ++i)
    for (int64_t h = 0; h < 2; ++h) {
      Value acc;
      for (int64_t j = 0; j < atomsN; ++j)
        for (int64_t c = 2 * h; c < 2 * h + 2; ++c) {
          Value x = partial[(i * atomsN + j) * 4 + c];
          acc = acc ? combine(acc, x) : x;
        }
      for (int32_t offset : {1, 2})
        acc = combine(acc, b.create<gpu::ShuffleOp>(loc, acc, offset, 32, gpu::ShuffleMode::XOR)
                               .getShuffleResult());
      if (inRegisters) {
        rowValues.push_back(acc); // register 2 * i + h
        continue;
      }
      Value row = b.create<arith::AddIOp>(
          loc, b.create<arith::MulIOp>(loc, warpRow, cst(loc, wm)),
          b.create<arith::AddIOp>(loc, g, cst(loc, i * 16 + 8 * h)));
      Value at = b.create<arith::AddIOp>(
          loc, b.create<arith::MulIOp>(loc, warpCol, cst(loc, M)), row);
      whenTrue(b, loc, quadLead, [&](OpBuilder &bb, Location l) { storeShared(bb, l, buf, at, acc); });
    }
  if (inRegisters) {
    tiles[op] = rowValues;
    return success();
  }
  syncThreads(loc);
  SmallVector<Value> out;
  for (int64_t k = 0; k < perThread(d); ++k) {
    Value row = isRows(d) ? coordinates(loc, d, k)[0] : linearIndex(loc, d, k);
    Value acc = loadShared(loc, buf, row, elem);
    for (int64_t w = 1; w < warpsN; ++w)
      acc = combine(acc, loadShared(loc, buf, b.create<arith::AddIOp>(loc, row, cst(loc, w * M)), elem));
    out.push_back(acc);
  }
  tiles[op] = out;
  return success();
}

LogicalResult KernelLowering::lowerReduceAxis(ReduceOp op) {
  Location loc = op.getLoc();
  auto in = cast<RankedTensorType>(op.getInput().getType());
  int64_t axis = op.getAxis();
  if (!splatScalars.count(op.getInput()) && isa<RankedTensorType>(op.getType())) {
    Dist src = distOf(op.getInput());
    if (isMma(src) && src.layout.atom == 0 && axis == 1 && op.getKind() &&
        in.getElementType().getIntOrFloatBitWidth() == 32 &&
        (layouts.layoutOf(op).kind == TileLayoutKind::Blocked ||
         layouts.layoutOf(op).kind == TileLayoutKind::MmaRows))
      return lowerRowReduceMMA(op, src);
  }
  Value buf = toShared(loc, op.getInput());
  Value zero = cst(loc, 0), one = cst(loc, 1), n = cst(loc, in.getDimSize(axis));
  auto outType = dyn_cast<RankedTensorType>(op.getType());
  if (!outType) {
    // A replicated 1-D tile: every thread combines all N elements in order.
    SmallVector<Value> c{zero};
    Value first = readShared(loc, buf, zero, in.getElementType());
    scalars.map(op.getResult(), combineAlong(loc, buf, in, axis, c, one, n, first,
                                             op.getKind(), op.getCombiner()));
    return success();
  }
  Dist d = distOf(op);
  SmallVector<Value> out;
  for (int64_t k = 0; k < perThread(d); ++k) {
    SmallVector<Value> oc = coordinates(loc, d, k), c;
    for (int64_t dim = 0, j = 0; dim < in.getRank(); ++dim)
      c.push_back(dim == axis ? zero : oc[j++]);
    Value first = readShared(loc, buf, linearize(loc, in.getShape(), c), in.getElementType());
    out.push_back(combineAlong(loc, buf, in, axis, c, one, n, first, op.getKind(),
                               op.getCombiner()));
  }
  tiles[op] = out;
  return success();
}

LogicalResult KernelLowering::lowerScan(ScanOp op) {
  Location loc = op.getLoc();
  Dist d = distOf(op);
  RankedTensorType t = d.type;
  int64_t axis = op.getAxis(), n = t.getDimSize(axis);
  Value buf = toShared(loc, op.getInput());
  Value one = cst(loc, 1);
  SmallVector<Value> out;
  for (int64_t k = 0; k < perThread(d); ++k) {
    SmallVector<Value> c = coordinates(loc, d, k);
    Value pos = c[axis];
    // Forward: ((x0 + x1) + ...) + x_pos. Reverse: ((x_{n-1} + x_{n-2}) + ...) + x_pos,
    // the order the host uses, so non-commutative combiners agree across targets.
    SmallVector<Value> sc(c);
    sc[axis] = cst(loc, op.getReverse() ? n - 1 : 0);
    Value first = readShared(loc, buf, linearize(loc, t.getShape(), sc), t.getElementType());
    Value count = op.getReverse()
                      ? b.create<arith::SubIOp>(loc, cst(loc, n - 1), pos).getResult()
                      : pos;
    auto loop = b.create<scf::ForOp>(
        loc, cst(loc, 0), count, one, ValueRange{first},
        [&](OpBuilder &inner, Location l, Value j, ValueRange acc) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(inner.getInsertionBlock(), inner.getInsertionPoint());
          SmallVector<Value> ec(c);
          Value step = b.create<arith::AddIOp>(l, j, one);
          ec[axis] = op.getReverse()
                         ? b.create<arith::SubIOp>(l, cst(l, n - 1), step).getResult()
                         : step;
          Value x = readShared(l, buf, linearize(l, t.getShape(), ec), t.getElementType());
          b.create<scf::YieldOp>(l, applyCombiner(b, l, op.getKind(), op.getCombiner(), acc[0], x));
        });
    out.push_back(loop.getResult(0));
  }
  tiles[op] = out;
  return success();
}

} // namespace mlir::kiln::lowering
