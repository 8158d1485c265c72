//===- Distribution.cpp - tiles over threads: register layouts, coordinates, conversions ---===//
#include "passes/GPU/KernelLowering.h"

#define DEBUG_TYPE "kiln-lower-to-gpu"

using namespace mlir;
using namespace mlir::kiln;

namespace mlir::kiln::lowering {

Value KernelLowering::cst(Location loc, int64_t v) { return intConst(b, loc, b.getI32Type(), v); }

Dist KernelLowering::distOf(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return {t, layouts.layoutOf(v)};
}

Dist KernelLowering::blocked(Type t) { return {cast<RankedTensorType>(t), TileLayout::blocked()}; }

bool KernelLowering::isMma(const Dist &d) const { return d.layout.kind == TileLayoutKind::MmaAccumulator; }

bool KernelLowering::isRows(const Dist &d) const { return d.layout.kind == TileLayoutKind::MmaRows; }

/// MmaRows: the rows one warp owns, and its m16 atoms along them (two rows each per
/// thread: g and g + 8).
int64_t KernelLowering::warpRows(const Dist &d) const { return d.type.getDimSize(0) / d.layout.warpsM; }

/// Blocked tiles smaller than the block are replicated: thread t holds element
/// t % N, and only threads t < N (the owners) write it to memory.
bool KernelLowering::replicated(const Dist &d) const {
  return !isMma(d) && !isRows(d) && d.type.getNumElements() < spread;
}

int64_t KernelLowering::perThread(const Dist &d) const {
  if (isRows(d))
    return warpRows(d) / 16 * 2;
  return replicated(d) ? 1 : d.type.getNumElements() / spread;
}

/// Consecutive registers holding consecutive elements of a row.
int64_t KernelLowering::vecWidth(const Dist &d) const {
  unsigned bits = getElementBitWidth(d.type.getElementType());
  if (isRows(d))
    return 1;
  if (isMma(d))
    return d.layout.atom == 0 && bits <= 64 ? 2 : 1;
  if (replicated(d))
    return 1;
  // Up to 4 elements per run whatever the element type, so that tiles of one shape share
  // the layout register for register (an elementwise op may mix f32, bf16 and i1
  // tiles); that is one 16-byte access for 32-bit elements.
  int64_t r = perThread(d), v = 1;
  while (v * 2 <= r && r % (v * 2) == 0 && v * 2 <= 4)
    v *= 2;
  return v;
}

/// Linear index (i32) of register k of a blocked tile.
Value KernelLowering::linearIndex(Location loc, const Dist &d, int64_t k) {
  if (replicated(d))
    return b.create<arith::RemUIOp>(loc, spreadId, cst(loc, d.type.getNumElements()));
  int64_t v = vecWidth(d);
  Value base = b.create<arith::MulIOp>(loc, spreadId, cst(loc, v));
  return b.create<arith::AddIOp>(loc, base, cst(loc, (k / v) * spread * v + k % v));
}

/// The tile index a thread-value layout gives this thread's lane (run time) and value
/// `v` (compile time): a CuTe layout is a sum over its modes, so the lane's part is the
/// lane split by the thread mode's shape times its strides.
Value KernelLowering::tvIndex(Location loc, const ::kiln::layout::Layout &tv, int64_t v) {
  Value lane = b.create<arith::RemUIOp>(loc, threadId, cst(loc, warpSize));
  std::vector<int64_t> shape = ::kiln::layout::flattenToVector(tv[0].shape());
  std::vector<int64_t> stride = ::kiln::layout::flattenToVector(tv[0].stride());
  Value index = cst(loc, tv[1](v));
  int64_t below = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    Value c = b.create<arith::RemUIOp>(
        loc, b.create<arith::DivUIOp>(loc, lane, cst(loc, below)), cst(loc, shape[i]));
    index = b.create<arith::AddIOp>(loc, index, b.create<arith::MulIOp>(loc, c, cst(loc, stride[i])));
    below *= shape[i];
  }
  return index;
}

