//===- ControlFlow.cpp - walking a kernel: op dispatch, elementwise ops, branches ---===//
#include "passes/GPU/KernelLowering.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

#define DEBUG_TYPE "kiln-lower-to-gpu"

using namespace mlir;
using namespace mlir::kiln;

namespace mlir::kiln::lowering {

LogicalResult KernelLowering::lowerBlock(Block &block) {
  for (Operation &op : block)
    if (failed(lowerOp(&op)))
      return failure();
  return success();
}

LogicalResult KernelLowering::lowerOp(Operation *op) {
  if (consumerSide && deferredLoads.contains(op))
    return success(); // after the mailbox is posted (postMailbox)
  for (Type t : op->getResultTypes())
    if (failed(checkTile(op, t)))
      return failure();
  beginOp();
  waitWgmmaFor(op);
  Location loc = op->getLoc();
  if (auto pid = dyn_cast<ProgramIdOp>(op)) {
    if (cluster > 1 && pid.getAxis() == 0) {
      scalars.map(pid.getResult(), b.create<NVVM::ClusterIdXOp>(loc, b.getI32Type()));
      return success();
    }
    Value id = b.create<gpu::BlockIdOp>(loc, static_cast<gpu::Dimension>(pid.getAxis()));
    scalars.map(pid.getResult(), b.create<arith::IndexCastOp>(loc, b.getI32Type(), id));
    return success();
  }
  if (auto num = dyn_cast<NumProgramsOp>(op)) {
    if (cluster > 1 && num.getAxis() == 0) {
      scalars.map(num.getResult(), b.create<NVVM::ClusterDimXOp>(loc, b.getI32Type()));
      return success();
    }
    Value n = b.create<gpu::GridDimOp>(loc, static_cast<gpu::Dimension>(num.getAxis()));
    scalars.map(num.getResult(), b.create<arith::IndexCastOp>(loc, b.getI32Type(), n));
    return success();
  }
  if (isa<ReturnOp>(op)) {
    finishClusterExchange(loc);
    if (!consumerSide) // a specialised kernel returns after both sides
      b.create<gpu::ReturnOp>(loc);
    return success();
  }
  if (auto iota = dyn_cast<IotaOp>(op)) {
    Dist d = distOf(iota);
    SmallVector<Value> out;
    for (int64_t k = 0; k < perThread(d); ++k)
      out.push_back(castElements(b, loc, linearIndex(loc, d, k), d.type.getElementType(), true));
    tiles[iota] = out;
    return success();
  }
  if (auto splat = dyn_cast<SplatOp>(op)) {
    splatScalars[splat] = scalar(splat.getInput());
    return success();
  }
  if (isa<ReshapeOp, ExpandDimsOp>(op)) {
    // Row-major order is kept, and with it every blocked element's thread and register.
    Value in = op->getOperand(0), out = op->getResult(0);
    TileLayout l = layouts.layoutOf(out);
    if (splatScalars.count(in))
      splatScalars[out] = splatScalars[in];
    else if (l.kind == TileLayoutKind::MmaRows) // [M] -> [M, 1]: the same rows
      tiles[out] = llvm::to_vector(regs(in, Dist{cast<RankedTensorType>(in.getType()), l}));
    else
      tiles[out] = llvm::to_vector(regs(in, blocked(in.getType())));
    return success();
  }
  if (auto cast = dyn_cast<CastOp>(op))
    return mapElementwise(op, [&](int64_t k, const Dist &d) {
      return castElements(b, loc, element(cast.getInput(), k, d),
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
                   !replicated(blocked(reduce.getInput().getType()))
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
    splatScalars[constant] = b.create<arith::ConstantOp>(loc, splatAttr.getSplatValue<TypedAttr>());
    return success();
  }
  if (op->getNumRegions() == 0 && op->getNumResults() == 1 &&
      (isa<arith::ArithDialect, math::MathDialect>(op->getDialect())))
    return mapElementwise(op, [&](int64_t k, const Dist &d) {
      OperationState state(loc, op->getName());
      for (Value v : op->getOperands())
        state.addOperands(element(v, k, d));
      state.addTypes(elementOf(op->getResult(0).getType()));
      state.addAttributes(op->getAttrs());
      return b.create(state)->getResult(0);
    });
  return op->emitOpError("on tiles is not supported by the GPU lowering yet");
}

/// Result of `op` element by element in its assigned layout (operands converted to it).
LogicalResult KernelLowering::mapElementwise(Operation *op,
                                             function_ref<Value(int64_t, const Dist &)> perElement) {
  Value result = op->getResult(0);
  auto t = dyn_cast<RankedTensorType>(result.getType());
  if (!t) {
    scalars.map(result, perElement(0, Dist{}));
    return success();
  }
  if (layouts.isSplat(result)) {
    splatScalars[result] = perElement(0, blocked(t));
    return success();
  }
  Dist d = distOf(result);
  prepare(op, d);
  SmallVector<Value> out;
  for (int64_t k = 0; k < perThread(d); ++k)
    out.push_back(perElement(k, d));
  tiles[result] = out;
  return success();
}

/// Registers of `values` in the layouts of `like` (block arguments or results).
SmallVector<Value> KernelLowering::flatten(ValueRange values, ValueRange like) {
  SmallVector<Value> out;
  for (auto [v, l] : llvm::zip(values, like)) {
    if (isa<RankedTensorType>(v.getType()))
      llvm::append_range(out, regs(v, distOf(l)));
    else
      out.push_back(scalar(v));
  }
  return out;
}

/// Maps `originals` to consecutive runs of `flat`.
void KernelLowering::unflatten(ValueRange originals, ValueRange flat) {
  size_t i = 0;
  for (Value v : originals) {
    if (isa<RankedTensorType>(v.getType())) {
      int64_t n = perThread(distOf(v));
      tiles[v] = SmallVector<Value>(flat.begin() + i, flat.begin() + i + n);
      i += n;
    } else {
      scalars.map(v, flat[i++]);
    }
  }
}

/// Whether `v` is a tile splat of the number zero.
bool KernelLowering::isZeroSplat(Value v) {
  auto it = splatScalars.find(v);
  if (it == splatScalars.end())
    return false;
  auto constant = it->second.getDefiningOp<arith::ConstantOp>();
  auto f = constant ? dyn_cast<FloatAttr>(constant.getValue()) : FloatAttr();
  return f && f.getValue().isPosZero();
}

LogicalResult KernelLowering::lowerIf(scf::IfOp op) {
  Location loc = op.getLoc();
  finishClusterExchange(loc);
  SmallVector<Type> types;
  for (Value r : op.getResults()) {
    if (failed(checkTile(op, r.getType())))
      return failure();
    if (isa<DescType>(r.getType()))
      return op.emitOpError("yielding a tensor descriptor is not supported by the GPU "
                            "lowering; make the descriptor before the branch");
    if (auto t = dyn_cast<RankedTensorType>(r.getType()))
      types.append(perThread(distOf(r)), registerType(t.getElementType()));
    else
      types.push_back(registerType(r.getType()));
  }
  auto newIf = b.create<scf::IfOp>(loc, types, scalar(op.getCondition()),
                                   /*withElseRegion=*/!op.getElseRegion().empty());
  auto lowerRegion = [&](Region &from, Region &to) -> LogicalResult {
    if (from.empty())
      return success();
    OpBuilder::InsertionGuard guard(b);
    auto saved = converted;
    Block *block = &to.front();
    if (block->mightHaveTerminator())
      block->getTerminator()->erase();
    b.setInsertionPointToEnd(block);
    for (Operation &inner : from.front().without_terminator())
      if (failed(lowerOp(&inner)))
        return failure();
    beginOp();
    waitWgmma(loc);
    auto yield = cast<scf::YieldOp>(from.front().getTerminator());
    b.create<scf::YieldOp>(loc, flatten(yield.getOperands(), op.getResults()));
    converted = saved;
    return success();
  };
  if (failed(lowerRegion(op.getThenRegion(), newIf.getThenRegion())) ||
      failed(lowerRegion(op.getElseRegion(), newIf.getElseRegion())))
    return failure();
  b.setInsertionPointAfter(newIf);
  unflatten(op.getResults(), newIf.getResults());
  return success();
}

} // namespace mlir::kiln::lowering
