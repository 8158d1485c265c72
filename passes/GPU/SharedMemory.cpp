//===- SharedMemory.cpp - shared-memory arenas, swizzled tiles, copies into them ---===//
#include "passes/GPU/KernelLowering.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

#define DEBUG_TYPE "kiln-lower-to-gpu"

using namespace mlir;
using namespace mlir::kiln;

namespace mlir::kiln::lowering {

/// The swizzle for a `rows` x `cols` tile of 16-bit elements written in 16-byte chunks
/// (one per thread, row-major) and read by ldmatrix.x4, chosen by counting bank conflicts.
::kiln::layout::Swizzle ldmatrixSwizzle(int64_t rows, int64_t cols) {
  using namespace ::kiln::layout;
  auto str = [](int64_t v) { return std::to_string(v); };
  int64_t perRow = cols / 8; // chunks per row
  if (rows < 16 || (perRow < 32 && 32 % perRow != 0))
    return {};
  // Thread t writes chunk t: row t / perRow, columns 8 * (t % perRow) + [0, 8).
  std::string threadShape = perRow >= 32 ? "32" : "(" + str(perRow) + "," + str(32 / perRow) + ")";
  std::string threadStride = perRow >= 32 ? str(8 * rows) : "(" + str(8 * rows) + ",1)";
  auto smem = parseLayout("(" + str(rows) + "," + str(cols) + "):(" + str(cols) + ",1)");
  auto writer = parseLayout("(" + threadShape + ",8):(" + threadStride + "," + str(rows) + ")");
  auto embed = parseLayout("(16,16):(1," + str(rows) + ")");
  if (!smem || !writer || !embed)
    return {};
  auto reader = composition(*embed, nvidiaLdmatrixX4().source);
  if (!reader)
    return {};
  auto choice = swizzleSearch(*smem, {*writer, 8, 16}, {*reader, 8, 16});
  return choice ? choice->swizzle : Swizzle{};
}


Type KernelLowering::sharedPtrType() { return LLVM::LLVMPointerType::get(b.getContext(), 3); }

std::string KernelLowering::arenaSymbol() {
  return dynamicShared ? kDynamicShared.str() : staticArenaSymbol(func.getName());
}

Value KernelLowering::arena(bool persistent) {
  if (!persistentArena) {
    OpBuilder entry = OpBuilder::atBlockBegin(&func.getBody().front());
    persistentArena = entry.create<LLVM::AddressOfOp>(
        func.getLoc(), sharedPtrType(), FlatSymbolRefAttr::get(b.getContext(), arenaSymbol()));
  }
  if (persistent)
    return persistentArena;
  if (!scratchArena) {
    OpBuilder entry(b.getContext());
    entry.setInsertionPointAfterValue(persistentArena);
    scratchOffset = entry.create<LLVM::ConstantOp>(func.getLoc(), b.getI32Type(), 0);
    scratchArena = entry.create<LLVM::GEPOp>(func.getLoc(), sharedPtrType(), b.getI8Type(),
                                             persistentArena, ValueRange{scratchOffset});
  }
  return scratchArena;
}

/// `bytes` of shared memory. Persistent buffers live for the whole kernel; scratch
/// lives until the next op's lowering, which fences the reuse with a barrier.
Value KernelLowering::sharedAlloc(Location loc, int64_t bytes, bool persistent, int64_t align) {
  // 1024: the period of the 128-byte swizzle wgmma descriptors assume.
  if (persistent)
    return persistentAlloc(loc, bytes, 1024);
  if (!scratchFenced) {
    // Threads may still be reading what the previous op left here.
    syncThreads(loc);
    scratchFenced = true;
  }
  int64_t offset = llvm::alignTo(scratchCursor, align);
  scratchCursor = offset + bytes;
  scratchBytes = std::max(scratchBytes, scratchCursor);
  return b.create<LLVM::GEPOp>(loc, sharedPtrType(), b.getI8Type(), arena(false),
                               ArrayRef<LLVM::GEPArg>{(int32_t)offset});
}

/// Shared memory for the rest of the kernel (tiles, pipeline stages, tensor maps,
/// mbarriers), `align`-aligned.
Value KernelLowering::persistentAlloc(Location loc, int64_t bytes, int64_t align) {
  int64_t offset = llvm::alignTo(persistentBytes, align);
  persistentBytes = offset + bytes;
  persistentHigh = std::max(persistentHigh, persistentBytes);
  return b.create<LLVM::GEPOp>(loc, sharedPtrType(), b.getI8Type(), arena(true),
                               ArrayRef<LLVM::GEPArg>{(int32_t)offset});
}

/// A barrier for the program's threads: all of the block, or with a producer
/// warpgroup the consumers only (named barrier 1; the producer never joins one).
void KernelLowering::syncThreads(Location loc) {
  if (consumerSide)
    namedBarrier(loc, 1, threads);
  else
    b.create<gpu::BarrierOp>(loc);
}

/// `bar.sync id, count` as NVVM's barrier intrinsic, which LLVM knows is convergent: as
/// inline asm, LLVM may duplicate it into both arms of a branch (it did: bar.sync 2 in
/// a thread-0 branch and beside it hung warp 0, whose lanes met two instructions).
void KernelLowering::namedBarrier(Location loc, int64_t id, int64_t count) {
  b.create<NVVM::BarrierOp>(loc, Type(), cst(loc, id), cst(loc, count), NVVM::BarrierReductionAttr(),
                            Value());
}

/// Starts the lowering of one op: its scratch buffers may reuse earlier ones.
void KernelLowering::beginOp() {
  scratchCursor = 0;
  scratchFenced = false;
}

/// Declares the module's dynamic shared memory and records this kernel's size.
void KernelLowering::createArenas(Location loc) {
  int64_t total = persistentHigh;
  if (scratchArena) {
    int64_t start = llvm::alignTo(persistentHigh, 1024);
    scratchOffset.setValueAttr(b.getI32IntegerAttr(start));
    total = start + scratchBytes;
  }
  func->setAttr(kSharedBytesAttr, b.getI64IntegerAttr(total));
  auto module = func->getParentOfType<gpu::GPUModuleOp>();
  if (!persistentArena || module.lookupSymbol(arenaSymbol()))
    return;
  OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
  auto type = LLVM::LLVMArrayType::get(b.getI8Type(), dynamicShared ? 0 : total);
  mb.create<LLVM::GlobalOp>(loc, type, /*isConstant=*/false,
                            dynamicShared ? LLVM::Linkage::External : LLVM::Linkage::Internal,
                            arenaSymbol(), Attribute(), /*alignment=*/1024, /*addrSpace=*/3);
}

Value KernelLowering::sharedElementPtr(Location loc, Value base, Value index, Type storage) {
  return b.create<LLVM::GEPOp>(loc, sharedPtrType(), storage, base, ValueRange{index});
}

void KernelLowering::storeShared(OpBuilder &bb, Location loc, Value base, Value index, Value value) {
  Value p = bb.create<LLVM::GEPOp>(loc, sharedPtrType(), value.getType(), base,
                                   ValueRange{index});
  bb.create<LLVM::StoreOp>(loc, value, p);
}

Value KernelLowering::loadShared(Location loc, Value base, Value index, Type storage) {
  return b.create<LLVM::LoadOp>(loc, storage, sharedElementPtr(loc, base, index, storage));
}

/// Element offset (i32) of (row, col) in a shared tile, swizzled.
Value KernelLowering::tileOffset(Location loc, const SharedTile &s, Value row, Value col) {
  if (s.transposed)
    std::swap(row, col);
  Value o;
  if (s.blockCols == s.cols) {
    o = b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, row, cst(loc, s.cols)), col);
  } else {
    Value block = b.create<arith::DivUIOp>(loc, col, cst(loc, s.blockCols));
    Value inner = b.create<arith::RemUIOp>(loc, col, cst(loc, s.blockCols));
    o = b.create<arith::AddIOp>(
        loc, b.create<arith::MulIOp>(loc, block, cst(loc, s.rows * s.blockCols)),
        b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, row, cst(loc, s.blockCols)),
                                inner));
  }
  if (s.swizzle.isIdentity())
    return o;
  Value y = b.create<arith::AndIOp>(loc, o, cst(loc, s.swizzle.yyyMask()));
  Value moved = s.swizzle.shift >= 0
                    ? b.create<arith::ShRUIOp>(loc, y, cst(loc, s.swizzle.shift)).getResult()
                    : b.create<arith::ShLIOp>(loc, y, cst(loc, -s.swizzle.shift)).getResult();
  return b.create<arith::XOrIOp>(loc, o, moved);
}

