//===- WarpSpecialize.cpp - a producer warpgroup and the loops it feeds; intra-warpgroup overlap ---===//
#include "passes/GPU/KernelLowering.h"

#define DEBUG_TYPE "kiln-lower-to-gpu"

using namespace mlir;
using namespace mlir::kiln;

namespace mlir::kiln::lowering {

/// This thread's warpgroup.
Value KernelLowering::warpgroup(Location loc) { return b.create<arith::DivUIOp>(loc, threadId, cst(loc, 128)); }

/// Ping-pong (FlashAttention-3's inter-warpgroup schedule) in an overlapped loop: a
/// warpgroup's turn at the tensor cores covers what it issues together, one
/// iteration's S = Q·Kᵀ and the previous one's P·V (the first head's S alone, the last
/// tail's P·V alone), so while one warpgroup computes its softmax the others' MMAs run.
/// Warpgroup g waits on named barrier kFirstTurnBarrier + g before a turn and passes it
/// to g + 1 (cyclically) after; each barrier counts two warpgroups, its owner's sync and
/// the previous one's arrive. The barriers are not `.aligned`: the edges are other
/// instructions than the loop's.
bool KernelLowering::takeTurns() { return pingPong && threads >= 256; }

/// `instr` ("barrier.sync" or "barrier.arrive") on the turn barrier of the warpgroup `ahead`
/// places after this one.
void KernelLowering::turnBarrier(Location loc, StringRef instr, int64_t ahead) {
  int64_t groups = threads / 128;
  Value group = warpgroup(loc);
  Value next = b.create<arith::RemUIOp>(loc, b.create<arith::AddIOp>(loc, group, cst(loc, ahead)),
                                        cst(loc, groups));
  Value id = b.create<arith::AddIOp>(loc, next, cst(loc, kFirstTurnBarrier));
  asmVoid(loc, (instr + " $0, 256;").str(), "r", {id});
}

/// Before (`entering`) or after a loop that takes turns. Entering, the last warpgroup
/// hands the first turn out. Leaving, each waits on its own barrier (the first takes
/// back the last one's final pass), then passes on to the next but the last: every
/// barrier balances, and no warpgroup reaches a later loop's turns while another still
/// waits on this loop's.
void KernelLowering::turnEdge(Location loc, bool entering) {
  int64_t groups = threads / 128;
  Value group = warpgroup(loc);
  if (!entering)
    turnBarrier(loc, "barrier.sync", 0);
  Value passes = b.create<arith::CmpIOp>(loc, entering ? arith::CmpIPredicate::eq
                                                        : arith::CmpIPredicate::ne,
                                         group, cst(loc, groups - 1));
  whenTrue(b, loc, passes, [&](OpBuilder &bb, Location l) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
    turnBarrier(l, "barrier.arrive", 1);
  });
}

