//===- KilnLowerToGPU.cpp - tile IR to the gpu dialect, tiles over threads -===//
//
// Each program instance becomes one thread block (workgroup) of `threads` threads.
// A tile is distributed in a blocked, row-major layout: thread t holds `vec`
// consecutive elements, then the chunk `threads * vec` further on, and so on, so
// neighbouring threads touch neighbouring addresses (coalesced access) and each thread
// owns contiguous runs (vector access). Element k of thread t has the linear index
//   ((k / vec) * threads + t) * vec + k % vec.
// Every tile of one size shares that layout, so elementwise code is register-local and
// reshapes are free; reductions combine in registers, across lanes with shuffles and
// across warps through workgroup memory. The output is target-neutral (gpu, scf,
// arith, math, LLVM memory ops); a target pipeline lowers it to NVVM or ROCDL.
//
#include "dialects/Kiln/KilnDialect.h"
#include "passes/ElementLowering.h"
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#define DEBUG_TYPE "kiln-lower-to-gpu"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNLOWERTOGPU
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// Lowers the body of one kernel into a gpu.func.
class KernelLowering {
public:
  KernelLowering(gpu::GPUFuncOp func, int64_t threads, int64_t warpSize, StringRef mma)
      : func(func), threads(threads), warpSize(warpSize), mma(mma.str()),
        b(OpBuilder::atBlockBegin(&func.getBody().front())) {}

  LogicalResult lower(FuncOp kernel) {
    Location loc = kernel.getLoc();
    Block &entry = kernel.getBody().front();
    for (auto [arg, newArg] : llvm::zip(entry.getArguments(), func.getArguments())) {
      if (auto desc = dyn_cast<DescType>(arg.getType()))
        descs[arg] = unpackDesc(b, loc, newArg, desc.getRank());
      else
        scalars.map(arg, newArg);
    }
    Value tid = b.create<gpu::ThreadIdOp>(loc, gpu::Dimension::x);
    threadId = b.create<arith::IndexCastOp>(loc, b.getI32Type(), tid);
    return lowerBlock(entry);
  }

private:
  gpu::GPUFuncOp func;
  int64_t threads, warpSize;
  std::string mma;
  OpBuilder b;
  Value threadId;
  IRMapping scalars;
  DenseMap<Value, SmallVector<Value>> tiles;
  DenseMap<Value, DescParts> descs;

  // --- layout -----------------------------------------------------------------

  /// Tiles smaller than the block are replicated: thread t holds element t % N, and
  /// only threads t < N (the owners) write it to memory.
  bool replicated(RankedTensorType t) const { return t.getNumElements() < threads; }
  int64_t perThread(RankedTensorType t) const {
    return replicated(t) ? 1 : t.getNumElements() / threads;
  }
  int64_t vecWidth(RankedTensorType t) const {
    if (replicated(t))
      return 1;
    int64_t r = perThread(t), v = 1;
    unsigned bits = getElementBitWidth(t.getElementType());
    while (v * 2 <= r && r % (v * 2) == 0 && v * 2 * bits <= 128)
      v *= 2;
    return v;
  }
  /// Linear index (i32) of register k of this thread in a tile of type `t`.
  Value linearIndex(Location loc, RankedTensorType t, int64_t k) {
    if (replicated(t))
      return b.create<arith::RemUIOp>(loc, threadId,
                                      intConst(b, loc, b.getI32Type(), t.getNumElements()));
    int64_t v = vecWidth(t);
    Value base = b.create<arith::MulIOp>(loc, threadId, intConst(b, loc, b.getI32Type(), v));
    int64_t offset = (k / v) * threads * v + k % v;
    return b.create<arith::AddIOp>(loc, base, intConst(b, loc, b.getI32Type(), offset));
  }
  /// Row-major coordinates (i32) of register k.
  SmallVector<Value> coordinates(Location loc, RankedTensorType t, int64_t k) {
    Value i = linearIndex(loc, t, k);
    SmallVector<Value> coords(t.getRank());
    for (int64_t d = t.getRank() - 1; d >= 0; --d) {
      Value size = intConst(b, loc, b.getI32Type(), t.getDimSize(d));
      coords[d] = d == 0 ? i : b.create<arith::RemUIOp>(loc, i, size).getResult();
      if (d > 0)
        i = b.create<arith::DivUIOp>(loc, i, size);
    }
    return coords;
  }

  LogicalResult checkTile(Operation *op, Type type) {
    auto t = dyn_cast<RankedTensorType>(type);
    if (!t)
      return success();
    if (t.getEncoding())
      return op->emitOpError("tiles with explicit layouts are not supported by the GPU "
                             "lowering yet");
    int64_t n = t.getNumElements();
    if (n % threads != 0 && threads % n != 0)
      return op->emitOpError("tile of ")
             << n << " elements does not divide over " << threads
             << " threads, nor they over it; use a power of two";
    return success();
  }