/// Row-major coordinates (i32) of register k.
SmallVector<Value> KernelLowering::coordinates(Location loc, const Dist &d, int64_t k) {
  RankedTensorType t = d.type;
  if (isRows(d)) {
    // Register k = 2 * i + h: row g + 8 * h of m16 atom i of this warp's rows.
    Value lane = b.create<arith::RemUIOp>(loc, threadId, cst(loc, 32));
    Value warpRow = b.create<arith::DivUIOp>(
        loc, b.create<arith::DivUIOp>(loc, threadId, cst(loc, 32)), cst(loc, d.layout.warpsN));
    Value row = b.create<arith::AddIOp>(
        loc, b.create<arith::MulIOp>(loc, warpRow, cst(loc, warpRows(d))),
        b.create<arith::AddIOp>(loc, b.create<arith::DivUIOp>(loc, lane, cst(loc, 4)),
                                cst(loc, (k / 2) * 16 + (k % 2) * 8)));
    SmallVector<Value> c{row};
    if (t.getRank() == 2)
      c.push_back(cst(loc, 0));
    return c;
  }
  if (isMma(d) && d.layout.atom != 0) {
    // Register k = (i * atomsN + j) * values + v: atom (i, j) of this wave's block, value
    // v of the atom's C fragment (its TV layout gives m + atomM * n).
    const auto &atom = matrixAtom(d.layout.atom);
    int64_t wm = t.getDimSize(0) / d.layout.warpsM, wn = t.getDimSize(1) / d.layout.warpsN;
    int64_t values = atom.m * atom.n / atom.threads, atomsN = wn / atom.n;
    int64_t a = k / values, v = k % values, i = a / atomsN, j = a % atomsN;
    Value index = tvIndex(loc, atom.c, v);
    Value m = b.create<arith::RemUIOp>(loc, index, cst(loc, atom.m));
    Value n = b.create<arith::DivUIOp>(loc, index, cst(loc, atom.m));
    Value warp = b.create<arith::DivUIOp>(loc, threadId, cst(loc, warpSize));
    Value warpRow = b.create<arith::DivUIOp>(loc, warp, cst(loc, d.layout.warpsN));
    Value warpCol = b.create<arith::RemUIOp>(loc, warp, cst(loc, d.layout.warpsN));
    Value row = b.create<arith::AddIOp>(
        loc, b.create<arith::MulIOp>(loc, warpRow, cst(loc, wm)),
        b.create<arith::AddIOp>(loc, m, cst(loc, i * atom.m)));
    Value col = b.create<arith::AddIOp>(
        loc, b.create<arith::MulIOp>(loc, warpCol, cst(loc, wn)),
        b.create<arith::AddIOp>(loc, n, cst(loc, j * atom.n)));
    return {row, col};
  }
  if (isMma(d)) {
    // Register k = ((i * atomsN + j) * 4 + c): atom (i, j) of this warp's block,
    // fragment value c at row g + 8 * (c / 2), column 2 * (lane % 4) + c % 2.
    int64_t wm = t.getDimSize(0) / d.layout.warpsM, wn = t.getDimSize(1) / d.layout.warpsN;
    int64_t atomsN = wn / 8, atom = k / 4, c = k % 4;
    int64_t i = atom / atomsN, j = atom % atomsN;
    Value lane = b.create<arith::RemUIOp>(loc, threadId, cst(loc, 32));
    Value warp = b.create<arith::DivUIOp>(loc, threadId, cst(loc, 32));
    Value warpRow = b.create<arith::DivUIOp>(loc, warp, cst(loc, d.layout.warpsN));
    Value warpCol = b.create<arith::RemUIOp>(loc, warp, cst(loc, d.layout.warpsN));
    Value g = b.create<arith::DivUIOp>(loc, lane, cst(loc, 4));
    Value pair = b.create<arith::MulIOp>(loc, b.create<arith::RemUIOp>(loc, lane, cst(loc, 4)),
                                         cst(loc, 2));
    Value row = b.create<arith::AddIOp>(
        loc, b.create<arith::MulIOp>(loc, warpRow, cst(loc, wm)),
        b.create<arith::AddIOp>(loc, g, cst(loc, i * 16 + 8 * (c / 2))));
    Value col = b.create<arith::AddIOp>(
        loc, b.create<arith::MulIOp>(loc, warpCol, cst(loc, wn)),
        b.create<arith::AddIOp>(loc, pair, cst(loc, j * 8 + c % 2)));
    return {row, col};
  }
  Value i = linearIndex(loc, d, k);
  SmallVector<Value> coords(t.getRank());
  for (int64_t dim = t.getRank() - 1; dim >= 0; --dim) {
    Value size = cst(loc, t.getDimSize(dim));
    coords[dim] = dim == 0 ? i : b.create<arith::RemUIOp>(loc, i, size).getResult();
    if (dim > 0)
      i = b.create<arith::DivUIOp>(loc, i, size);
  }
  return coords;
}

LogicalResult KernelLowering::checkTile(Operation *op, Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t)
    return success();
  if (t.getEncoding())
    return op->emitOpError("tiles with explicit layouts are not supported by the GPU "
                           "lowering yet");
  int64_t n = t.getNumElements();
  if (n % spread != 0 && spread % n != 0)
    return op->emitOpError("tile of ")
           << n << " elements does not divide over " << spread
           << " threads, nor they over it; use a power of two";
  return success();
}

/// For a replicated tile, whether this thread owns its element (writes it); null
/// when every thread owns its registers.
Value KernelLowering::ownerMask(Location loc, const Dist &d) {
  if (isRows(d)) {
    // A row's value is in every lane of its quad and in every warp column.
    Value lane = b.create<arith::RemUIOp>(loc, threadId, cst(loc, 32));
    Value warpCol = b.create<arith::RemUIOp>(
        loc, b.create<arith::DivUIOp>(loc, threadId, cst(loc, 32)), cst(loc, d.layout.warpsN));
    return b.create<arith::AndIOp>(
        loc,
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                b.create<arith::RemUIOp>(loc, lane, cst(loc, 4)), cst(loc, 0)),
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, warpCol, cst(loc, 0)));
  }
  if (!replicated(d))
    return {};
  return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, spreadId,
                                 cst(loc, d.type.getNumElements()));
}