/// The kernel body as two sides of a branch (see warpSpecialized).
LogicalResult KernelLowering::lowerWarpSpecialized(FuncOp kernel) {
  Block &entry = kernel.getBody().front();
  Location loc = kernel.getLoc();
  if (failed(analyseWarpSpecialization(kernel)))
    return failure();
  SmallVector<LoadOp> first = wsLoads[wsLoops.front()];
  for (LoadOp load : first)
    wsBuffers.push_back(sharedTileFor(load.getType(),
                                      persistentAlloc(loc, stages * tileBytes(load.getType()), 1024),
                                      layouts.layoutOf(load).warpgroup, kMajorOperand(load)));
  // One full and one empty mbarrier per stage and load: a loop that overlaps
  // iterations frees one load's stage (K) an iteration before another's (V).
  int64_t pipelinedLoads = wsLoads[wsLoops.front()].size();
  fullBarriers = persistentAlloc(loc, 8 * stages * pipelinedLoads, 8);
  emptyBarriers = persistentAlloc(loc, 8 * stages * pipelinedLoads, 8);
  int64_t slots = 0;
  for (Value v : mailboxValues) {
    auto desc = dyn_cast<DescType>(v.getType());
    slots += desc ? 1 + 2 * desc.getRank() : 1;
  }
  mailbox = persistentAlloc(loc, 8 * std::max<int64_t>(1, slots), 8);
  // The two hand-offs (mailbox posted: consumer thread 0 arrives; stage mbarriers set
  // up: every producer thread arrives) complete on mbarriers set up before the block
  // splits: the sides reach them from different instructions, which an aligned block
  // barrier must not be, and racecheck models mbarrier arrive/wait but not a
  // barrier.sync met from two places.
  handOffBarriers = persistentAlloc(loc, 16, 8);
  Value leader = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, cst(loc, 0));
  whenTrue(b, loc, leader, [&](OpBuilder &bb, Location l) {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
    initBarrier(l, stageBarrier(l, handOffBarriers, cst(l, 0)), 1);
    initBarrier(l, stageBarrier(l, handOffBarriers, cst(l, 1)), cst(l, kProducerThreads));
  });
  b.create<gpu::BarrierOp>(loc);
  Value tid = threadId;
  int64_t consumers = threads;
  Value producer = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::uge, tid, cst(loc, consumers));
  auto sides = b.create<scf::IfOp>(loc, TypeRange{}, producer, /*withElseRegion=*/true);
  // The producer gives registers to the consumers (when they are short). ptxas
  // launches every thread with the launch bound's share; setmaxnreg.inc only takes
  // what setmaxnreg.dec gave back in this block, or it waits forever.
  bool moveRegisters = consumers + kProducerThreads > 256;
  int64_t consumerRegisters = ::kiln::schedule::consumerRegisters(consumers);
  using ::kiln::schedule::kProducerRegisters;
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(sides.thenBlock()->getTerminator());
    if (moveRegisters)
      asmVoid(loc, "setmaxnreg.dec.sync.aligned.u32 " + std::to_string(kProducerRegisters) + ";", "", {});
    threadId = b.create<arith::SubIOp>(loc, tid, cst(loc, consumers));
    threads = kProducerThreads;
    // The consumers computed what the copies need; take it from the mailbox.
    waitBarrier(loc, stageBarrier(loc, handOffBarriers, cst(loc, 0)), cst(loc, 0));
    readMailbox(loc);
    wsTmaOk = allTmaUsable(loc);
    for (scf::ForOp loop : wsLoops)
      for (LoadOp load : wsLoads[loop])
        tensorMaps[load] = buildTensorMap(loc, load);
    // Without TMA (a tensor it cannot address) all producer threads copy and arrive.
    Value fullCount = b.create<arith::SelectOp>(loc, wsTmaOk, cst(loc, 1), cst(loc, kProducerThreads));
    Value zero = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, cst(loc, 0));
    whenTrue(b, loc, zero, [&](OpBuilder &bb, Location l) {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
      for (int64_t st = 0; st < stages * pipelinedLoads; ++st) {
        initBarrier(l, stageBarrier(l, fullBarriers, cst(l, st)), fullCount);
        initBarrier(l, stageBarrier(l, emptyBarriers, cst(l, st)), cst(l, consumers));
      }
    });
    // The stages' mbarriers are ready: the other producer threads (named barrier 2)
    // and the consumers (every producer thread arrives: no branch on thread 0 here)
    // may wait on them.
    namedBarrier(loc, 2, kProducerThreads);
    handOff(loc, 1);
    wsStage = cst(loc, 0);
    wsPhase = cst(loc, 0);
    for (scf::ForOp loop : wsLoops)
      produce(loop);
    threadId = tid;
    threads = consumers;
  }
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(sides.elseBlock()->getTerminator());
  consumerSide = true;
  if (moveRegisters)
    asmVoid(loc, "setmaxnreg.inc.sync.aligned.u32 " + std::to_string(consumerRegisters) + ";", "", {});
  wsStage = cst(loc, 0);
  wsPhase = cst(loc, 0);
  if (failed(lowerBlock(entry)))
    return failure();
  consumerSide = false;
  b.setInsertionPointAfter(sides);
  b.create<gpu::ReturnOp>(loc);
  return success();
}

/// Whether TMA can address every pipelined tensor (one decision for the pipeline).
Value KernelLowering::allTmaUsable(Location loc) {
  Value ok = b.create<arith::ConstantIntOp>(loc, 1, 1);
  for (scf::ForOp loop : wsLoops)
    for (LoadOp load : wsLoads[loop])
      ok = b.create<arith::AndIOp>(loc, ok, tmaUsable(loc, load));
  return ok;
}

