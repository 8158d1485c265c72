//===- Pipelining.cpp - software-pipelined loops: stages of shared-memory copies ---===//
#include "passes/GPU/KernelLowering.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

#define DEBUG_TYPE "kiln-lower-to-gpu"

using namespace mlir;
using namespace mlir::kiln;

namespace mlir::kiln::lowering {

/// Loads of `loop`'s body whose copies can run ahead: shared loads of descriptors made
/// outside the loop at offsets computed by pure scalar ops from the induction variable
/// and outer values. Returns them with the body ops their offsets need.
/// `lowered`: the descriptors are known (else: analysing before lowering).
SmallVector<LoadOp> KernelLowering::pipelinableLoads(scf::ForOp loop, SetVector<Operation *> &slice, bool lowered) {
  SmallVector<LoadOp> loads;
  if (stages < 2 || !target.nvidiaMma)
    return loads;
  Block *body = loop.getBody();
  for (Operation &op : body->without_terminator()) {
    auto load = dyn_cast<LoadOp>(&op);
    if (!load || layouts.layoutOf(load).kind != TileLayoutKind::Shared ||
        (lowered ? !descs.count(load.getDesc())
                 : load.getDesc().getParentBlock() == body))
      continue;
    SetVector<Operation *> mine;
    bool pure = true;
    SmallVector<Value> work(load.getOffsets());
    while (!work.empty() && pure) {
      Value v = work.pop_back_val();
      Operation *def = v.getDefiningOp();
      if (!def || def->getBlock() != body)
        continue; // the induction variable or an outer value
      if (mine.contains(def))
        continue;
      pure = def->getNumRegions() == 0 && isMemoryEffectFree(def) &&
             !isa<KilnDialect>(def->getDialect()) &&
             llvm::none_of(def->getResultTypes(), llvm::IsaPred<ShapedType>);
      mine.insert(def);
      llvm::append_range(work, def->getOperands());
    }
    if (!pure)
      continue;
    loads.push_back(load);
    slice.insert(mine.begin(), mine.end());
  }
  return loads;
}

/// Whether every warpgroup-MMA dot of `loop`'s body accumulates into a loop-carried
/// tile that nothing else reads (so its MMAs may finish in the next iteration), and
/// there is at least one.
bool KernelLowering::carriedWgmmaOnly(scf::ForOp loop) {
  bool any = false;
  for (Operation &inner : loop.getBody()->without_terminator()) {
    auto dot = dyn_cast<DotOp>(&inner);
    if (!dot) {
      if (inner.getNumRegions() != 0 && inner.walk([&](DotOp) { return WalkResult::interrupt(); })
                                            .wasInterrupted())
        return false;
      continue;
    }
    std::optional<TileLayout> l = layouts.dotLayout(dot);
    if (!l || !l->warpgroup)
      continue;
    auto arg = dyn_cast<BlockArgument>(dot.getAcc());
    if (!arg || arg.getOwner() != loop.getBody() || !arg.hasOneUse() ||
        !dot->hasOneUse() || !isa<scf::YieldOp>(*dot->getUsers().begin()) ||
        dot->getUses().begin()->getOperandNumber() + 1 != arg.getArgNumber())
      return false;
    any = true;
  }
  return any;
}

/// Issues the copies of `loads` for the iteration at `iv` into stage `stage` of their
/// buffers, when `iv` is inside the loop. Without `barriers` it then commits a cp.async
/// group (possibly empty, so every thread counts the same groups); with them (TMA
/// pipelines: the stages' mbarriers) the copies complete on the stage's mbarrier, by
/// TMA or, where `tmaOk` is false, by cp.async.
void KernelLowering::issueStage(scf::ForOp loop, ArrayRef<LoadOp> loads, const SetVector<Operation *> &slice,
                                ArrayRef<SharedTile> buffers, Value iv, Value stage, Value barriers,
                                Value tmaOk) {
  Location loc = loop.getLoc();
  Value inside = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, iv,
                                         scalar(loop.getUpperBound()));
  whenTrue(b, loc, inside, [&](OpBuilder &bb, Location l) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
    IRMapping ahead = scalars;
    ahead.map(loop.getInductionVar(), iv);
    SmallVector<Operation *> ordered(slice.begin(), slice.end());
    llvm::sort(ordered, [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });
    for (Operation *op : ordered)
      b.clone(*op, ahead);
    SmallVector<SmallVector<Value>> offsets;
    SmallVector<SharedTile> tiles;
    for (auto [l0, buffer] : llvm::zip(loads, buffers)) {
      LoadOp load = l0;
      offsets.emplace_back();
      for (Value v : load.getOffsets())
        offsets.back().push_back(ahead.lookupOrDefault(v));
      tiles.push_back(stageOf(buffer, stage, load.getType()));
    }
    auto copy = [&] {
      for (auto [l0, offs, tile] : llvm::zip(loads, offsets, tiles))
        copyToShared(LoadOp(l0), offs, tile);
    };
    if (!barriers) {
      copy();
      return;
    }
    Value bar = stageBarrier(l, barriers, stage);
    auto ifOp = b.create<scf::IfOp>(l, TypeRange{}, tmaOk, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    issueTma(l, loads, offsets, tiles, bar);
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    copy();
    asmVoid(l, "cp.async.mbarrier.arrive.noinc.shared::cta.b64 [$0];", "r", {bar});
  });
  if (!barriers)
    b.create<NVVM::CpAsyncCommitGroupOp>(loc);
}