/// The shared tile a dot reads `t` from: for ldmatrix, row-major in the swizzle the
/// bank-conflict search picks; for wgmma, 64-column blocks of 128-byte rows with the
/// 128-byte swizzle (Sw<3,4,3> on bytes) its matrix descriptors describe.
/// `transposed` stores the tile as its transpose (a K x N operand as N x K).
SharedTile KernelLowering::sharedTileFor(RankedTensorType t, Value base, bool warpgroup, bool transposed) {
  int64_t rows = t.getDimSize(0), cols = t.getDimSize(1);
  if (transposed)
    std::swap(rows, cols);
  Type elem = storageType(b, t.getElementType());
  if (warpgroup)
    return {base, rows, cols, 64, elem, ::kiln::layout::Swizzle::tryCreate(3, 3, 3).value(),
            transposed};
  // AMD and Intel read fragments element by element: an unswizzled tile keeps each
  // lane's addresses one register plus constant offsets.
  if (!target.nvidiaMma)
    return {base, rows, cols, cols, elem, ::kiln::layout::Swizzle{}, transposed};
  return {base, rows, cols, cols, elem, ldmatrixSwizzle(rows, cols), transposed};
}

/// Whether a shared load is stored K-major for warpgroup MMAs: read only as dot
/// operand B (K x N) through a view whose rows are contiguous in memory (a make_desc
/// with unit stride along dim 0, as Kᵀ is of K), with K a multiple of 64 and N <= 256.
bool KernelLowering::kMajorOperand(LoadOp load) {
  TileLayout l = layouts.layoutOf(load);
  RankedTensorType t = load.getType();
  if (l.kind != TileLayoutKind::Shared || !l.warpgroup || t.getDimSize(0) % 64 != 0 ||
      t.getDimSize(1) > 256 || t.getDimSize(1) % 8 != 0)
    return false;
  for (OpOperand &use : load->getUses())
    if (!isa<DotOp>(use.getOwner()) || use.getOperandNumber() != 1)
      return false;
  auto make = load.getDesc().getDefiningOp<MakeDescOp>();
  if (!make || make.getStrides().size() != 2)
    return false;
  auto stride = make.getStrides()[0].getDefiningOp<arith::ConstantOp>();
  auto one = stride ? dyn_cast<IntegerAttr>(stride.getValue()) : IntegerAttr();
  return one && one.getInt() == 1;
}