/// Consumers, before their first pipelined loop: thread 0 posts the values the
/// producer needs and arrives on the first hand-off mbarrier (release; the producer's
/// wait acquires), then all wait on the second until the producer has set up the
/// stages' mbarriers. The producer is there long before.
LogicalResult KernelLowering::postMailbox(Location loc) {
  Value zero = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, cst(loc, 0));
  whenTrue(b, loc, zero, [&](OpBuilder &bb, Location l) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
    for (auto [slot, v] : mailboxParts(l))
      b.create<LLVM::StoreOp>(l, v, slot);
    handOff(l, 0);
  });
  // Loads only the pipelined loops read (attention's Q) copy while the producer sets
  // up the stages and issues the first ones.
  SmallVector<Operation *> deferred(deferredLoads.begin(), deferredLoads.end());
  llvm::sort(deferred, [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });
  deferredLoads.clear();
  for (Operation *op : deferred)
    if (failed(lowerOp(op)))
      return failure();
  waitBarrier(loc, stageBarrier(loc, handOffBarriers, cst(loc, 1)), cst(loc, 0));
  return success();
}

/// Arrives on hand-off `i` (0: mailbox posted, 1: stages set up).
void KernelLowering::handOff(Location loc, int64_t i) {
  arriveBarrier(loc, stageBarrier(loc, handOffBarriers, cst(loc, i)));
}

/// The producer's copy of the posted values.
void KernelLowering::readMailbox(Location loc) {
  int64_t at = 0;
  auto next = [&](Type t) {
    Value slot = b.create<LLVM::GEPOp>(loc, sharedPtrType(), b.getI8Type(), mailbox,
                                       ArrayRef<LLVM::GEPArg>{(int32_t)(8 * at++)});
    return b.create<LLVM::LoadOp>(loc, t, slot).getResult();
  };
  auto ptrType = LLVM::LLVMPointerType::get(b.getContext());
  for (Value v : mailboxValues) {
    if (auto desc = dyn_cast<DescType>(v.getType())) {
      DescParts parts;
      parts.base = next(ptrType);
      for (int64_t d = 0; d < desc.getRank(); ++d)
        parts.shape.push_back(next(b.getI64Type()));
      for (int64_t d = 0; d < desc.getRank(); ++d)
        parts.strides.push_back(next(b.getI64Type()));
      descs[v] = parts;
    } else {
      scalars.map(v, next(registerType(v.getType())));
    }
  }
}

/// (slot, lowered value) for every posted value, in mailbox order.
SmallVector<std::pair<Value, Value>> KernelLowering::mailboxParts(Location loc) {
  SmallVector<std::pair<Value, Value>> parts;
  auto add = [&](Value v) {
    Value slot = b.create<LLVM::GEPOp>(loc, sharedPtrType(), b.getI8Type(), mailbox,
                                       ArrayRef<LLVM::GEPArg>{(int32_t)(8 * parts.size())});
    parts.push_back({slot, v});
  };
  for (Value v : mailboxValues) {
    if (isa<DescType>(v.getType())) {
      const DescParts &d = descs[v];
      add(d.base);
      for (Value x : d.shape)
        add(x);
      for (Value x : d.strides)
        add(x);
    } else {
      add(scalar(v));
    }
  }
  return parts;
}