  /// For a replicated tile, whether this thread owns its element (writes it); null
  /// when every thread owns its registers.
  Value ownerMask(Location loc, RankedTensorType t) {
    if (!replicated(t))
      return {};
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, threadId,
                                   intConst(b, loc, b.getI32Type(), t.getNumElements()));
  }
  Value andMask(Location loc, Value a, Value m) {
    if (!a)
      return m;
    if (!m)
      return a;
    return b.create<arith::AndIOp>(loc, a, m);
  }

  /// The type a scalar or tile element has in registers (pointers become LLVM pointers).
  Type registerType(Type t) {
    if (isa<PtrType>(t))
      return LLVM::LLVMPointerType::get(b.getContext());
    return t;
  }

  /// Tile exchanges and cross-thread reductions move numbers only.
  LogicalResult checkNumeric(Operation *op, Type tile) {
    Type elem = elementOf(tile);
    if (!isa<IntegerType, FloatType>(elem))
      return op->emitOpError("moves ")
             << elem << " elements between threads, which the GPU lowering does not support";
    return success();
  }

  // --- values -----------------------------------------------------------------

  Value scalar(Value v) { return scalars.lookupOrDefault(v); }
  /// Register k of tile or broadcast scalar `v`.
  Value element(Value v, int64_t k) {
    if (isa<RankedTensorType>(v.getType()))
      return tiles[v][k];
    return scalar(v);
  }

  // --- walking ----------------------------------------------------------------

  LogicalResult lowerBlock(Block &block) {
    for (Operation &op : block)
      if (failed(lowerOp(&op)))
        return failure();
    return success();
  }

  LogicalResult lowerOp(Operation *op) {
    for (Type t : op->getResultTypes())
      if (failed(checkTile(op, t)))
        return failure();
    Location loc = op->getLoc();
    if (auto pid = dyn_cast<ProgramIdOp>(op)) {
      Value id = b.create<gpu::BlockIdOp>(loc, static_cast<gpu::Dimension>(pid.getAxis()));
      scalars.map(pid.getResult(), b.create<arith::IndexCastOp>(loc, b.getI32Type(), id));
      return success();
    }
    if (auto num = dyn_cast<NumProgramsOp>(op)) {
      Value n = b.create<gpu::GridDimOp>(loc, static_cast<gpu::Dimension>(num.getAxis()));
      scalars.map(num.getResult(), b.create<arith::IndexCastOp>(loc, b.getI32Type(), n));
      return success();
    }
    if (isa<ReturnOp>(op)) {
      b.create<gpu::ReturnOp>(loc);
      return success();
    }
    if (auto iota = dyn_cast<IotaOp>(op)) {
      auto t = iota.getType();
      SmallVector<Value> regs;
      for (int64_t k = 0; k < perThread(t); ++k)
        regs.push_back(castElements(b, loc, linearIndex(loc, t, k), t.getElementType(), true));
      tiles[iota] = regs;
      return success();
    }
    if (auto splat = dyn_cast<SplatOp>(op)) {
      tiles[splat] = SmallVector<Value>(perThread(splat.getType()), scalar(splat.getInput()));
      return success();
    }
    if (isa<ReshapeOp, ExpandDimsOp>(op)) {
      // Row-major order is kept, and with it every element's thread and register.
      tiles[op->getResult(0)] = tiles[op->getOperand(0)];
      return success();
    }
    if (auto cast = dyn_cast<CastOp>(op))
      return mapElementwise(op, [&](int64_t k) {
        return castElements(b, loc, element(cast.getInput(), k),
                            elementOf(cast.getType()), cast.getIsUnsigned());
      });
    if (auto make = dyn_cast<MakeDescOp>(op)) {
      DescParts parts;
      parts.base = scalar(make.getBase());
      for (Value v : make.getShape())
        parts.shape.push_back(scalar(v));
      for (Value v : make.getStrides())
        parts.strides.push_back(scalar(v));
      descs[make] = parts;
      return success();
    }
    if (auto add = dyn_cast<AddPtrOp>(op))
      return lowerAddPtr(add);
    if (auto load = dyn_cast<LoadOp>(op))
      return lowerLoad(load);
    if (auto store = dyn_cast<StoreOp>(op))
      return lowerStore(store);
    if (auto gather = dyn_cast<GatherOp>(op))
      return lowerGather(gather);
    if (auto scatter = dyn_cast<ScatterOp>(op))
      return lowerScatter(scatter);
    if (auto atomic = dyn_cast<AtomicAddOp>(op))
      return lowerAtomicAdd(atomic);
    if (isa<ReduceOp, ScanOp, BroadcastOp, TransposeOp, DotOp>(op))
      for (Value v : op->getOperands())
        if (failed(checkNumeric(op, v.getType())))
          return failure();
    if (auto reduce = dyn_cast<ReduceOp>(op))
      return reduce.getInput().getType().getRank() == 1 &&
                     !replicated(reduce.getInput().getType())
                 ? lowerReduce(reduce)
                 : lowerReduceAxis(reduce);
    if (auto scan = dyn_cast<ScanOp>(op))
      return lowerScan(scan);
    if (auto bcast = dyn_cast<BroadcastOp>(op))
      return lowerBroadcast(bcast);
    if (auto transpose = dyn_cast<TransposeOp>(op))
      return lowerTranspose(transpose);
    if (auto dot = dyn_cast<DotOp>(op))
      return lowerDot(dot);
    if (auto forOp = dyn_cast<scf::ForOp>(op))
      return lowerFor(forOp);
    if (auto ifOp = dyn_cast<scf::IfOp>(op))
      return lowerIf(ifOp);
    if (op->getDialect() && isa<KilnDialect>(op->getDialect()))
      return op->emitOpError("is not supported by the GPU lowering yet");
    bool touchesTiles = llvm::any_of(op->getOperandTypes(), llvm::IsaPred<RankedTensorType>) ||
                        llvm::any_of(op->getResultTypes(), llvm::IsaPred<RankedTensorType>);
    bool touchesKilnTypes =
        llvm::any_of(op->getOperandTypes(), llvm::IsaPred<PtrType, DescType>) ||
        llvm::any_of(op->getResultTypes(), llvm::IsaPred<PtrType, DescType>);
    if (touchesKilnTypes) {
      // Canonicalisation turns branches over pointers into selects.
      if (auto select = dyn_cast<arith::SelectOp>(op); select && isa<PtrType>(select.getType())) {
        scalars.map(select.getResult(),
                    b.create<arith::SelectOp>(loc, scalar(select.getCondition()),
                                              scalar(select.getTrueValue()),
                                              scalar(select.getFalseValue())));
        return success();
      }
      return op->emitOpError("on kiln pointers or descriptors is not supported by the GPU "
                             "lowering; choose them with kiln ops before using them");
    }
    if (!touchesTiles) {
      if (op->getNumRegions() != 0 && op->walk([](Operation *inner) {
            return isa<KilnDialect>(inner->getDialect()) ? WalkResult::interrupt()
                                                          : WalkResult::advance();
          }).wasInterrupted())
        return op->emitOpError("with kiln ops inside is not supported by the GPU lowering yet");
      b.clone(*op, scalars);
      return success();
    }
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      auto splatAttr = dyn_cast<SplatElementsAttr>(constant.getValue());
      if (!splatAttr)
        return op->emitOpError("only splat tile constants are supported by the GPU lowering");
      Value c = b.create<arith::ConstantOp>(loc, splatAttr.getSplatValue<TypedAttr>());
      tiles[constant] = SmallVector<Value>(perThread(cast<RankedTensorType>(constant.getType())), c);
      return success();
    }
    if (op->getNumRegions() == 0 && op->getNumResults() == 1 &&
        (isa<arith::ArithDialect, math::MathDialect>(op->getDialect())))
      return mapElementwise(op, [&](int64_t k) {
        OperationState state(loc, op->getName());
        for (Value v : op->getOperands())
          state.addOperands(element(v, k));
        state.addTypes(elementOf(op->getResult(0).getType()));
        state.addAttributes(op->getAttrs());
        return b.create(state)->getResult(0);
      });
    return op->emitOpError("on tiles is not supported by the GPU lowering yet");
  }

  LogicalResult mapElementwise(Operation *op, function_ref<Value(int64_t)> perElement) {
    Value result = op->getResult(0);
    auto t = dyn_cast<RankedTensorType>(result.getType());
    if (!t) {
      scalars.map(result, perElement(0));
      return success();
    }
    SmallVector<Value> regs;
    for (int64_t k = 0; k < perThread(t); ++k)
      regs.push_back(perElement(k));
    tiles[result] = regs;
    return success();
  }

  // --- memory -----------------------------------------------------------------

  LogicalResult lowerAddPtr(AddPtrOp op) {
    Location loc = op.getLoc();
    auto ptrType = LLVM::LLVMPointerType::get(b.getContext());
    Type pointee = cast<PtrType>(elementOf(op.getType())).getPointee();
    Type storage = storageType(b, pointee);
    return mapElementwise(op, [&](int64_t k) -> Value {
      Value off = toI64(b, loc, element(op.getOffset(), k));
      return b.create<LLVM::GEPOp>(loc, ptrType, storage, element(op.getPtr(), k),
                                   ValueRange{off});
    });
  }

  Value atomic(OpBuilder &bb, Location loc, LLVM::AtomicBinOp kind, Value ptr, Value val) {
    bool merge = kind == LLVM::AtomicBinOp::_and || kind == LLVM::AtomicBinOp::_or;
    return bb.create<LLVM::AtomicRMWOp>(loc, kind, ptr, val,
                                        merge ? LLVM::AtomicOrdering::monotonic
                                              : LLVM::AtomicOrdering::seq_cst);
  }

  /// `then` under `cond`, yielding its value, else `otherwise` (see branchValue).
  Value guarded(Location loc, Value cond, function_ref<Value(OpBuilder &, Location)> then,
                function_ref<Value(OpBuilder &, Location)> otherwise) {
    return branchValue(b, loc, cond, then, otherwise);
  }

  /// Whether chunks of `vec` registers of tile `t` can move as one vector access: whole
  /// bytes per element and chunks that never cross a row.
  bool vectorizable(RankedTensorType t, int64_t vec) {
    Type elem = t.getElementType();
    return vec > 1 && !isPacked(elem) && t.getDimSize(t.getRank() - 1) % vec == 0;
  }

  /// For the chunk starting at register k: (whole chunk in bounds, contiguous and
  /// aligned for a vector access, linear index of its first element).
  std::pair<Value, Value> chunkFastPath(Location loc, RankedTensorType t, const DescParts &desc,
                                        ValueRange offsets, int64_t k, int64_t vec) {
    SmallVector<Value> first = coordinates(loc, t, k);
    auto [inBounds, linear] = blockElement(b, loc, desc, offsets, first);
    SmallVector<Value> last(first);
    last.back() = b.create<arith::AddIOp>(loc, last.back(),
                                          intConst(b, loc, b.getI32Type(), vec - 1));
    Value lastIn = blockElement(b, loc, desc, offsets, last).first;
    Value unit = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, desc.strides.back(),
                                         i64Const(b, loc, 1));
    int64_t bytes = vec * getElementBitWidth(t.getElementType()) / 8;
    Value addr = b.create<LLVM::PtrToIntOp>(loc, b.getI64Type(), desc.base);
    Value byteOffset = b.create<arith::MulIOp>(
        loc, linear, i64Const(b, loc, getElementBitWidth(t.getElementType()) / 8));
    Value start = b.create<arith::AddIOp>(loc, addr, byteOffset);
    Value misaligned = b.create<arith::AndIOp>(loc, start, i64Const(b, loc, bytes - 1));
    Value aligned = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, misaligned,
                                            i64Const(b, loc, 0));
    Value ok = b.create<arith::AndIOp>(loc, inBounds, lastIn);
    ok = b.create<arith::AndIOp>(loc, ok, b.create<arith::AndIOp>(loc, unit, aligned));
    return {ok, linear};
  }

  LogicalResult lowerLoad(LoadOp op) {
    Location loc = op.getLoc();
    auto t = op.getType();
    Type elem = t.getElementType();
    const DescParts &desc = descs[op.getDesc()];
    SmallVector<Value> offsets;
    for (Value v : op.getOffsets())
      offsets.push_back(scalar(v));
    TypedAttr padding = op.getPaddingAttr();
    Type storage = storageType(b, elem);
    auto ptrType = LLVM::LLVMPointerType::get(b.getContext());
    // Element k on its own: a load under its bounds check.
    auto scalarLoad = [&](OpBuilder &bb, Location l, int64_t k) -> Value {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
      auto [inBounds, linear] = blockElement(b, l, desc, offsets, coordinates(l, t, k));
      return guarded(
          l, inBounds,
          [&](OpBuilder &x, Location y) { return loadElement(x, y, desc.base, linear, elem); },
          [&](OpBuilder &x, Location y) {
            Value pad = padding ? (Value)x.create<arith::ConstantOp>(y, padding) : zeroOf(x, y, elem);
            return toStorage(x, y, pad);
          });
    };
    int64_t vec = vecWidth(t);
    SmallVector<Value> regs;
    if (!vectorizable(t, vec)) {
      for (int64_t k = 0; k < perThread(t); ++k)
        regs.push_back(fromStorage(b, loc, scalarLoad(b, loc, k), elem));
      tiles[op] = regs;
      return success();
    }
    // Chunks of `vec` registers: one vector load when the chunk is in bounds, contiguous
    // and aligned (the common case), element by element otherwise (edges, odd strides).
    auto vecType = VectorType::get({vec}, storage);
    for (int64_t k = 0; k < perThread(t); k += vec) {
      auto [fast, linear] = chunkFastPath(loc, t, desc, offsets, k, vec);
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
        regs.push_back(fromStorage(b, loc, r, elem));
    }
    tiles[op] = regs;
    return success();
  }

  LogicalResult lowerStore(StoreOp op) {
    Location loc = op.getLoc();
    auto t = cast<RankedTensorType>(op.getValue().getType());
    Type elem = t.getElementType();
    const DescParts &desc = descs[op.getDesc()];
    SmallVector<Value> offsets;
    for (Value v : op.getOffsets())
      offsets.push_back(scalar(v));
    auto ptrType = LLVM::LLVMPointerType::get(b.getContext());
    Value owner = ownerMask(loc, t);
    auto scalarStore = [&](int64_t k) {
      auto [inBounds, linear] = blockElement(b, loc, desc, offsets, coordinates(loc, t, k));
      Value v = element(op.getValue(), k);
      whenTrue(b, loc, andMask(loc, inBounds, owner), [&](OpBuilder &bb, Location l) {
        storeElement(bb, l, desc.base, linear, v, elem,
                     [this](OpBuilder &x, Location y, LLVM::AtomicBinOp kind, Value p, Value val) {
                       return atomic(x, y, kind, p, val);
                     });
      });
    };
    int64_t vec = vecWidth(t);
    if (!vectorizable(t, vec)) {
      for (int64_t k = 0; k < perThread(t); ++k)
        scalarStore(k);
      return success();
    }
    Type storage = storageType(b, elem);
    auto vecType = VectorType::get({vec}, storage);
    for (int64_t k = 0; k < perThread(t); k += vec) {
      auto [fast, linear] = chunkFastPath(loc, t, desc, offsets, k, vec);
      auto ifOp = b.create<scf::IfOp>(loc, TypeRange{}, fast, /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      Value v = b.create<LLVM::PoisonOp>(loc, vecType);
      for (int64_t j = 0; j < vec; ++j)
        v = b.create<LLVM::InsertElementOp>(
            loc, v, toStorage(b, loc, element(op.getValue(), k + j)),
            b.create<LLVM::ConstantOp>(loc, b.getI32Type(), j));
      Value addr = b.create<LLVM::GEPOp>(loc, ptrType, storage, desc.base, ValueRange{linear});
      b.create<LLVM::StoreOp>(loc, v, addr, vec * getElementBitWidth(elem) / 8);
      b.setInsertionPointToStart(&ifOp.getElseRegion().front());
      for (int64_t j = 0; j < vec; ++j)
        scalarStore(k + j);
    }
    return success();
  }

  LogicalResult lowerGather(GatherOp op) {
    Location loc = op.getLoc();
    auto t = op.getType();
    Type elem = t.getElementType();
    return mapElementwise(op, [&](int64_t k) -> Value {
      Value ptr = element(op.getPtrs(), k);
      auto load = [&](OpBuilder &bb, Location l) {
        return loadElement(bb, l, ptr, i64Const(bb, l, 0), elem);
      };
      if (!op.getMask())
        return fromStorage(b, loc, load(b, loc), elem);
      Value raw = guarded(loc, element(op.getMask(), k), load,
                          [&](OpBuilder &bb, Location l) {
                            Value other = op.getOther() ? element(op.getOther(), k)
                                                        : zeroOf(bb, l, elem);
                            return toStorage(bb, l, other);
                          });
      return fromStorage(b, loc, raw, elem);
    });
  }

  LogicalResult lowerScatter(ScatterOp op) {
    Location loc = op.getLoc();
    auto t = cast<RankedTensorType>(op.getValue().getType());
    Value owner = ownerMask(loc, t);
    for (int64_t k = 0; k < perThread(t); ++k) {
      Value ptr = element(op.getPtrs(), k), v = element(op.getValue(), k);
      auto store = [&](OpBuilder &bb, Location l) {
        storeElement(bb, l, ptr, i64Const(bb, l, 0), v, t.getElementType(),
                     [this](OpBuilder &x, Location y, LLVM::AtomicBinOp kind, Value p, Value val) {
                       return atomic(x, y, kind, p, val);
                     });
      };
      whenTrue(b, loc, andMask(loc, op.getMask() ? element(op.getMask(), k) : Value(), owner),
               store);
    }
    return success();
  }

  LogicalResult lowerAtomicAdd(AtomicAddOp op) {
    Location loc = op.getLoc();
    Type elem = elementOf(op.getType());
    auto kind = isa<FloatType>(elem) ? LLVM::AtomicBinOp::fadd : LLVM::AtomicBinOp::add;
    if (!isa<RankedTensorType>(op.getType())) {
      // One scalar atomic per program, not one per thread.
      Value first = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId,
                                            intConst(b, loc, b.getI32Type(), 0));
      Value cond = first;
      if (op.getMask())
        cond = b.create<arith::AndIOp>(loc, cond, scalar(op.getMask()));
      Value old = guarded(
          loc, cond,
          [&](OpBuilder &bb, Location l) {
            return atomic(bb, l, kind, scalar(op.getPtrs()), scalar(op.getValue()));
          },
          [&](OpBuilder &bb, Location l) { return zeroOf(bb, l, elem); });
      // Every thread sees the value thread 0 got.
      scalars.map(op.getResult(), broadcastFromThread0(loc, old));
      return success();
    }
    Value owner = ownerMask(loc, cast<RankedTensorType>(op.getType()));
    return mapElementwise(op, [&](int64_t k) -> Value {
      Value p = element(op.getPtrs(), k), v = element(op.getValue(), k);
      Value cond = andMask(loc, op.getMask() ? element(op.getMask(), k) : Value(), owner);
      if (!cond)
        return atomic(b, loc, kind, p, v);
      return guarded(
          loc, cond,
          [&](OpBuilder &bb, Location l) { return atomic(bb, l, kind, p, v); },
          [&](OpBuilder &bb, Location l) { return zeroOf(bb, l, elem); });
    });
  }

  // --- cross-thread -----------------------------------------------------------

  /// A workgroup buffer of `count` elements of `elem`.
  Value workgroupBuffer(Location loc, int64_t count, Type elem) {
    auto space = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
    auto type = MemRefType::get({count}, elem, MemRefLayoutAttrInterface{}, space);
    return func.addWorkgroupAttribution(type, loc);
  }

  Value broadcastFromThread0(Location loc, Value v) {
    Value buf = workgroupBuffer(loc, 1, v.getType());
    Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
    Value isFirst = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId,
                                            intConst(b, loc, b.getI32Type(), 0));
    whenTrue(b, loc, isFirst, [&](OpBuilder &bb, Location l) {
      bb.create<memref::StoreOp>(l, v, buf, ValueRange{zero});
    });
    b.create<gpu::BarrierOp>(loc);
    Value result = b.create<memref::LoadOp>(loc, buf, ValueRange{zero});
    b.create<gpu::BarrierOp>(loc);
    return result;
  }

  LogicalResult lowerReduce(ReduceOp op) {
    Location loc = op.getLoc();
    auto t = cast<RankedTensorType>(op.getInput().getType());
    Type elem = t.getElementType();
    if (elem.getIntOrFloatBitWidth() != 32)
      return op.emitOpError("GPU reductions support 32-bit elements; cast first");
    auto combine = [&](Value acc, Value x) {
      return applyCombiner(b, loc, op.getKind(), op.getCombiner(), acc, x);
    };
    // Registers, then lanes (butterfly shuffles), then warps (workgroup memory).
    const SmallVector<Value> &regs = tiles[op.getInput()];
    Value acc = regs[0];
    for (size_t k = 1; k < regs.size(); ++k)
      acc = combine(acc, regs[k]);
    int64_t lanes = std::min(threads, warpSize);
    for (int64_t offset = lanes / 2; offset >= 1; offset /= 2) {
      auto shuffle = b.create<gpu::ShuffleOp>(loc, acc, (int32_t)offset, (int32_t)warpSize,
                                              gpu::ShuffleMode::XOR);
      acc = combine(acc, shuffle.getShuffleResult());
    }
    int64_t warps = threads / warpSize;
    if (warps > 1) {
      Value buf = workgroupBuffer(loc, warps, elem);
      Value ws = intConst(b, loc, b.getI32Type(), warpSize);
      Value warp = b.create<arith::DivUIOp>(loc, threadId, ws);
      Value lane = b.create<arith::RemUIOp>(loc, threadId, ws);
      Value isLane0 = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, lane,
                                              intConst(b, loc, b.getI32Type(), 0));
      Value warpIdx = b.create<arith::IndexCastOp>(loc, b.getIndexType(), warp);
      whenTrue(b, loc, isLane0, [&](OpBuilder &bb, Location l) {
        bb.create<memref::StoreOp>(l, acc, buf, ValueRange{warpIdx});
      });
      b.create<gpu::BarrierOp>(loc);
      acc = b.create<memref::LoadOp>(loc, buf, ValueRange{b.create<arith::ConstantIndexOp>(loc, 0)});
      for (int64_t w = 1; w < warps; ++w)
        acc = combine(acc, b.create<memref::LoadOp>(
                               loc, buf, ValueRange{b.create<arith::ConstantIndexOp>(loc, w)}));
      // The buffer may be reused by the next reduction of a loop iteration.
      b.create<gpu::BarrierOp>(loc);
    }
    scalars.map(op.getResult(), acc);
    return success();
  }

  // --- layout conversions through workgroup memory ----------------------------
  //
  // Ops that move elements between threads (broadcast, transpose, reductions along an
  // axis, scans, dot) go through a workgroup-memory copy of their input tile: every
  // thread stores its registers at their linear index, and after a barrier reads the
  // elements it needs. This is the general fallback of the layout system's conversion
  // plan; register-level plans (shuffles, MMA fragments) replace it op by op.

  /// Workgroup-memory copy of tile `v`; read it back with readShared.
  Value toShared(Location loc, Value v) {
    auto t = cast<RankedTensorType>(v.getType());
    Type storage = storageType(b, t.getElementType());
    Value buf = workgroupBuffer(loc, t.getNumElements(), storage);
    // The previous round (an earlier loop iteration) must have finished reading.
    b.create<gpu::BarrierOp>(loc);
    Value owner = ownerMask(loc, t);
    for (int64_t k = 0; k < perThread(t); ++k) {
      Value index = b.create<arith::IndexCastOp>(loc, b.getIndexType(), linearIndex(loc, t, k));
      Value value = toStorage(b, loc, tiles[v][k]);
      if (!owner) {
        b.create<memref::StoreOp>(loc, value, buf, ValueRange{index});
        continue;
      }
      whenTrue(b, loc, owner, [&](OpBuilder &bb, Location l) {
        bb.create<memref::StoreOp>(l, value, buf, ValueRange{index});
      });
    }
    b.create<gpu::BarrierOp>(loc);
    return buf;
  }

  Value readShared(Location loc, Value buf, Value linear, Type elem) {
    Value index = b.create<arith::IndexCastOp>(loc, b.getIndexType(), linear);
    return fromStorage(b, loc, b.create<memref::LoadOp>(loc, buf, ValueRange{index}), elem);
  }

  /// Row-major linear index (i32) of `coords` in `shape`.
  Value linearize(Location loc, ArrayRef<int64_t> shape, ArrayRef<Value> coords) {
    Value linear = intConst(b, loc, b.getI32Type(), 0);
    for (size_t d = 0; d < shape.size(); ++d) {
      linear = b.create<arith::MulIOp>(loc, linear, intConst(b, loc, b.getI32Type(), shape[d]));
      linear = b.create<arith::AddIOp>(loc, linear, coords[d]);
    }
    return linear;
  }

  LogicalResult lowerBroadcast(BroadcastOp op) {
    Location loc = op.getLoc();
    auto in = op.getInput().getType(), out = op.getType();
    if (failed(checkTile(op, in)))
      return failure();
    Value buf = toShared(loc, op.getInput());
    Value zero = intConst(b, loc, b.getI32Type(), 0);
    SmallVector<Value> regs;
    for (int64_t k = 0; k < perThread(out); ++k) {
      SmallVector<Value> c = coordinates(loc, out, k);
      for (int64_t d = 0; d < in.getRank(); ++d)
        if (in.getDimSize(d) != out.getDimSize(d))
          c[d] = zero;
      regs.push_back(readShared(loc, buf, linearize(loc, in.getShape(), c), out.getElementType()));
    }
    tiles[op] = regs;
    return success();
  }

  LogicalResult lowerTranspose(TransposeOp op) {
    Location loc = op.getLoc();
    auto in = op.getInput().getType(), out = op.getType();
    Value buf = toShared(loc, op.getInput());
    SmallVector<Value> regs;
    for (int64_t k = 0; k < perThread(out); ++k) {
      SmallVector<Value> c = coordinates(loc, out, k), src(in.getRank());
      for (auto [i, d] : llvm::enumerate(op.getOrder()))
        src[d] = c[i];
      regs.push_back(readShared(loc, buf, linearize(loc, in.getShape(), src), out.getElementType()));
    }
    tiles[op] = regs;
    return success();
  }

  /// Combines the input elements along `axis` at `coords` (the axis coordinate
  /// ignored) for positions [lo, hi) of the axis, in order.
  Value combineAlong(Location loc, Value buf, RankedTensorType in, int64_t axis,
                     SmallVector<Value> coords, Value lo, Value hi, Value init,
                     std::optional<CombineKind> kind, Region &combiner) {
    Value step = intConst(b, loc, b.getI32Type(), 1);
    auto loop = b.create<scf::ForOp>(
        loc, lo, hi, step, ValueRange{init},
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

  LogicalResult lowerReduceAxis(ReduceOp op) {
    Location loc = op.getLoc();
    auto in = cast<RankedTensorType>(op.getInput().getType());
    int64_t axis = op.getAxis();
    Value buf = toShared(loc, op.getInput());
    Value zero = intConst(b, loc, b.getI32Type(), 0), one = intConst(b, loc, b.getI32Type(), 1);
    Value n = intConst(b, loc, b.getI32Type(), in.getDimSize(axis));
    auto out = dyn_cast<RankedTensorType>(op.getType());
    if (!out) {
      // A replicated 1-D tile: every thread combines all N elements in order.
      SmallVector<Value> c{zero};
      Value first = readShared(loc, buf, zero, in.getElementType());
      scalars.map(op.getResult(), combineAlong(loc, buf, in, axis, c, one, n, first,
                                               op.getKind(), op.getCombiner()));
      return success();
    }
    SmallVector<Value> regs;
    for (int64_t k = 0; k < perThread(out); ++k) {
      SmallVector<Value> oc = coordinates(loc, out, k), c;
      for (int64_t d = 0, j = 0; d < in.getRank(); ++d)
        c.push_back(d == axis ? intConst(b, loc, b.getI32Type(), 0) : oc[j++]);
      Value first = readShared(loc, buf, linearize(loc, in.getShape(), c), in.getElementType());
      regs.push_back(combineAlong(loc, buf, in, axis, c, intConst(b, loc, b.getI32Type(), 1),
                                  intConst(b, loc, b.getI32Type(), in.getDimSize(axis)), first,
                                  op.getKind(), op.getCombiner()));
    }
    tiles[op] = regs;
    return success();
  }

  LogicalResult lowerScan(ScanOp op) {
    Location loc = op.getLoc();
    auto t = cast<RankedTensorType>(op.getType());
    int64_t axis = op.getAxis(), n = t.getDimSize(axis);
    Value buf = toShared(loc, op.getInput());
    Type i32 = b.getI32Type();
    Value one = intConst(b, loc, i32, 1);
    SmallVector<Value> regs;
    for (int64_t k = 0; k < perThread(t); ++k) {
      SmallVector<Value> c = coordinates(loc, t, k);
      Value pos = c[axis];
      // Forward: ((x0 + x1) + ...) + x_pos. Reverse: ((x_{n-1} + x_{n-2}) + ...) + x_pos,
      // the order the host uses, so non-commutative combiners agree across targets.
      SmallVector<Value> sc(c);
      sc[axis] = intConst(b, loc, i32, op.getReverse() ? n - 1 : 0);
      Value first = readShared(loc, buf, linearize(loc, t.getShape(), sc), t.getElementType());
      Value count = op.getReverse()
                        ? b.create<arith::SubIOp>(loc, intConst(b, loc, i32, n - 1), pos).getResult()
                        : pos;
      auto loop = b.create<scf::ForOp>(
          loc, intConst(b, loc, i32, 0), count, one, ValueRange{first},
          [&](OpBuilder &inner, Location l, Value j, ValueRange acc) {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPoint(inner.getInsertionBlock(), inner.getInsertionPoint());
            SmallVector<Value> ec(c);
            Value step = b.create<arith::AddIOp>(l, j, one);
            ec[axis] = op.getReverse()
                           ? b.create<arith::SubIOp>(l, intConst(b, l, i32, n - 1), step).getResult()
                           : step;
            Value x = readShared(l, buf, linearize(l, t.getShape(), ec), t.getElementType());
            b.create<scf::YieldOp>(l, applyCombiner(b, l, op.getKind(), op.getCombiner(), acc[0], x));
          });
      regs.push_back(loop.getResult(0));
    }
    tiles[op] = regs;
    return success();
  }

  /// Whether `op` can use NVIDIA's mma.sync m16n8k16 (f16/bf16 in, f32 out).
  bool canUseMMA(DotOp op) {
    auto a = cast<RankedTensorType>(op.getA().getType());
    auto c = cast<RankedTensorType>(op.getType());
    Type in = a.getElementType();
    return mma == "nvidia-m16n8k16" && c.getRank() == 2 && c.getElementType().isF32() &&
           (in.isF16() || in.isBF16()) && c.getDimSize(0) % 16 == 0 &&
           c.getDimSize(1) % 8 == 0 && a.getDimSize(1) % 16 == 0;
  }

  /// Dot on tensor cores: operands meet in workgroup memory; each warp takes m16n8 output
  /// tiles in turn and feeds mma.sync fragments laid out as the PTX ISA's
  /// "Matrix Fragments for mma.m16n8k16" tables give (A row-major, B column-major, lane
  /// l holds rows l/4 and l/4+8, columns 2*(l%4) and +1); results go back through
  /// workgroup memory into the blocked layout.
  LogicalResult lowerDotMMA(DotOp op) {
    Location loc = op.getLoc();
    auto a = cast<RankedTensorType>(op.getA().getType());
    auto c = cast<RankedTensorType>(op.getType());
    int64_t M = c.getDimSize(0), N = c.getDimSize(1), K = a.getDimSize(1);
    bool bf16 = a.getElementType().isBF16();
    Value bufA = toShared(loc, op.getA()), bufB = toShared(loc, op.getB());
    Value bufC = toShared(loc, op.getAcc());
    Value bufD = workgroupBuffer(loc, M * N, b.getF32Type());
    Type i32 = b.getI32Type();
    auto cst = [&](int64_t v) { return intConst(b, loc, i32, v); };
    Value lane = b.create<arith::RemUIOp>(loc, threadId, cst(warpSize));
    Value warp = b.create<arith::DivUIOp>(loc, threadId, cst(warpSize));
    Value g = b.create<arith::DivUIOp>(loc, lane, cst(4));
    Value tig2 = b.create<arith::MulIOp>(loc, b.create<arith::RemUIOp>(loc, lane, cst(4)), cst(2));
    int64_t tilesN = N / 8, numTiles = (M / 16) * tilesN, warps = threads / warpSize;
    auto f32 = b.getF32Type();
    auto fragType = LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
    auto at = [&](Value row, Value col, int64_t ld) {
      return b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, row, cst(ld)), col).getResult();
    };
    auto raw = [&](Value buf, Value linear) {
      Value index = b.create<arith::IndexCastOp>(loc, b.getIndexType(), linear);
      return b.create<memref::LoadOp>(loc, buf, ValueRange{index}).getResult();
    };
    // Two 16-bit elements in one 32-bit register, the lower index in the low half.
    auto pack = [&](Value lo, Value hi) -> Value {
      Value l = b.create<arith::ExtUIOp>(loc, i32, lo), h = b.create<arith::ExtUIOp>(loc, i32, hi);
      Value word = b.create<arith::OrIOp>(loc, l, b.create<arith::ShLIOp>(loc, h, cst(16)));
      if (bf16)
        return word;
      return b.create<LLVM::BitcastOp>(loc, VectorType::get({2}, b.getF16Type()), word);
    };
    auto tileLoop = b.create<scf::ForOp>(loc, warp, cst(numTiles), cst(warps));
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(tileLoop.getBody()->getTerminator());
      Value tile = tileLoop.getInductionVar();
      Value row0 = b.create<arith::MulIOp>(loc, b.create<arith::DivUIOp>(loc, tile, cst(tilesN)), cst(16));
      Value col0 = b.create<arith::MulIOp>(loc, b.create<arith::RemUIOp>(loc, tile, cst(tilesN)), cst(8));
      Value r0 = b.create<arith::AddIOp>(loc, row0, g);
      Value r1 = b.create<arith::AddIOp>(loc, r0, cst(8));
      Value cc = b.create<arith::AddIOp>(loc, col0, tig2);
      Value cc1 = b.create<arith::AddIOp>(loc, cc, cst(1));
      SmallVector<Value> cOffsets{at(r0, cc, N), at(r0, cc1, N), at(r1, cc, N), at(r1, cc1, N)};
      SmallVector<Value> init;
      for (Value o : cOffsets)
        init.push_back(raw(bufC, o));
      auto kLoop = b.create<scf::ForOp>(loc, cst(0), cst(K), cst(16), init);
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(kLoop.getBody());
        Value k0 = b.create<arith::AddIOp>(loc, kLoop.getInductionVar(), tig2);
        Value k1 = b.create<arith::AddIOp>(loc, k0, cst(1));
        Value k8 = b.create<arith::AddIOp>(loc, k0, cst(8));
        Value k9 = b.create<arith::AddIOp>(loc, k0, cst(9));
        Value n = b.create<arith::AddIOp>(loc, col0, g);
        SmallVector<Value> fa{pack(raw(bufA, at(r0, k0, K)), raw(bufA, at(r0, k1, K))),
                              pack(raw(bufA, at(r1, k0, K)), raw(bufA, at(r1, k1, K))),
                              pack(raw(bufA, at(r0, k8, K)), raw(bufA, at(r0, k9, K))),
                              pack(raw(bufA, at(r1, k8, K)), raw(bufA, at(r1, k9, K)))};
        SmallVector<Value> fb{pack(raw(bufB, at(k0, n, N)), raw(bufB, at(k1, n, N))),
                              pack(raw(bufB, at(k8, n, N)), raw(bufB, at(k9, n, N)))};
        auto type = bf16 ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
        Value d = b.create<NVVM::MmaOp>(
            loc, fragType, fa, fb, kLoop.getRegionIterArgs(), ArrayRef<int64_t>{16, 8, 16},
            std::nullopt, std::nullopt, std::array<NVVM::MMATypes, 2>{type, type},
            std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
        SmallVector<Value> next;
        for (int64_t i = 0; i < 4; ++i)
          next.push_back(b.create<LLVM::ExtractValueOp>(loc, d, ArrayRef<int64_t>{i}));
        b.create<scf::YieldOp>(loc, next);
      }
      for (auto [o, v] : llvm::zip(cOffsets, kLoop.getResults())) {
        Value index = b.create<arith::IndexCastOp>(loc, b.getIndexType(), o);
        b.create<memref::StoreOp>(loc, v, bufD, ValueRange{index});
      }
    }
    b.create<gpu::BarrierOp>(loc);
    SmallVector<Value> regs;
    for (int64_t k = 0; k < perThread(c); ++k)
      regs.push_back(readShared(loc, bufD, linearIndex(loc, c, k), f32));
    tiles[op] = regs;
    return success();
  }

  LogicalResult lowerDot(DotOp op) {
    if (canUseMMA(op))
      return lowerDotMMA(op);
    Location loc = op.getLoc();
    auto a = cast<RankedTensorType>(op.getA().getType());
    auto bt = cast<RankedTensorType>(op.getB().getType());
    auto c = cast<RankedTensorType>(op.getType());
    Type accType = c.getElementType();
    int64_t rank = c.getRank(), kDim = a.getDimSize(rank - 1);
    Value bufA = toShared(loc, op.getA()), bufB = toShared(loc, op.getB());
    bool isFloat = isa<FloatType>(accType);
    SmallVector<Value> regs;
    for (int64_t k = 0; k < perThread(c); ++k) {
      SmallVector<Value> cc = coordinates(loc, c, k);
      Value step = intConst(b, loc, b.getI32Type(), 1);
      auto loop = b.create<scf::ForOp>(
          loc, intConst(b, loc, b.getI32Type(), 0), intConst(b, loc, b.getI32Type(), kDim), step,
          ValueRange{tiles[op.getAcc()][k]},
          [&](OpBuilder &inner, Location l, Value kk, ValueRange acc) {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPoint(inner.getInsertionBlock(), inner.getInsertionPoint());
            SmallVector<Value> ac(cc), bc(cc);
            ac[rank - 1] = kk;
            bc[rank - 2] = kk;
            Value x = readShared(l, bufA, linearize(l, a.getShape(), ac), a.getElementType());
            Value y = readShared(l, bufB, linearize(l, bt.getShape(), bc), bt.getElementType());
            x = castElements(b, l, x, accType, false);
            y = castElements(b, l, y, accType, false);
            Value next = isFloat ? (Value)b.create<math::FmaOp>(l, x, y, acc[0])
                                 : b.create<arith::AddIOp>(l, acc[0], b.create<arith::MulIOp>(l, x, y));
            b.create<scf::YieldOp>(l, next);
          });
      regs.push_back(loop.getResult(0));
    }
    tiles[op] = regs;
    return success();
  }

  // --- control flow -----------------------------------------------------------

  /// Flattens values (tiles to their registers) for region boundaries.
  SmallVector<Value> flatten(ValueRange values) {
    SmallVector<Value> out;
    for (Value v : values) {
      if (isa<RankedTensorType>(v.getType()))
        llvm::append_range(out, tiles[v]);
      else
        out.push_back(scalar(v));
    }
    return out;
  }
  /// Maps `originals` to consecutive runs of `flat`.
  void unflatten(ValueRange originals, ValueRange flat) {
    size_t i = 0;
    for (Value v : originals) {
      if (auto t = dyn_cast<RankedTensorType>(v.getType())) {
        int64_t n = perThread(t);
        tiles[v] = SmallVector<Value>(flat.begin() + i, flat.begin() + i + n);
        i += n;
      } else {
        scalars.map(v, flat[i++]);
      }
    }
  }

  LogicalResult lowerFor(scf::ForOp op) {
    Location loc = op.getLoc();
    for (Value v : op.getRegionIterArgs()) {
      if (failed(checkTile(op, v.getType())))
        return failure();
      if (isa<DescType>(v.getType()))
        return op.emitOpError("carrying a tensor descriptor is not supported by the GPU "
                              "lowering; make the descriptor inside or before the loop");
    }
    SmallVector<Value> init = flatten(op.getInitArgs());
    auto loop = b.create<scf::ForOp>(loc, scalar(op.getLowerBound()), scalar(op.getUpperBound()),
                                     scalar(op.getStep()), init);
    Block *body = loop.getBody();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(body);
    scalars.map(op.getInductionVar(), loop.getInductionVar());
    unflatten(op.getRegionIterArgs(), loop.getRegionIterArgs());
    for (Operation &inner : op.getBody()->without_terminator())
      if (failed(lowerOp(&inner)))
        return failure();
    auto yield = cast<scf::YieldOp>(op.getBody()->getTerminator());
    SmallVector<Value> yielded = flatten(yield.getOperands());
    if (body->mightHaveTerminator())
      body->getTerminator()->erase();
    b.setInsertionPointToEnd(body);
    b.create<scf::YieldOp>(loc, yielded);
    b.setInsertionPointAfter(loop);
    unflatten(op.getResults(), loop.getResults());
    return success();
  }

  LogicalResult lowerIf(scf::IfOp op) {
    Location loc = op.getLoc();
    SmallVector<Type> types;
    for (Value r : op.getResults()) {
      if (failed(checkTile(op, r.getType())))
        return failure();
      if (isa<DescType>(r.getType()))
        return op.emitOpError("yielding a tensor descriptor is not supported by the GPU "
                              "lowering; make the descriptor before the branch");
      if (auto t = dyn_cast<RankedTensorType>(r.getType()))
        types.append(perThread(t), registerType(t.getElementType()));
      else
        types.push_back(registerType(r.getType()));
    }
    auto newIf = b.create<scf::IfOp>(loc, types, scalar(op.getCondition()),
                                     /*withElseRegion=*/!op.getElseRegion().empty());
    auto lowerRegion = [&](Region &from, Region &to) -> LogicalResult {
      if (from.empty())
        return success();
      OpBuilder::InsertionGuard guard(b);
      Block *block = &to.front();
      if (block->mightHaveTerminator())
        block->getTerminator()->erase();
      b.setInsertionPointToEnd(block);
      for (Operation &inner : from.front().without_terminator())
        if (failed(lowerOp(&inner)))
          return failure();
      auto yield = cast<scf::YieldOp>(from.front().getTerminator());
      b.create<scf::YieldOp>(loc, flatten(yield.getOperands()));
      return success();
    };
    if (failed(lowerRegion(op.getThenRegion(), newIf.getThenRegion())) ||
        failed(lowerRegion(op.getElseRegion(), newIf.getElseRegion())))
      return failure();
    b.setInsertionPointAfter(newIf);
    unflatten(op.getResults(), newIf.getResults());
    return success();
  }
};

} // namespace