int64_t KernelLowering::tileBytes(RankedTensorType t) {
  return t.getNumElements() * storageBytes(storageType(b, t.getElementType()));
}

/// swizzle(offset) of a compile-time offset.
int64_t KernelLowering::swizzled(const SharedTile &s, int64_t offset) {
  return s.swizzle.isIdentity() ? offset : s.swizzle(offset);
}

/// Offset of (varRow + constRow, varCol + constCol). The swizzle is linear over XOR,
/// so when the variable parts (bits within `rowMask` / `colMask`) and the constants
/// share no bits and the row length is a power of two, it is
/// swizzle(var) ^ swizzle(const): swizzle(var) is then loop-invariant per thread.
Value KernelLowering::splitOffset(Location loc, const SharedTile &s, Value varRow, int64_t rowMask,
                                  int64_t constRow, Value varCol, int64_t colMask, int64_t constCol) {
  bool disjoint = llvm::isPowerOf2_64(s.cols) && llvm::isPowerOf2_64(s.blockCols) &&
                  (s.blockCols == s.cols || llvm::isPowerOf2_64(s.rows)) &&
                  (rowMask & constRow) == 0 && (colMask & constCol) == 0 &&
                  (colMask | constCol) < s.cols;
  if (!disjoint)
    return tileOffset(loc, s, b.create<arith::AddIOp>(loc, varRow, cst(loc, constRow)),
                      b.create<arith::AddIOp>(loc, varCol, cst(loc, constCol)));
  Value var = tileOffset(loc, s, varRow, varCol);
  int64_t c = swizzled(s, (constCol / s.blockCols) * s.rows * s.blockCols +
                              constRow * s.blockCols + constCol % s.blockCols);
  return c == 0 ? var : b.create<arith::XOrIOp>(loc, var, cst(loc, c)).getResult();
}