/// Finds the loops the producer runs and the values it needs, or says why the kernel
/// cannot be specialised.
LogicalResult KernelLowering::analyseWarpSpecialization(FuncOp kernel) {
  Block &entry = kernel.getBody().front();
  if (!target.nvidiaWgmma || !useTma)
    return kernel.emitError("warp_specialize needs sm_90a with TMA copies");
  if (cluster > 1)
    return kernel.emitError("warp_specialize and cluster cannot be combined yet");
  if (threads % 128 != 0)
    return kernel.emitError("warp_specialize needs whole warpgroups of consumers (num_threads "
                            "a multiple of 128), got ")
           << threads;
  // The producer's register hand-over (setmaxnreg) is sized for one program per SM.
  if (auto programs = kernel.getMinProgramsPerSm(); programs && *programs > 1)
    return kernel.emitError("warp_specialize runs one program per multiprocessor; "
                            "min_programs_per_sm = ")
           << *programs << " asks for more";
  SetVector<Value> roots;
  for (Operation &op : entry) {
    auto loop = dyn_cast<scf::ForOp>(&op);
    if (!loop)
      continue;
    SetVector<Operation *> slice;
    SmallVector<LoadOp> loads = pipelinableLoads(loop, slice, /*lowered=*/false);
    if (loads.empty())
      continue;
    for (LoadOp load : loads)
      if (!tmaEligible(load))
        return load.emitOpError("cannot be copied by TMA, which warp_specialize needs "
                                "(16-bit warpgroup-MMA operands with zero padding)");
    if (!wsLoops.empty()) {
      SmallVector<LoadOp> first = wsLoads[wsLoops.front()];
      bool same = first.size() == loads.size();
      for (size_t i = 0; same && i < loads.size(); ++i)
        same = first[i].getType() == loads[i].getType() &&
               layouts.layoutOf(first[i]) == layouts.layoutOf(loads[i]) &&
               kMajorOperand(first[i]) == kMajorOperand(loads[i]);
      if (!same)
        return loop.emitOpError("pipelines other tiles than the kernel's first pipelined "
                                "loop; warp_specialize shares one pipeline between loops");
    }
    wsLoops.push_back(loop);
    wsLoads[loop] = loads;
    wsSlices[loop] = slice;
    roots.insert(loop.getLowerBound());
    roots.insert(loop.getUpperBound());
    roots.insert(loop.getStep());
    for (LoadOp load : loads) {
      roots.insert(load.getDesc());
      for (Value v : load.getOffsets())
        if (v.getParentBlock() != loop.getBody())
          roots.insert(v);
    }
    for (Operation *op : slice)
      for (Value v : op->getOperands())
        if (v.getParentBlock() != loop.getBody())
          roots.insert(v);
  }
  if (wsLoops.empty())
    return kernel.emitError("warp_specialize: no top-level loop pipelines copies for "
                            "warpgroup MMAs, so a producer would have nothing to do");
  WalkResult nested = kernel.walk([&](scf::ForOp loop) {
    if (loop->getBlock() == &entry)
      return WalkResult::advance();
    SetVector<Operation *> slice;
    if (pipelinableLoads(loop, slice, false).empty())
      return WalkResult::advance();
    loop.emitOpError("pipelines copies inside another op; warp_specialize pipelines "
                     "top-level loops only");
    return WalkResult::interrupt();
  });
  if (nested.wasInterrupted())
    return failure();
  // The consumers post what the producer needs before their first pipelined loop:
  // it must be computed by then. Kernel parameters the producer has itself.
  Operation *firstLoop = wsLoops.front();
  for (Operation &op : entry) {
    if (&op == firstLoop)
      break;
    if (isa<LoadOp>(op) && llvm::all_of(op.getUsers(), [&](Operation *user) {
          Operation *top = entry.findAncestorOpInBlock(*user);
          return top && !top->isBeforeInBlock(firstLoop);
        }))
      deferredLoads.insert(&op);
  }
  for (Value v : roots) {
    Operation *def = v.getDefiningOp();
    if (!def)
      continue;
    if (def->getBlock() != &entry || !def->isBeforeInBlock(firstLoop))
      return def->emitOpError("feeds a pipelined loop's copies but comes after the first "
                              "pipelined loop; warp_specialize's producer needs it before");
    mailboxValues.push_back(v);
  }
  return success();
}

/// The producer's side of a pipelined loop: per iteration, wait until the stage is
/// empty (the first round finds it so), then copy into it.
void KernelLowering::produce(scf::ForOp op) {
  Location loc = op.getLoc();
  auto loop = b.create<scf::ForOp>(loc, scalar(op.getLowerBound()), scalar(op.getUpperBound()),
                                   scalar(op.getStep()), ValueRange{wsStage, wsPhase});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value stage = loop.getRegionIterArgs()[0], phase = loop.getRegionIterArgs()[1];
  Value empty = b.create<arith::XOrIOp>(loc, phase, cst(loc, 1));
  for (auto [i, load] : llvm::enumerate(wsLoads[op])) {
    waitBarrier(loc, stageBarrier(loc, loadBarriers(loc, emptyBarriers, i), stage), empty);
    issueStage(op, {load}, wsSlices[op], {wsBuffers[i]}, loop.getInductionVar(), stage,
               loadBarriers(loc, fullBarriers, i), wsTmaOk);
  }
  auto [next, nextPhase] = advanceStage(loc, stage, phase);
  b.create<scf::YieldOp>(loc, ValueRange{next, nextPhase});
  wsStage = loop.getResult(0);
  wsPhase = loop.getResult(1);
}

