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

/// Warpgroup-MMA accumulators that start at zero start undefined instead, with the MMAs
/// told not to accumulate until the first iteration has run: their registers in `init`
/// become poison and their ranges and dots are recorded.
void KernelLowering::startAccumulatorsUndefined(
    scf::ForOp op, SmallVectorImpl<Value> &init,
    SmallVectorImpl<std::pair<int64_t, int64_t>> &zeroed, SmallVectorImpl<DotOp> &zeroedDots) {
  Location loc = op.getLoc();
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

/// The zero start must not pass through the MMAs' registers on the way out of a loop
/// that never runs: that path skips the loop in a branch of its own. Returns the branch,
/// with the builder at the start of the path that runs the loop.
scf::IfOp KernelLowering::branchUnlessLoopRuns(scf::ForOp op, ArrayRef<Value> init, bool ws) {
  Location loc = op.getLoc();
  SmallVector<Type> types;
  for (Value v : init)
    types.push_back(v.getType());
  SmallVector<Value> skipped = flatten(op.getInitArgs(), op.getRegionIterArgs());
  if (ws) { // the pipeline state passes through too
    types.append(2, b.getI32Type());
    skipped.append({wsStage, wsPhase});
  }
  Value any = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt,
                                      scalar(op.getLowerBound()), scalar(op.getUpperBound()));
  auto runs = b.create<scf::IfOp>(loc, types, any, /*withElseRegion=*/true);
  b.setInsertionPointToStart(&runs.getElseRegion().front());
  b.create<scf::YieldOp>(loc, skipped);
  b.setInsertionPointToStart(&runs.getThenRegion().front());
  return runs;
}

/// The stage buffers of `p`'s loads, their mbarriers where the copies complete on them,
/// and (without a producer) the prologue's copies of the first `distance` iterations.
/// On sm_90a warpgroup-MMA operands come by TMA: one thread issues each stage's copies,
/// which complete on the stage's mbarrier (phase flipping at each reuse). Where TMA
/// cannot address a tensor (decided at run time), every thread copies by cp.async and
/// arrives on the same mbarrier when its copies land.
void KernelLowering::setUpStages(PipelinedLoop &p, Value lb, Value step) {
  Location loc = p.op.getLoc();
  if (p.ws)
    p.buffers.assign(wsBuffers.begin(), wsBuffers.end());
  else if (!p.ahead.empty())
    for (LoadOp load : p.ahead)
      p.buffers.push_back(sharedTileFor(load.getType(),
                                        sharedAlloc(loc, stages * tileBytes(load.getType()), true),
                                        layouts.layoutOf(load).warpgroup, kMajorOperand(load)));
  if (p.ws) {
    p.barriers = fullBarriers;
    p.tmaOk = wsTmaOk;
  } else if (!p.ahead.empty() && llvm::all_of(p.ahead, [&](LoadOp l) { return tmaEligible(l); })) {
    p.tmaOk = b.create<arith::ConstantIntOp>(loc, 1, 1);
    for (LoadOp load : p.ahead) {
      tensorMaps[load] = buildTensorMap(loc, load);
      p.tmaOk = b.create<arith::AndIOp>(loc, p.tmaOk, tensorMaps[load].usable);
    }
    p.barriers = persistentAlloc(loc, 8 * stages, 8);
    Value count = b.create<arith::SelectOp>(loc, p.tmaOk, cst(loc, 1), cst(loc, threads));
    Value first = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, cst(loc, 0));
    whenTrue(b, loc, first, [&](OpBuilder &bb, Location l) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
      for (int64_t s = 0; s < stages; ++s)
        initBarrier(l, stageBarrier(l, p.barriers, cst(l, s)), count);
    });
  }
  if (!p.ahead.empty() && !p.ws) {
    syncThreads(loc); // earlier readers of reused stages are done
    for (int64_t s = 0; s < p.distance; ++s) {
      Value iv = b.create<arith::AddIOp>(
          loc, lb, b.create<arith::MulIOp>(loc, step, intConst(b, loc, lb.getType(), s)));
      issueStage(p.op, p.ahead, p.slice, p.buffers, iv, cst(loc, s), p.barriers, p.tmaOk);
    }
  }
}