/// A mask covering every value below `bound`.
int64_t KernelLowering::below(int64_t bound) { return (int64_t)llvm::PowerOf2Ceil(bound) - 1; }

/// Whether the whole block at `offsets` (rows x cols) is inside the tensor with unit
/// inner stride and 16-byte aligned rows: then every chunk is one unguarded cp.async.
Value KernelLowering::blockFastPath(Location loc, const DescParts &desc, ValueRange offsets, int64_t rows,
                                    int64_t cols, int64_t elemBytes) {
  Value ok;
  auto both = [&](Value c) { ok = ok ? b.create<arith::AndIOp>(loc, ok, c).getResult() : c; };
  for (int d = 0; d < 2; ++d) {
    Value start = toI64(b, loc, offsets[d]);
    Value end = b.create<arith::AddIOp>(loc, start, i64Const(b, loc, d == 0 ? rows : cols));
    both(b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, start, i64Const(b, loc, 0)));
    both(b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sle, end, desc.shape[d]));
  }
  both(b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, desc.strides[1], i64Const(b, loc, 1)));
  Value rowBytes = b.create<arith::MulIOp>(loc, desc.strides[0], i64Const(b, loc, elemBytes));
  Value first = b.create<arith::AddIOp>(
      loc, b.create<arith::MulIOp>(loc, toI64(b, loc, offsets[0]), desc.strides[0]),
      toI64(b, loc, offsets[1]));
  Value addr = b.create<arith::AddIOp>(
      loc, b.create<LLVM::PtrToIntOp>(loc, b.getI64Type(), desc.base),
      b.create<arith::MulIOp>(loc, first, i64Const(b, loc, elemBytes)));
  Value bits = b.create<arith::OrIOp>(loc, rowBytes, addr);
  both(b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                               b.create<arith::AndIOp>(loc, bits, i64Const(b, loc, 15)),
                               i64Const(b, loc, 0)));
  return ok;
}