/// The stage after `stage` and its phase.
std::pair<Value, Value> KernelLowering::advanceStage(Location loc, Value stage, Value phase) {
  Value next = b.create<arith::AddIOp>(loc, stage, cst(loc, 1));
  Value wrap = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, next, cst(loc, stages));
  return {b.create<arith::SelectOp>(loc, wrap, cst(loc, 0), next),
          b.create<arith::XOrIOp>(loc, phase, b.create<arith::ExtUIOp>(loc, b.getI32Type(), wrap))};
}

Value KernelLowering::previousStage(Location loc, Value stage) {
  Value zero = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, stage, cst(loc, 0));
  return b.create<arith::SelectOp>(loc, zero, cst(loc, stages - 1),
                                   b.create<arith::SubIOp>(loc, stage, cst(loc, 1)));
}

/// The phase of the stage before `stage` (whose phase is `phase`).
Value KernelLowering::previousPhase(Location loc, Value stage, Value phase) {
  Value zero = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, stage, cst(loc, 0));
  return b.create<arith::XOrIOp>(loc, phase, b.create<arith::ExtUIOp>(loc, b.getI32Type(), zero));
}

/// The full or empty mbarriers of the `load`-th pipelined load (one per stage).
Value KernelLowering::loadBarriers(Location loc, Value barriers, int64_t load) {
  return b.create<LLVM::GEPOp>(loc, sharedPtrType(), b.getI8Type(), barriers,
                               ValueRange{cst(loc, 8 * stages * load)});
}

/// The indices of `loads` among the pipelined loads of `loop` (null: all).
SmallVector<int64_t> KernelLowering::loadIndices(scf::ForOp loop, ArrayRef<LoadOp> loads) {
  SmallVector<int64_t> out;
  for (auto [i, load] : llvm::enumerate(wsLoads[loop]))
    if (loads.empty() || llvm::is_contained(loads, load))
      out.push_back(i);
  return out;
}

/// Waits until the copies of `loads` (indices) into `stage` have landed.
void KernelLowering::waitLoads(Location loc, ArrayRef<int64_t> loads, Value stage, Value phase) {
  for (int64_t i : loads)
    waitBarrier(loc, stageBarrier(loc, loadBarriers(loc, fullBarriers, i), stage), phase);
}

/// The consumers are done with `loads` (indices) in `stage` (every thread arrives).
void KernelLowering::releaseLoads(Location loc, ArrayRef<int64_t> loads, Value stage) {
  for (int64_t i : loads)
    arriveBarrier(loc, stageBarrier(loc, loadBarriers(loc, emptyBarriers, i), stage));
}