/// The tile of stage `stage` (i32) in a buffer of `stages` tiles.
SharedTile KernelLowering::stageOf(SharedTile buffer, Value stage, RankedTensorType t) {
  Location loc = buffer.base.getLoc();
  Value offset = b.create<arith::MulIOp>(loc, stage, cst(loc, tileBytes(t)));
  buffer.base = b.create<LLVM::GEPOp>(loc, sharedPtrType(), b.getI8Type(), buffer.base,
                                      ValueRange{offset});
  return buffer;
}

LogicalResult KernelLowering::lowerFor(scf::ForOp op) {
  Location loc = op.getLoc();
  finishClusterExchange(loc);
  for (Value v : op.getRegionIterArgs()) {
    if (failed(checkTile(op, v.getType())))
      return failure();
    if (isa<DescType>(v.getType()))
      return op.emitOpError("carrying a tensor descriptor is not supported by the GPU "
                            "lowering; make the descriptor inside or before the loop");
  }
  bool ws = consumerSide && llvm::is_contained(wsLoops, op);
  if (ws && op == wsLoops.front()) { // unconditionally, before any branch
    if (failed(postMailbox(loc)))
      return failure();
    wsTmaOk = allTmaUsable(loc);
  }
  if (ws)
    if (std::optional<OverlapPlan> plan = overlapPlan(op))
      return lowerOverlappedFor(op, *plan);
  // Software pipeline: copies for iteration i + ahead are issued while iteration i
  // computes; each iteration waits for its own stage, then a barrier publishes it and
  // frees the stage the copies refill. With ldmatrix dots that stage is the one the
  // previous iteration read (ahead = stages - 1). Warpgroup MMAs of an accumulator
  // that only the loop carries stay in flight into the next iteration (wait for all
  // but the newest group), so the refilled stage is the one read two iterations back
  // (ahead = stages - 2).
  SetVector<Operation *> slice;
  SmallVector<LoadOp> ahead = pipelinableLoads(op, slice);
  // With a producer warpgroup the consumers only wait for stages and release them.
  if (ws)
    ahead = wsLoads[op];
  int64_t arenaMark = persistentBytes;
  SmallVector<SharedTile> buffers;
  bool overlapMma = !ahead.empty() && stages >= 3 && carriedWgmmaOnly(op);
  int64_t distance = overlapMma ? stages - 2 : stages - 1;
  Value lb = scalar(op.getLowerBound()), step = scalar(op.getStep());
  Type ivType = lb.getType();
  auto ivConst = [&](int64_t v) { return intConst(b, loc, ivType, v); };
  SmallVector<Value> init = flatten(op.getInitArgs(), op.getRegionIterArgs());
  // Warpgroup-MMA accumulators that start at zero start undefined instead, with the
  // MMAs told not to accumulate until the first iteration has run.
  SmallVector<std::pair<int64_t, int64_t>> zeroed; // register ranges in `init`
  SmallVector<DotOp> zeroedDots;
  if (overlapMma) {
    int64_t at = 0;
    for (auto [arg, initValue] : llvm::zip(op.getRegionIterArgs(), op.getInitArgs())) {
      int64_t count = isa<RankedTensorType>(arg.getType()) ? perThread(distOf(arg)) : 1;
      auto dot = arg.hasOneUse() ? dyn_cast<DotOp>(*arg.getUsers().begin()) : DotOp();
      if (dot && dot.getAcc() == arg && isZeroSplat(initValue)) {
        zeroed.push_back({at, count});
        zeroedDots.push_back(dot);
        for (int64_t i = 0; i < count; ++i)
          init[at + i] = b.create<LLVM::PoisonOp>(loc, init[at + i].getType());
      }
      at += count;
    }
  }
  // The zero start must not pass through the MMAs' registers on the way out of a loop
  // that never runs: that path skips the loop in a branch of its own.
  OpBuilder::InsertionGuard outer(b);
  scf::IfOp runs;
  if (!zeroed.empty()) {
    SmallVector<Type> types;
    for (Value v : init)
      types.push_back(v.getType());
    SmallVector<Value> skipped = flatten(op.getInitArgs(), op.getRegionIterArgs());
    if (ws) { // the pipeline state passes through too
      types.append(2, b.getI32Type());
      skipped.append({wsStage, wsPhase});
    }
    Value any = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, lb,
                                        scalar(op.getUpperBound()));
    runs = b.create<scf::IfOp>(loc, types, any, /*withElseRegion=*/true);
    b.setInsertionPointToStart(&runs.getElseRegion().front());
    b.create<scf::YieldOp>(loc, skipped);
    b.setInsertionPointToStart(&runs.getThenRegion().front());
  }
  // On sm_90a warpgroup-MMA operands come by TMA: one thread issues each stage's
  // copies, which complete on the stage's mbarrier (phase flipping at each reuse).
  // Where TMA cannot address a tensor (decided at run time), every thread copies by
  // cp.async and arrives on the same mbarrier when its copies land.
  if (ws)
    buffers.assign(wsBuffers.begin(), wsBuffers.end());
  else if (!ahead.empty())
    for (LoadOp load : ahead)
      buffers.push_back(sharedTileFor(load.getType(),
                                      sharedAlloc(loc, stages * tileBytes(load.getType()), true),
                                      layouts.layoutOf(load).warpgroup, kMajorOperand(load)));
  Value barriers, tmaOk;
  if (ws) {
    barriers = fullBarriers;
    tmaOk = wsTmaOk;
  } else if (!ahead.empty() && llvm::all_of(ahead, [&](LoadOp l) { return tmaEligible(l); })) {
    tmaOk = b.create<arith::ConstantIntOp>(loc, 1, 1);
    for (LoadOp load : ahead) {
      tensorMaps[load] = buildTensorMap(loc, load);
      tmaOk = b.create<arith::AndIOp>(loc, tmaOk, tensorMaps[load].usable);
    }
    barriers = persistentAlloc(loc, 8 * stages, 8);
    Value count = b.create<arith::SelectOp>(loc, tmaOk, cst(loc, 1), cst(loc, threads));
    Value first = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, cst(loc, 0));
    whenTrue(b, loc, first, [&](OpBuilder &bb, Location l) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
      for (int64_t s = 0; s < stages; ++s)
        initBarrier(l, stageBarrier(l, barriers, cst(l, s)), count);
    });
  }
  if (!ahead.empty() && !ws) {
    syncThreads(loc); // earlier readers of reused stages are done
    for (int64_t s = 0; s < distance; ++s) {
      Value iv = b.create<arith::AddIOp>(loc, lb, b.create<arith::MulIOp>(loc, step, ivConst(s)));
      issueStage(op, ahead, slice, buffers, iv, cst(loc, s), barriers, tmaOk);
    }
  }
  int64_t extras = 0;
  if (!ahead.empty()) {
    init.push_back(ws ? wsStage : cst(loc, 0)); // the stage this iteration reads
    ++extras;
  }
  if (barriers) {
    init.push_back(ws ? wsPhase : cst(loc, 0)); // the phase of its mbarrier
    ++extras;
  }
  int64_t accumulateAt = init.size();
  if (!zeroed.empty()) {
    init.push_back(b.create<arith::ConstantIntOp>(loc, 0, 1)); // accumulate yet?
    ++extras;
  }
  auto loop = b.create<scf::ForOp>(loc, lb, scalar(op.getUpperBound()), step, init);
  Block *body = loop.getBody();
  OpBuilder::InsertionGuard inner(b);
  b.setInsertionPointToStart(body);
  scalars.map(op.getInductionVar(), loop.getInductionVar());
  unflatten(op.getRegionIterArgs(), loop.getRegionIterArgs().drop_back(extras));
  auto saved = converted;
  Value readStage, phase;
  if (!ahead.empty()) {
    readStage = loop.getRegionIterArgs()[init.size() - extras];
    if (barriers) {
      phase = loop.getRegionIterArgs()[init.size() - extras + 1];
      if (ws)
        waitLoads(loc, loadIndices(op), readStage, phase);
      else
        waitBarrier(loc, stageBarrier(loc, barriers, readStage), phase);
      fenceUnlessTma(loc, tmaOk);
    } else {
      b.create<NVVM::CpAsyncWaitGroupOp>(loc, distance - 1);
      if (llvm::any_of(ahead, [&](LoadOp l) { return layouts.layoutOf(l).warpgroup; }))
        fenceForAsyncProxy(loc);
    }
    if (!ws) {
      syncThreads(loc);
      Value next = b.create<arith::AddIOp>(
          loc, loop.getInductionVar(), b.create<arith::MulIOp>(loc, step, ivConst(distance)));
      Value sum = b.create<arith::AddIOp>(loc, readStage, cst(loc, distance));
      Value wraps = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, sum, cst(loc, stages));
      Value writeStage = b.create<arith::SelectOp>(
          loc, wraps, b.create<arith::SubIOp>(loc, sum, cst(loc, stages)), sum);
      issueStage(op, ahead, slice, buffers, next, writeStage, barriers, tmaOk);
    }
    for (auto [load, buffer] : llvm::zip(ahead, buffers))
      pipelined[load] = stageOf(buffer, readStage, load.getType());
  }
  for (DotOp dot : zeroedDots)
    wgmmaAccumulate[dot] = loop.getRegionIterArgs()[accumulateAt];
  bool outerDefer = deferWgmmaWait;
  deferWgmmaWait = overlapMma;
  for (Operation &inner : op.getBody()->without_terminator())
    if (failed(lowerOp(&inner)))
      return failure();
  deferWgmmaWait = outerDefer;
  beginOp();
  waitWgmma(loc);
  auto yield = cast<scf::YieldOp>(op.getBody()->getTerminator());
  SmallVector<Value> yielded = flatten(yield.getOperands(), op.getRegionIterArgs());
  if (ws) {
    // This iteration's MMAs are done, or (left in flight) the previous one's.
    if (!overlapMma) {
      releaseLoads(loc, loadIndices(op), readStage);
    } else {
      Value later = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne,
                                            loop.getInductionVar(), lb);
      Value prev = previousStage(loc, readStage);
      whenTrue(b, loc, later, [&](OpBuilder &bb, Location l) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
        releaseLoads(l, loadIndices(op), prev);
      });
    }
  }
  if (!ahead.empty()) {
    auto [next, nextPhase] = advanceStage(loc, readStage, phase ? phase : cst(loc, 0));
    yielded.push_back(next);
    if (barriers)
      yielded.push_back(nextPhase);
  }
  if (!zeroed.empty())
    yielded.push_back(b.create<arith::ConstantIntOp>(loc, 1, 1));
  converted = saved;
  if (body->mightHaveTerminator())
    body->getTerminator()->erase();
  b.setInsertionPointToEnd(body);
  b.create<scf::YieldOp>(loc, yielded);
  b.setInsertionPointAfter(loop);
  if (overlapMma)
    b.create<NVVM::WgmmaWaitGroupSyncOp>(loc, 0); // the last iteration's MMAs
  if (ws) {
    Value endStage = loop.getResults()[init.size() - extras];
    Value endPhase = loop.getResults()[init.size() - extras + 1];
    if (overlapMma) {
      Value ran = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, lb,
                                          scalar(op.getUpperBound()));
      Value last = previousStage(loc, endStage);
      whenTrue(b, loc, ran, [&](OpBuilder &bb, Location l) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
        releaseLoads(l, loadIndices(op), last);
      });
    }
    for (LoadOp load : ahead)
      pipelined.erase(load);
    wsStage = endStage;
    wsPhase = endPhase;
  } else if (!ahead.empty()) {
    // Copies past the end were never issued; drain the (empty) groups and let every
    // thread finish reading before the stages are reused.
    b.create<NVVM::CpAsyncWaitGroupOp>(loc, 0);
    syncThreads(loc);
    for (LoadOp load : ahead) {
      pipelined.erase(load);
      tensorMaps.erase(load);
    }
    // The stages, their mbarriers (invalidated first, as PTX requires before their
    // memory is reused) and the tensor-map staging are free for later loops; the
    // next user's prologue barrier orders its writes after this.
    if (barriers) {
      Value first =
          b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, cst(loc, 0));
      whenTrue(b, loc, first, [&](OpBuilder &bb, Location l) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
        for (int64_t s = 0; s < stages; ++s)
          asmVoid(l, "mbarrier.inval.shared::cta.b64 [$0];", "r",
                  {stageBarrier(l, barriers, cst(l, s))});
      });
    }
    persistentBytes = arenaMark;
  }
  SmallVector<Value> results(loop.getResults().drop_back(extras));
  if (runs) {
    SmallVector<Value> out = results;
    if (ws)
      out.append({wsStage, wsPhase});
    b.create<scf::YieldOp>(loc, out);
    results.assign(runs.getResults().begin(), runs.getResults().end());
    if (ws) {
      wsPhase = results.pop_back_val();
      wsStage = results.pop_back_val();
    }
    b.setInsertionPointAfter(runs);
  }
  unflatten(op.getResults(), results);
  for (DotOp dot : zeroedDots)
    wgmmaAccumulate.erase(dot);
  return success();
}

} // namespace mlir::kiln::lowering