/// Issues the copy of the block a shared load reads into `dst`, in 16-byte chunks
/// (thread t takes chunks t, t + threads, ...; row-major). A block wholly inside the
/// tensor goes by unguarded cp.async from per-thread base addresses; otherwise each
/// chunk is checked: cp.async when it is in bounds, contiguous and aligned, element by
/// element with the load's padding when not.
void KernelLowering::copyToShared(LoadOp op, ValueRange offsets, const SharedTile &dst) {
  Location loc = op.getLoc();
  Type elem = op.getType().getElementType();
  const DescParts &desc = descs[op.getDesc()];
  int64_t elemBytes = getElementBitWidth(elem) / 8;
  int64_t vec = 16 / elemBytes, perRow = dst.cols / vec, chunks = dst.rows * perRow;
  auto ptrType = LLVM::LLVMPointerType::get(b.getContext());
  auto globalType = LLVM::LLVMPointerType::get(b.getContext(), 1);
  auto cpAsync = [&](Location l, Value target, Value linear) {
    Value src = b.create<LLVM::GEPOp>(l, ptrType, dst.elem, desc.base, ValueRange{linear});
    src = b.create<LLVM::AddrSpaceCastOp>(l, globalType, src);
    b.create<NVVM::CpAsyncOp>(l, target, src, 16, NVVM::LoadCacheModifierKind::CG, Value());
  };
  // Chunk c sits at row c / perRow, columns vec * (c % perRow) + [0, vec).
  auto place = [&](Location l, Value chunk) -> std::pair<Value, Value> {
    return {b.create<arith::DivUIOp>(l, chunk, cst(l, perRow)),
            b.create<arith::MulIOp>(l, b.create<arith::RemUIOp>(l, chunk, cst(l, perRow)),
                                    cst(l, vec))};
  };
  // Linear element index (i64) of block element (row, col), inside the tensor.
  auto linearOf = [&](Location l, Value row, Value col) -> Value {
    return b.create<arith::AddIOp>(
        l, b.create<arith::MulIOp>(l, toI64(b, l, b.create<arith::AddIOp>(l, offsets[0], row)),
                                   desc.strides[0]),
        toI64(b, l, b.create<arith::AddIOp>(l, offsets[1], col)));
  };
  // For round `first` (chunk t + first): `body` under "this thread has a chunk".
  auto rounds = [&](function_ref<void(Location, int64_t)> body) {
    for (int64_t first = 0; first < chunks; first += threads) {
      Value mine = chunks - first < threads
                       ? b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult,
                                                 b.create<arith::AddIOp>(loc, threadId, cst(loc, first)),
                                                 cst(loc, chunks)).getResult()
                       : Value();
      whenTrue(b, loc, mine, [&](OpBuilder &bb, Location l) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
        body(l, first);
      });
    }
  };
  auto ifOp = b.create<scf::IfOp>(loc, TypeRange{},
                                  blockFastPath(loc, desc, offsets, dst.rows, dst.cols, elemBytes),
                                  /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    bool evenRounds = threads % perRow == 0;
    int64_t rowsPerRound = evenRounds ? threads / perRow : 0;
    Value tRow, tCol;
    std::tie(tRow, tCol) = place(loc, threadId);
    Value base = linearOf(loc, tRow, tCol);
    rounds([&](Location l, int64_t first) {
      if (!evenRounds) {
        auto [row, col] = place(l, b.create<arith::AddIOp>(l, threadId, cst(l, first)));
        cpAsync(l, sharedElementPtr(l, dst.base, tileOffset(l, dst, row, col), dst.elem),
                linearOf(l, row, col));
        return;
      }
      int64_t rowStep = first / threads * rowsPerRound;
      Value linear = b.create<arith::AddIOp>(
          l, base, b.create<arith::MulIOp>(l, desc.strides[0], i64Const(b, l, rowStep)));
      Value at = splitOffset(l, dst, tRow, below(rowsPerRound), rowStep, tCol,
                             below(dst.cols), 0);
      cpAsync(l, sharedElementPtr(l, dst.base, at, dst.elem), linear);
    });
    // Blocks at the tensor's edges (or misaligned, or strided) are rare. With a few
    // chunks per thread each goes by cp.async when it is in bounds, element by element
    // otherwise. With many, the copy is element by element in loops whose trip counts
    // the optimiser cannot see, so they are neither unrolled nor hoisted into registers
    // the fast path's MMAs need.
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    if (chunks <= 2 * threads) {
      rounds([&](Location l, int64_t first) {
        Value row, col;
        std::tie(row, col) = place(l, b.create<arith::AddIOp>(l, threadId, cst(l, first)));
        Value target = sharedElementPtr(l, dst.base, tileOffset(l, dst, row, col), dst.elem);
        auto [fast, linear] = chunkFastPath(l, elem, desc, offsets, {row, col}, vec);
        auto chunkIf = b.create<scf::IfOp>(l, TypeRange{}, fast, /*withElseRegion=*/true);
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(&chunkIf.getThenRegion().front());
        cpAsync(l, target, linear);
        b.setInsertionPointToStart(&chunkIf.getElseRegion().front());
        for (int64_t j = 0; j < vec; ++j) {
          Value c = b.create<arith::AddIOp>(l, col, cst(l, j));
          Value v = guardedLoad(b, l, op, desc, offsets, {row, c});
          storeShared(b, l, dst.base, tileOffset(l, dst, row, c), v);
        }
      });
      return;
    }
    auto loopOver = [&](Value lo, int64_t count, int64_t stepBy,
                        function_ref<void(Value)> body) {
      Value hi = inlineAsm(loc, b.getI32Type(), "mov.u32 $0, " + std::to_string(count) + ";",
                           "=r", ValueRange{}, /*sideEffects=*/false);
      auto loop = b.create<scf::ForOp>(loc, lo, hi, cst(loc, stepBy));
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPoint(loop.getBody()->getTerminator());
      body(loop.getInductionVar());
    };
    loopOver(threadId, chunks, threads, [&](Value chunk) {
      Value row, col0;
      std::tie(row, col0) = place(loc, chunk);
      loopOver(cst(loc, 0), vec, 1, [&](Value j) {
        Value col = b.create<arith::AddIOp>(loc, col0, j);
        Value v = guardedLoad(b, loc, op, desc, offsets, {row, col});
        storeShared(b, loc, dst.base, tileOffset(loc, dst, row, col), v);
      });
    });
  }
}