std::optional<KernelLowering::OverlapPlan> KernelLowering::overlapPlan(scf::ForOp op) {
  if (!intraOverlap)
    return std::nullopt;
  Block *body = op.getBody();
  // A loop that makes tiles from its index (stream fusion's masked loops: the causal
  // diagonal, a ragged end) runs a block or two and holds its masks in registers:
  // overlap gains nothing there, and the carried values made ptxas spill.
  SmallVector<Value> index{op.getInductionVar()};
  while (!index.empty())
    for (Operation *user : index.pop_back_val().getUsers()) {
      if (isa<LoadOp>(user))
        continue;
      for (Value r : user->getResults()) {
        if (isa<RankedTensorType>(r.getType()))
          return std::nullopt;
        index.push_back(r);
      }
    }
  SmallVector<DotOp> dots;
  for (Operation &x : body->without_terminator()) {
    if (auto dot = dyn_cast<DotOp>(&x))
      dots.push_back(dot);
    else if (x.getNumRegions() != 0 && !isa<ReduceOp, ScanOp>(x))
      return std::nullopt;
  }
  if (dots.size() < 2)
    return std::nullopt;
  OverlapPlan plan;
  plan.first = dots.front();
  plan.tail = dots.back();
  std::optional<TileLayout> layout = layouts.dotLayout(plan.tail);
  if (!layout || !layout->warpgroup || !plan.tail->hasOneUse() ||
      !isa<scf::YieldOp>(*plan.tail->getUsers().begin()))
    return std::nullopt;
  plan.acc = plan.tail->getUses().begin()->getOperandNumber();
  BlockArgument accArg = op.getRegionIterArgs()[plan.acc];
  plan.ops.insert(plan.tail);
  // Users come after their operands: one backward sweep finds what only the tail reads.
  for (Operation &x : llvm::reverse(body->without_terminator())) {
    bool cheap = isa<BroadcastOp, ExpandDimsOp, SplatOp>(x) ||
                 (isa<arith::ArithDialect>(x.getDialect()) && !isa<CastOpInterface>(x));
    if (cheap && !x.use_empty() &&
        llvm::all_of(x.getUsers(), [&](Operation *u) { return plan.ops.contains(u); }))
      plan.ops.insert(&x);
  }
  bool readsAcc = false;
  for (Operation *t : plan.ops)
    for (Value v : t->getOperands()) {
      if (v == accArg) {
        readsAcc = true;
        continue;
      }
      if (auto arg = dyn_cast<BlockArgument>(v); arg && arg.getOwner() == body)
        return std::nullopt; // other loop state or the index: a different iteration's
      Operation *def = v.getDefiningOp();
      if (!def || def->getBlock() != body || plan.ops.contains(def))
        continue;
      if (auto load = dyn_cast<LoadOp>(def)) {
        if (!llvm::is_contained(wsLoads[op], load) ||
            !llvm::all_of(load->getUsers(), [&](Operation *u) { return plan.ops.contains(u); }))
          return std::nullopt;
        if (!llvm::is_contained(plan.tailLoads, load))
          plan.tailLoads.push_back(load);
        continue;
      }
      plan.carried.insert(v);
    }
  if (!readsAcc || plan.tailLoads.empty() ||
      llvm::any_of(accArg.getUsers(), [&](Operation *u) { return !plan.ops.contains(u); }))
    return std::nullopt;
  // Overlap keeps the first dot's result, the accumulator and the carried values live
  // at once. ptxas fit 162 such registers of a 224 budget without spilling (D128,
  // 128x128) and spilled at 178 (D256, 128x64, slower than in order): leave 56 for
  // the softmax's row state, addresses and descriptors.
  auto registers = [&](Value v) -> int64_t {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (!t)
      return 1;
    return llvm::divideCeil(perThread(distOf(v)) * t.getElementTypeBitWidth(), 32);
  };
  int64_t live = registers(accArg) + registers(plan.first.getResult());
  for (Value v : plan.carried)
    live += registers(v);
  if (live > ::kiln::schedule::consumerRegisters(threads) - 56)
    return std::nullopt;
  return plan;
}