Value KernelLowering::andMask(Location loc, Value a, Value m) {
  if (!a)
    return m;
  if (!m)
    return a;
  return b.create<arith::AndIOp>(loc, a, m);
}

/// The type a scalar or tile element has in registers (pointers become LLVM pointers).
Type KernelLowering::registerType(Type t) {
  if (isa<PtrType>(t))
    return LLVM::LLVMPointerType::get(b.getContext());
  return t;
}

/// Tile exchanges and cross-thread reductions move numbers only.
LogicalResult KernelLowering::checkNumeric(Operation *op, Type tile) {
  Type elem = elementOf(tile);
  if (!isa<IntegerType, FloatType>(elem))
    return op->emitOpError("moves ")
           << elem << " elements between threads, which the GPU lowering does not support";
  return success();
}

Value KernelLowering::scalar(Value v) { return scalars.lookupOrDefault(v); }

/// The registers of tile `v` in layout `d` (converted through shared memory when
/// `v` lives in another layout; splats are repeated).
ArrayRef<Value> KernelLowering::regs(Value v, const Dist &d) {
  auto key = std::make_pair(v, d.layout.key());
  if (auto it = splatScalars.find(v); it != splatScalars.end()) {
    auto &r = converted[key];
    if ((int64_t)r.size() != perThread(d))
      r.assign(perThread(d), it->second);
    return r;
  }
  if (layouts.layoutOf(v) == d.layout)
    return tiles[v];
  auto &r = converted[key];
  if (r.empty())
    r = convert(v, d);
  return r;
}

/// Register k of tile or broadcast scalar `v` in layout `d` (convert first with
/// `prepare` when inside a branch).
Value KernelLowering::element(Value v, int64_t k, const Dist &d) {
  if (!isa<RankedTensorType>(v.getType()))
    return scalar(v);
  return regs(v, d)[k];
}

/// Brings every tile operand of `op` into layout `d` at the current point, so that
/// `element` inside branches only reads registers.
void KernelLowering::prepare(Operation *op, const Dist &d) {
  for (Value v : op->getOperands())
    if (isa<RankedTensorType>(v.getType()))
      (void)regs(v, d);
}

/// Workgroup-memory copy of tile `v` in row-major order (scratch); read it with
/// readShared.
Value KernelLowering::toShared(Location loc, Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  Type storage = storageType(b, t.getElementType());
  Value buf = sharedAlloc(loc, t.getNumElements() * storageBytes(storage), false);
  Dist d = splatScalars.count(v) ? blocked(t) : distOf(v);
  ArrayRef<Value> values = regs(v, d);
  Value owner = ownerMask(loc, d);
  for (int64_t k = 0; k < perThread(d); ++k) {
    Value index = isMma(d) || isRows(d) ? linearize(loc, t.getShape(), coordinates(loc, d, k))
                                        : linearIndex(loc, d, k);
    Value value = toStorage(b, loc, values[k]);
    whenTrue(b, loc, owner, [&](OpBuilder &bb, Location l) {
      storeShared(bb, l, buf, index, value);
    });
  }
  syncThreads(loc);
  return buf;
}

int64_t KernelLowering::storageBytes(Type storage) {
  return (storage.getIntOrFloatBitWidth() + 7) / 8;
}

Value KernelLowering::readShared(Location loc, Value buf, Value linear, Type elem) {
  Type storage = storageType(b, elem);
  return fromStorage(b, loc, loadShared(loc, buf, linear, storage), elem);
}

/// `v`'s registers in layout `d` (whose type may be another element type of the same
/// shape: an elementwise op's result).
SmallVector<Value> KernelLowering::convert(Value v, const Dist &d) {
  Location loc = v.getLoc();
  Value buf = toShared(loc, v);
  Type elem = cast<RankedTensorType>(v.getType()).getElementType();
  SmallVector<Value> out;
  for (int64_t k = 0; k < perThread(d); ++k)
    out.push_back(
        readShared(loc, buf, linearize(loc, d.type.getShape(), coordinates(loc, d, k)), elem));
  return out;
}

/// Row-major linear index (i32) of `coords` in `shape`.
Value KernelLowering::linearize(Location loc, ArrayRef<int64_t> shape, ArrayRef<Value> coords) {
  Value linear = cst(loc, 0);
  for (size_t d = 0; d < shape.size(); ++d) {
    linear = b.create<arith::MulIOp>(loc, linear, cst(loc, shape[d]));
    linear = b.create<arith::AddIOp>(loc, linear, coords[d]);
  }
  return linear;
}

} // namespace mlir::kiln::lowering