int64_t mlir::kiln::workgroupBytes(gpu::GPUFuncOp func) {
  int64_t bytes = 0;
  for (BlockArgument arg : func.getWorkgroupAttributions()) {
    auto type = cast<MemRefType>(arg.getType());
    bytes += type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
  }
  return bytes;
}

namespace {

struct KilnLowerToGPUPass : mlir::kiln::impl::KilnLowerToGPUBase<KilnLowerToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (threads <= 0 || warpSize <= 0 || threads % warpSize != 0) {
      module.emitError("threads (") << threads << ") must be a positive multiple of the warp size ("
                                    << warpSize << ")";
      return signalPassFailure();
    }
    SmallVector<FuncOp> kernels(module.getOps<FuncOp>());
    if (kernels.empty())
      return;
    if (failed(checkElementArithmetic(module)))
      return signalPassFailure();
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto gpuModule = b.create<gpu::GPUModuleOp>(module.getLoc(), "kiln_kernels");
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(), UnitAttr::get(ctx));
    b.setInsertionPointToStart(gpuModule.getBody());
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    for (FuncOp kernel : kernels) {
      // A kernel's own num_threads overrides the pass option.
      int64_t blockThreads = kernel.getNumThreads().value_or(threads);
      if (blockThreads % warpSize != 0) {
        kernel.emitError("num_threads (")
            << blockThreads << ") must be a multiple of the warp size (" << warpSize << ")";
        return signalPassFailure();
      }
      SmallVector<Type> params;
      for (auto [i, type] : llvm::enumerate(kernel.getArgumentTypes())) {
        if (kernel.isConstexprParam(i)) {
          emitError(kernel.getBody().getArgument(i).getLoc(), "constexpr parameter '")
              << kernel.getParamName(i) << "' must be bound (kiln-specialize) before lowering";
          return signalPassFailure();
        }
        if (isa<PtrType>(type)) {
          params.push_back(ptrType);
        } else if (auto desc = dyn_cast<DescType>(type)) {
          auto arr = LLVM::LLVMArrayType::get(IntegerType::get(ctx, 64), desc.getRank());
          params.push_back(LLVM::LLVMStructType::getLiteral(ctx, {ptrType, arr, arr}));
        } else {
          params.push_back(type);
        }
      }
      auto func = b.create<gpu::GPUFuncOp>(kernel.getLoc(), kernel.getSymName(),
                                           b.getFunctionType(params, {}));
      func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), UnitAttr::get(ctx));
      func.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr({(int32_t)blockThreads, 1, 1}));
      if (!mma.empty() && mma != "nvidia-m16n8k16") {
        module.emitError("unknown MMA atom '") << mma << "' (known: nvidia-m16n8k16)";
        return signalPassFailure();
      }
      KernelLowering lowering(func, blockThreads, warpSize, mma);
      if (failed(lowering.lower(kernel)))
        return signalPassFailure();
      int64_t shared = workgroupBytes(func);
      int64_t limit = maxSharedBytes.getValue();
      if (shared > limit) {
        kernel.emitError("shared memory: kernel '")
            << kernel.getSymName() << "' needs " << shared << " bytes ("
            << llvm::divideCeil(shared, 1024) << " KiB) for tile exchanges; the limit is "
            << limit << " bytes (" << limit / 1024 << " KiB)";
        return signalPassFailure();
      }
    }
    for (FuncOp kernel : kernels)
      kernel.erase();
  }
};

} // namespace