/// At the top of an iteration of `loop` (the new loop; its stage and phase are the
/// iteration arguments at `stateAt`): waits for this iteration's stage, issues the copies
/// `distance` iterations ahead (without a producer) and maps the loads to the stage.
/// Returns the stage read and its phase (null without mbarriers).
std::pair<Value, Value> KernelLowering::beginPipelinedIteration(PipelinedLoop &p,
                                                                scf::ForOp loop,
                                                                int64_t stateAt, Value step) {
  Location loc = p.op.getLoc();
  Value readStage = loop.getRegionIterArgs()[stateAt], phase;
  if (p.barriers) {
    phase = loop.getRegionIterArgs()[stateAt + 1];
    if (p.ws)
      waitLoads(loc, loadIndices(p.op), readStage, phase);
    else
      waitBarrier(loc, stageBarrier(loc, p.barriers, readStage), phase);
    fenceUnlessTma(loc, p.tmaOk);
  } else {
    b.create<NVVM::CpAsyncWaitGroupOp>(loc, p.distance - 1);
    if (llvm::any_of(p.ahead, [&](LoadOp l) { return layouts.layoutOf(l).warpgroup; }))
      fenceForAsyncProxy(loc);
  }
  if (!p.ws) {
    syncThreads(loc);
    Value next = b.create<arith::AddIOp>(
        loc, loop.getInductionVar(),
        b.create<arith::MulIOp>(loc, step, intConst(b, loc, step.getType(), p.distance)));
    Value sum = b.create<arith::AddIOp>(loc, readStage, cst(loc, p.distance));
    Value wraps = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, sum, cst(loc, stages));
    Value writeStage = b.create<arith::SelectOp>(
        loc, wraps, b.create<arith::SubIOp>(loc, sum, cst(loc, stages)), sum);
    issueStage(p.op, p.ahead, p.slice, p.buffers, next, writeStage, p.barriers, p.tmaOk);
  }
  for (auto [load, buffer] : llvm::zip(p.ahead, p.buffers))
    pipelined[load] = stageOf(buffer, readStage, load.getType());
  return {readStage, phase};
}

/// With a producer, the stages an iteration read go back to it once their MMAs are done:
/// this iteration's, or (MMAs left in flight) the previous one's.
void KernelLowering::releaseIterationStages(PipelinedLoop &p, scf::ForOp loop, Value lb,
                                            Value readStage) {
  Location loc = p.op.getLoc();
  if (!p.overlapMma) {
    releaseLoads(loc, loadIndices(p.op), readStage);
    return;
  }
  Value later = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, loop.getInductionVar(), lb);
  Value prev = previousStage(loc, readStage);
  whenTrue(b, loc, later, [&](OpBuilder &bb, Location l) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
    releaseLoads(l, loadIndices(p.op), prev);
  });
}