/// A load read only by dots: its block goes to a persistent shared tile (or, inside a
/// pipelined loop, to the stage the copy issued earlier filled).
LogicalResult KernelLowering::lowerSharedLoad(LoadOp op) {
  if (auto it = pipelined.find(op); it != pipelined.end()) {
    sharedTiles[op] = it->second;
    return success();
  }
  Location loc = op.getLoc();
  bool warpgroup = layouts.layoutOf(op).warpgroup;
  SharedTile dst =
      sharedTileFor(op.getType(), sharedAlloc(loc, tileBytes(op.getType()), true), warpgroup,
                    kMajorOperand(op));
  // The previous iteration's dot may still read this tile.
  syncThreads(loc);
  copyToShared(op, offsetsOf(op.getOffsets()), dst);
  b.create<NVVM::CpAsyncCommitGroupOp>(loc);
  b.create<NVVM::CpAsyncWaitGroupOp>(loc, 0);
  if (warpgroup)
    fenceForAsyncProxy(loc);
  syncThreads(loc);
  sharedTiles[op] = dst;
  return success();
}

/// Shared memory written by this thread (cp.async or stores) becomes visible to the
/// tensor cores' async proxy (wgmma reads), once a barrier follows.
void KernelLowering::fenceForAsyncProxy(Location loc) {
  b.create<NVVM::FenceProxyOp>(
      loc, NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(b.getContext(), NVVM::SharedSpace::shared_cta));
}

/// After waiting for a stage: where TMA could not copy it (`tmaOk` false), cp.async
/// wrote through the generic proxy, and the MMAs read through the async one.
void KernelLowering::fenceUnlessTma(Location loc, Value tmaOk) {
  Value copied = b.create<arith::XOrIOp>(loc, tmaOk, b.create<arith::ConstantIntOp>(loc, 1, 1));
  whenTrue(b, loc, copied, [&](OpBuilder &bb, Location l) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
    fenceForAsyncProxy(l);
  });
}

/// A dot operand as a shared tile: a shared load's tile, or registers stored to scratch
/// in the form the dot reads.
/// `transposed` stores a K x N operand as N x K (each column's K run contiguous).
SharedTile KernelLowering::operandTile(Value v, bool warpgroup, bool transposed) {
  if (auto it = sharedTiles.find(v); it != sharedTiles.end())
    return it->second;
  Location loc = v.getLoc();
  auto t = cast<RankedTensorType>(v.getType());
  SharedTile s = sharedTileFor(t, sharedAlloc(loc, tileBytes(t), false, 1024), warpgroup,
                               transposed);
  Dist d = splatScalars.count(v) ? blocked(t) : distOf(v);
  ArrayRef<Value> values = regs(v, d);
  Value owner = ownerMask(loc, d);
  for (int64_t k = 0; k < perThread(d); ++k) {
    SmallVector<Value> c = coordinates(loc, d, k);
    Value at = tileOffset(loc, s, c[0], c[1]);
    Value raw = toStorage(b, loc, values[k]);
    whenTrue(b, loc, owner, [&](OpBuilder &bb, Location l) { storeShared(bb, l, s.base, at, raw); });
  }
  if (warpgroup)
    fenceForAsyncProxy(loc);
  syncThreads(loc);
  return s;
}

} // namespace mlir::kiln::lowering