/// A loop with a producer, lowered as overlapPlan says: the first iteration's head
/// before the loop, the loop from the second iteration on, the last tail after it,
/// all skipped when the loop does not run. Iteration j releases the stage of j - 1
/// once that tail's MMAs are done.
LogicalResult KernelLowering::lowerOverlappedFor(scf::ForOp op, OverlapPlan plan) {
  Location loc = op.getLoc();
  Block *body = op.getBody();
  auto yield = cast<scf::YieldOp>(body->getTerminator());
  ValueRange iterArgs = op.getRegionIterArgs();
  SmallVector<Value> init = flatten(op.getInitArgs(), iterArgs);
  SmallVector<Value> skipped = init;
  int64_t stateRegs = init.size();
  int64_t accAt = 0, accCount = perThread(distOf(iterArgs[plan.acc]));
  for (Value v : iterArgs.take_front(plan.acc))
    accAt += isa<RankedTensorType>(v.getType()) ? perThread(distOf(v)) : 1;
  // An accumulator that starts at zero starts undefined, its MMAs told not to
  // accumulate until a first P·V has run (as lowerFor does).
  bool zeroStart = isZeroSplat(op.getInitArgs()[plan.acc]);
  if (zeroStart)
    for (int64_t i = 0; i < accCount; ++i)
      init[accAt + i] = b.create<LLVM::PoisonOp>(loc, init[accAt + i].getType());
  Value lb = scalar(op.getLowerBound()), ub = scalar(op.getUpperBound());
  Value step = scalar(op.getStep());
  SmallVector<Type> types;
  skipped.append({wsStage, wsPhase});
  for (Value v : skipped)
    types.push_back(v.getType());
  Value any = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, lb, ub);
  auto runs = b.create<scf::IfOp>(loc, types, any, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard outer(b);
  b.setInsertionPointToStart(&runs.getElseRegion().front());
  b.create<scf::YieldOp>(loc, skipped);
  b.setInsertionPointToStart(&runs.getThenRegion().front());
  auto saved = converted;
  SmallVector<int64_t> tailLoads = loadIndices(op, plan.tailLoads), headLoads;
  for (int64_t i : loadIndices(op))
    if (!llvm::is_contained(tailLoads, i))
      headLoads.push_back(i);
  // Waits for `loads` (indices) in `stage`, then maps the stage's tiles.
  auto waitStage = [&](ArrayRef<int64_t> loads, Value stage, Value phase) {
    waitLoads(loc, loads, stage, phase);
    fenceUnlessTma(loc, wsTmaOk);
    for (auto [load, buffer] : llvm::zip(wsLoads[op], wsBuffers))
      pipelined[load] = stageOf(buffer, stage, load.getType());
  };
  // Head ops that only the tail reads (P's conversion to 16 bits) wait until the
  // previous tail's MMAs are done: their registers may then be the ones those read,
  // and ptxas need not wait for the MMAs before the softmax to find room.
  SetVector<Operation *> late;
  for (Value v : plan.carried)
    if (Operation *def = v.getDefiningOp(); def && def->getBlock() == body &&
        llvm::all_of(def->getUsers(), [&](Operation *u) { return plan.ops.contains(u); }))
      late.insert(def);
  // Head ops before and up to the first dot, or after it (but the late ones), or the
  // late ones.
  enum Part { UpToFirst, Rest, Late };
  auto lowerHead = [&](Part part) -> LogicalResult {
    bool before = true;
    for (Operation &x : body->without_terminator()) {
      bool inPart = late.contains(&x) ? part == Late : (before ? part == UpToFirst : part == Rest);
      if (&x == plan.first.getOperation())
        before = false;
      if (inPart && !plan.ops.contains(&x) && failed(lowerOp(&x)))
        return failure();
    }
    return success();
  };
  auto lowerTail = [&](Value stage, Value phase, Value accumulate) -> LogicalResult {
    waitLoads(loc, tailLoads, stage, phase);
    for (int64_t i : tailLoads)
      sharedTiles[wsLoads[op][i]] = stageOf(wsBuffers[i], stage, wsLoads[op][i].getType());
    if (accumulate)
      wgmmaAccumulate[plan.tail] = accumulate;
    for (Operation &x : body->without_terminator())
      if (plan.ops.contains(&x) && failed(lowerOp(&x)))
        return failure();
    wgmmaAccumulate.erase(plan.tail);
    return success();
  };
  // What an iteration passes on: the head's loop state with the tail's accumulator
  // (`acc`), then the head values the next tail reads.
  auto passOn = [&](ArrayRef<Value> acc) {
    SmallVector<Value> out;
    for (auto [i, arg] : llvm::enumerate(iterArgs)) {
      if (i == plan.acc)
        llvm::append_range(out, acc);
      else
        llvm::append_range(out, flatten(yield.getOperand(i), arg));
    }
    llvm::append_range(out, flatten(plan.carried.getArrayRef(), plan.carried.getArrayRef()));
    return out;
  };
  SmallVector<Value> carriedValues(plan.carried.begin(), plan.carried.end());
  auto resume = [&](ValueRange flat) { // maps loop state and carried head values
    unflatten(iterArgs, flat.take_front(stateRegs));
    unflatten(carriedValues, flat.drop_front(stateRegs));
  };
  bool outerDefer = deferWgmmaWait;
  deferWgmmaWait = false;
  bool turns = takeTurns();
  auto turn = [&](DotOp start, DotOp end) {
    turnStart = turns ? start : DotOp();
    turnEnd = turns ? end : DotOp();
  };
  if (turns)
    turnEdge(loc, /*entering=*/true);
  // The first iteration's head.
  turn(plan.first, plan.first);
  scalars.map(op.getInductionVar(), lb);
  unflatten(iterArgs, init);
  waitStage(headLoads, wsStage, wsPhase);
  earlyRelease = EarlyRelease{plan.first.getResult(), wsStage, headLoads};
  if (failed(lowerHead(UpToFirst)) || failed(lowerHead(Rest)) || failed(lowerHead(Late)))
    return failure();
  beginOp();
  waitWgmma(loc);
  SmallVector<Value> loopInit =
      passOn(ArrayRef<Value>(init).slice(accAt, accCount));
  int64_t state = loopInit.size();
  auto [second, secondPhase] = advanceStage(loc, wsStage, wsPhase);
  loopInit.append({second, secondPhase});
  if (zeroStart)
    loopInit.push_back(b.create<arith::ConstantIntOp>(loc, 0, 1)); // a P·V has run
  converted = saved;
  turn(plan.first, plan.tail);
  auto loop = b.create<scf::ForOp>(loc, b.create<arith::AddIOp>(loc, lb, step), ub, step,
                                   loopInit);
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(loop.getBody());
    ValueRange args = loop.getRegionIterArgs();
    scalars.map(op.getInductionVar(), loop.getInductionVar());
    resume(args.take_front(state));
    Value stage = args[state], phase = args[state + 1];
    waitStage(headLoads, stage, phase);
    Value previous = previousStage(loc, stage);
    earlyRelease = EarlyRelease{plan.first.getResult(), stage, headLoads};
    if (failed(lowerHead(UpToFirst)) ||
        failed(lowerTail(previous, previousPhase(loc, stage, phase),
                         zeroStart ? args[state + 2] : Value())) ||
        failed(lowerHead(Rest)))
      return failure();
    beginOp();
    // ptxas hoists the wait for the previous P·V to the row maximum's first shuffle,
    // ahead of the exponentials it should overlap; a CTA fence keeps it here.
    asmVoid(loc, "fence.acq_rel.cta;", "", {});
    waitWgmma(loc); // the previous iteration's P·V too
    releaseLoads(loc, tailLoads, previous);
    if (failed(lowerHead(Late)))
      return failure();
    SmallVector<Value> next = passOn(flatten(plan.tail.getResult(), iterArgs[plan.acc]));
    auto [nextStage, nextPhase] = advanceStage(loc, stage, phase);
    next.append({nextStage, nextPhase});
    if (zeroStart)
      next.push_back(b.create<arith::ConstantIntOp>(loc, 1, 1));
    b.create<scf::YieldOp>(loc, next);
    converted = saved;
  }
  // The last iteration's tail.
  ValueRange done = loop.getResults();
  resume(done.take_front(state));
  wsStage = done[state];
  wsPhase = done[state + 1];
  Value last = previousStage(loc, wsStage);
  turn(plan.tail, plan.tail);
  if (failed(lowerTail(last, previousPhase(loc, wsStage, wsPhase),
                       zeroStart ? done[state + 2] : Value())))
    return failure();
  beginOp();
  waitWgmma(loc);
  releaseLoads(loc, tailLoads, last);
  turn(DotOp(), DotOp());
  if (turns)
    turnEdge(loc, /*entering=*/false);
  SmallVector<Value> out(done.take_front(stateRegs));
  llvm::copy(flatten(plan.tail.getResult(), iterArgs[plan.acc]), out.begin() + accAt);
  out.append({wsStage, wsPhase});
  b.create<scf::YieldOp>(loc, out);
  converted = saved;
  deferWgmmaWait = outerDefer;
  for (LoadOp load : wsLoads[op])
    pipelined.erase(load);
  SmallVector<Value> results(runs.getResults());
  wsPhase = results.pop_back_val();
  wsStage = results.pop_back_val();
  b.setInsertionPointAfter(runs);
  unflatten(op.getResults(), results);
  return success();
}

} // namespace mlir::kiln::lowering