/// After `loop` (the new loop; its stage and phase results at `stateAt`): with a producer,
/// the last stage goes back and the pipeline state carries on to the next loop; without,
/// the copies drain and the stages, mbarriers and tensor maps are freed for later loops.
void KernelLowering::finishPipelinedLoop(PipelinedLoop &p, scf::ForOp loop, int64_t stateAt,
                                         Value lb, int64_t arenaMark) {
  Location loc = p.op.getLoc();
  if (p.ws) {
    Value endStage = loop.getResults()[stateAt];
    Value endPhase = loop.getResults()[stateAt + 1];
    if (p.overlapMma) {
      Value ran = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, lb,
                                          scalar(p.op.getUpperBound()));
      Value last = previousStage(loc, endStage);
      whenTrue(b, loc, ran, [&](OpBuilder &bb, Location l) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
        releaseLoads(l, loadIndices(p.op), last);
      });
    }
    for (LoadOp load : p.ahead)
      pipelined.erase(load);
    wsStage = endStage;
    wsPhase = endPhase;
    return;
  }
  if (p.ahead.empty())
    return;
  // Copies past the end were never issued; drain the (empty) groups and let every
  // thread finish reading before the stages are reused.
  b.create<NVVM::CpAsyncWaitGroupOp>(loc, 0);
  syncThreads(loc);
  for (LoadOp load : p.ahead) {
    pipelined.erase(load);
    tensorMaps.erase(load);
  }
  // The stages, their mbarriers (invalidated first, as PTX requires before their
  // memory is reused) and the tensor-map staging are free for later loops; the
  // next user's prologue barrier orders its writes after this.
  if (p.barriers) {
    Value first = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, cst(loc, 0));
    whenTrue(b, loc, first, [&](OpBuilder &bb, Location l) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
      for (int64_t s = 0; s < stages; ++s)
        asmVoid(l, "mbarrier.inval.shared::cta.b64 [$0];", "r",
                {stageBarrier(l, p.barriers, cst(l, s))});
    });
  }
  persistentBytes = arenaMark;
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
  PipelinedLoop p;
  p.op = op;
  p.ws = consumerSide && llvm::is_contained(wsLoops, op);
  if (p.ws && op == wsLoops.front()) { // unconditionally, before any branch
    if (failed(postMailbox(loc)))
      return failure();
    wsTmaOk = allTmaUsable(loc);
  }
  if (p.ws)
    if (std::optional<OverlapPlan> plan = overlapPlan(op))
      return lowerOverlappedFor(op, *plan);
  // Software pipeline: copies for iteration i + ahead are issued while iteration i
  // computes; each iteration waits for its own stage, then a barrier publishes it and
  // frees the stage the copies refill. With ldmatrix dots that stage is the one the
  // previous iteration read (ahead = stages - 1). Warpgroup MMAs of an accumulator
  // that only the loop carries stay in flight into the next iteration (wait for all
  // but the newest group), so the refilled stage is the one read two iterations back
  // (ahead = stages - 2).
  p.ahead = pipelinableLoads(op, p.slice);
  // With a producer warpgroup the consumers only wait for stages and release them.
  if (p.ws)
    p.ahead = wsLoads[op];
  int64_t arenaMark = persistentBytes;
  p.overlapMma = !p.ahead.empty() && stages >= 3 && carriedWgmmaOnly(op);
  p.distance = p.overlapMma ? stages - 2 : stages - 1;
  Value lb = scalar(op.getLowerBound()), step = scalar(op.getStep());
  SmallVector<Value> init = flatten(op.getInitArgs(), op.getRegionIterArgs());
  SmallVector<std::pair<int64_t, int64_t>> zeroed; // register ranges in `init`
  SmallVector<DotOp> zeroedDots;
  if (p.overlapMma)
    startAccumulatorsUndefined(op, init, zeroed, zeroedDots);
  OpBuilder::InsertionGuard outer(b);
  scf::IfOp runs;
  if (!zeroed.empty())
    runs = branchUnlessLoopRuns(op, init, p.ws);
  setUpStages(p, lb, step);
  int64_t extras = 0;
  if (!p.ahead.empty()) {
    init.push_back(p.ws ? wsStage : cst(loc, 0)); // the stage this iteration reads
    ++extras;
  }
  if (p.barriers) {
    init.push_back(p.ws ? wsPhase : cst(loc, 0)); // the phase of its mbarrier
    ++extras;
  }
  int64_t accumulateAt = init.size();
  if (!zeroed.empty()) {
    init.push_back(b.create<arith::ConstantIntOp>(loc, 0, 1)); // accumulate yet?
    ++extras;
  }
  auto loop = b.create<scf::ForOp>(loc, lb, scalar(op.getUpperBound()), step, init);
  int64_t stateAt = init.size() - extras;
  Block *body = loop.getBody();
  OpBuilder::InsertionGuard inner(b);
  b.setInsertionPointToStart(body);
  scalars.map(op.getInductionVar(), loop.getInductionVar());
  unflatten(op.getRegionIterArgs(), loop.getRegionIterArgs().drop_back(extras));
  auto saved = converted;
  Value readStage, phase;
  if (!p.ahead.empty())
    std::tie(readStage, phase) = beginPipelinedIteration(p, loop, stateAt, step);
  for (DotOp dot : zeroedDots)
    wgmmaAccumulate[dot] = loop.getRegionIterArgs()[accumulateAt];
  bool outerDefer = deferWgmmaWait;
  deferWgmmaWait = p.overlapMma;
  for (Operation &inner : op.getBody()->without_terminator())
    if (failed(lowerOp(&inner)))
      return failure();
  deferWgmmaWait = outerDefer;
  beginOp();
  waitWgmma(loc);
  auto yield = cast<scf::YieldOp>(op.getBody()->getTerminator());
  SmallVector<Value> yielded = flatten(yield.getOperands(), op.getRegionIterArgs());
  if (p.ws)
    releaseIterationStages(p, loop, lb, readStage);
  if (!p.ahead.empty()) {
    auto [next, nextPhase] = advanceStage(loc, readStage, phase ? phase : cst(loc, 0));
    yielded.push_back(next);
    if (p.barriers)
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
  if (p.overlapMma)
    b.create<NVVM::WgmmaWaitGroupSyncOp>(loc, 0); // the last iteration's MMAs
  finishPipelinedLoop(p, loop, stateAt, lb, arenaMark);
  SmallVector<Value> results(loop.getResults().drop_back(extras));
  if (runs) {
    SmallVector<Value> out = results;
    if (p.ws)
      out.append({wsStage, wsPhase});
    b.create<scf::YieldOp>(loc, out);
    results.assign(runs.getResults().begin(), runs.getResults().end());
    if (p.ws) {
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
