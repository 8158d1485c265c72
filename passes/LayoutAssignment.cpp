//===- LayoutAssignment.cpp - anchor and propagate tile layouts -----------===//

#include "passes/LayoutAssignment.h"
#include "dialects/Kiln/KilnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

bool mlir::kiln::lowering::isZeroPadding(TypedAttr padding) {
  if (auto f = dyn_cast<FloatAttr>(padding))
    return f.getValue().isPosZero();
  if (auto i = dyn_cast<IntegerAttr>(padding))
    return i.getValue().isZero();
  return false;
}

AtomShape mlir::kiln::lowering::matrixAtomShape(int64_t atom) {
  switch (atom) {
  case kAmdMfma32x32x8:
    return {32, 32, 8};
  case kAmdWmma16x16x16:
    return {16, 16, 16};
  default:
    return {8, 16, 16};
  }
}

std::optional<TileLayout> mlir::kiln::lowering::mmaAccumulatorLayout(
    const DistributionTarget &target, RankedTensorType c, Type in, int64_t kDim) {
  if (target.atom != 0) {
    // AMD and Intel: a grid of waves (sub-groups), each a block of whole atoms.
    AtomShape s = matrixAtomShape(target.atom);
    if (c.getRank() != 2 || !c.getElementType().isF32() || !(in.isF16() || in.isBF16()) ||
        kDim % s.k != 0)
      return std::nullopt;
    int64_t m = c.getDimSize(0), n = c.getDimSize(1), waves = target.threads / target.warpSize;
    std::optional<TileLayout> best;
    int64_t bestCost = 0;
    for (int64_t wm = 1; wm <= waves; wm *= 2) {
      int64_t wn = waves / wm;
      if (wm * wn != waves || m % (s.m * wm) != 0 || n % (s.n * wn) != 0)
        continue;
      int64_t cost = m / wm + n / wn;
      if (!best || cost < bestCost) {
        best = TileLayout{TileLayoutKind::MmaAccumulator, wm, wn, false, target.atom};
        bestCost = cost;
      }
    }
    return best;
  }
  if (!target.nvidiaMma || target.warpSize != 32 || c.getRank() != 2 ||
      !c.getElementType().isF32() || !(in.isF16() || in.isBF16()) || kDim % 16 != 0)
    return std::nullopt;
  int64_t m = c.getDimSize(0), n = c.getDimSize(1), warps = target.threads / 32;
  if (target.nvidiaWgmma && warps % 4 == 0 && m == 16 * warps && n % 64 == 0 && n <= 256 &&
      kDim % 64 == 0)
    return TileLayout{TileLayoutKind::MmaAccumulator, warps, 1, /*warpgroup=*/true};
  // Each warp takes whole 16x16 blocks (ldmatrix.x4 feeds two n8 atoms of B at a time);
  // among the warp grids that fit, the one with the least shared-memory traffic per
  // K step (A rows + B columns a warp reads) wins.
  std::optional<TileLayout> best;
  int64_t bestCost = 0;
  for (int64_t wm = 1; wm <= warps; wm *= 2) {
    int64_t wn = warps / wm;
    if (wm * wn != warps || m % (16 * wm) != 0 || n % (16 * wn) != 0)
      continue;
    int64_t cost = m / wm + n / wn;
    if (!best || cost < bestCost) {
      best = TileLayout{TileLayoutKind::MmaAccumulator, wm, wn};
      bestCost = cost;
    }
  }
  return best;
}

LayoutAssignment::LayoutAssignment(FuncOp kernel, const DistributionTarget &target)
    : target(target) {
  // Loads read only as dot operands go straight to shared memory, stored the way their
  // dots read them (all warpgroup MMAs, or all ldmatrix); on Intel each dot reads them
  // from global memory with 2D block reads (16-bit elements, zero padding).
  kernel.walk([&](LoadOp load) {
    auto t = load.getType();
    bool intel = target.atom == kIntelDpas8x16x16;
    if (!(target.nvidiaMma || intel) || t.getRank() != 2 || load->use_empty())
      return;
    if (intel && (getElementTypeOrSelf(t).getIntOrFloatBitWidth() != 16 ||
                  (load.getPaddingAttr() && !isZeroPadding(load.getPaddingAttr()))))
      return;
    std::optional<bool> warpgroup;
    for (OpOperand &use : load->getUses()) {
      auto dot = dyn_cast<DotOp>(use.getOwner());
      std::optional<TileLayout> l = dot ? dotLayout(dot) : std::nullopt;
      if (!l || use.getOperandNumber() > 1 || (warpgroup && *warpgroup != l->warpgroup))
        return;
      warpgroup = l->warpgroup;
    }
    layouts[load] = TileLayout{intel ? TileLayoutKind::BlockIO : TileLayoutKind::Shared, 1, 1,
                               *warpgroup};
  });
  visitBlock(kernel.getBody().front());
  // Backward: a blocked tile computed only for elementwise ops in one MMA layout is
  // computed in that layout itself, so its conversion moves up to its sources (and out
  // of loops: attention's key mask starts from a broadcast made before the loop). A
  // broadcast exchanges through shared memory anyway and lands in any layout.
  auto isElementwise = [](Operation *op) {
    return op->getNumRegions() == 0 && op->getNumResults() == 1 &&
           isa<RankedTensorType>(op->getResult(0).getType()) &&
           (isa<CastOp>(op) || isa<arith::ArithDialect, math::MathDialect>(op->getDialect()));
  };
  for (bool changed = true; changed;) {
    changed = false;
    kernel.walk([&](Operation *op) {
      if (!(isElementwise(op) || isa<BroadcastOp>(op)) || splats.contains(op->getResult(0)) ||
          layoutOf(op->getResult(0)).kind != TileLayoutKind::Blocked || op->use_empty())
        return;
      std::optional<TileLayout> want;
      for (Operation *user : op->getUsers()) {
        TileLayout l = isElementwise(user) && layouts.count(user->getResult(0))
                           ? layoutOf(user->getResult(0))
                           : TileLayout::blocked();
        if (l.kind != TileLayoutKind::MmaAccumulator || (want && *want != l))
          return;
        want = l;
      }
      layouts[op->getResult(0)] = *want;
      changed = true;
    });
  }
}

std::optional<TileLayout> LayoutAssignment::dotLayout(DotOp dot) const {
  auto a = cast<RankedTensorType>(dot.getA().getType());
  return mmaAccumulatorLayout(target, cast<RankedTensorType>(dot.getType()),
                              a.getElementType(), a.getDimSize(a.getRank() - 1));
}

TileLayout LayoutAssignment::layoutOf(Value v) const {
  auto it = layouts.find(v);
  return it == layouts.end() ? TileLayout::blocked() : it->second;
}

std::optional<TileLayout> LayoutAssignment::known(Value v) const {
  if (!isa<RankedTensorType>(v.getType()) || splats.contains(v) || open.contains(v))
    return std::nullopt;
  return layoutOf(v);
}

void LayoutAssignment::visitBlock(Block &block) {
  for (Operation &op : block)
    visitOp(&op);
}

/// The layout of a value computed from `operands`: an MMA layout among them wins (the
/// accumulator stays in registers; the others convert), then an MMA row layout, else
/// Blocked.
static TileLayout join(ArrayRef<std::optional<TileLayout>> operands) {
  for (TileLayoutKind kind : {TileLayoutKind::MmaAccumulator, TileLayoutKind::MmaRows})
    for (const auto &l : operands)
      if (l && l->kind == kind)
        return *l;
  return TileLayout::blocked();
}

void LayoutAssignment::visitOp(Operation *op) {
  if (auto dot = dyn_cast<DotOp>(op)) {
    if (auto l = dotLayout(dot))
      layouts[dot] = *l;
    return;
  }
  if (isa<LoadOp>(op))
    return; // Shared was decided up front; Blocked otherwise
  // A built-in row reduction of an mma.sync/wgmma accumulator keeps its rows where the
  // accumulator has them; expanding such a vector to [M, 1] keeps them too.
  if (auto reduce = dyn_cast<ReduceOp>(op)) {
    auto in = cast<RankedTensorType>(reduce.getInput().getType());
    std::optional<TileLayout> l = known(reduce.getInput());
    if (l && l->kind == TileLayoutKind::MmaAccumulator && l->atom == 0 && in.getRank() == 2 &&
        reduce.getAxis() == 1 && reduce.getKind() && isa<RankedTensorType>(reduce.getType()) &&
        in.getElementType().getIntOrFloatBitWidth() == 32) {
      TileLayout rows = *l;
      rows.kind = TileLayoutKind::MmaRows;
      layouts[reduce.getResult()] = rows;
    }
    return;
  }
  if (auto expand = dyn_cast<ExpandDimsOp>(op)) {
    std::optional<TileLayout> l = known(expand.getInput());
    if (l && l->kind == TileLayoutKind::MmaRows && expand.getAxis() == 1)
      layouts[expand.getResult()] = *l;
    return;
  }
  if (isa<SplatOp>(op)) {
    splats.insert(op->getResult(0));
    return;
  }
  if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
    if (isa<SplatElementsAttr>(constant.getValue()))
      splats.insert(constant);
    return;
  }
  if (auto forOp = dyn_cast<scf::ForOp>(op)) {
    auto iterArgs = forOp.getRegionIterArgs();
    auto yield = cast<scf::YieldOp>(forOp.getBody()->getTerminator());
    // A loop-carried tile starts in its initial value's layout; one initialised by a
    // splat takes the layout its body yields (so an accumulator stays MMA). A few walks
    // settle it: open, then adopted, then Blocked where the body disagrees.
    for (auto [arg, init] : llvm::zip(iterArgs, forOp.getInitArgs())) {
      if (!isa<RankedTensorType>(arg.getType()))
        continue;
      if (auto l = known(init))
        layouts[arg] = *l;
      else
        open.insert(arg);
    }
    for (int round = 0; round < 4; ++round) {
      visitBlock(*forOp.getBody());
      bool changed = false;
      for (auto [arg, yielded] : llvm::zip(iterArgs, yield.getOperands())) {
        if (!isa<RankedTensorType>(arg.getType()))
          continue;
        std::optional<TileLayout> y = known(yielded);
        bool wasOpen = open.erase(arg);
        TileLayout want = y ? *y : TileLayout::blocked();
        // The first walk may adopt the yielded layout (converting the initial value
        // once, before the loop); later disagreement falls back to Blocked.
        TileLayout next = wasOpen || round == 0 ? want : TileLayout::blocked();
        if (!wasOpen && layoutOf(arg) == want)
          continue;
        changed |= wasOpen || layoutOf(arg) != next;
        layouts[arg] = next;
      }
      if (!changed)
        break;
    }
    for (auto [arg, result] : llvm::zip(iterArgs, forOp.getResults()))
      if (isa<RankedTensorType>(arg.getType()))
        layouts[result] = layoutOf(arg);
    return;
  }
  if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
    visitBlock(ifOp.getThenRegion().front());
    if (!ifOp.getElseRegion().empty())
      visitBlock(ifOp.getElseRegion().front());
    for (auto [i, result] : llvm::enumerate(ifOp.getResults())) {
      if (!isa<RankedTensorType>(result.getType()))
        continue;
      SmallVector<std::optional<TileLayout>> ls{known(ifOp.thenYield().getOperand(i))};
      if (!ifOp.getElseRegion().empty())
        ls.push_back(known(ifOp.elseYield().getOperand(i)));
      layouts[result] = join(ls);
    }
    return;
  }
  // Elementwise: arith, math and kiln.cast, one tile result.
  bool elementwise = op->getNumRegions() == 0 && op->getNumResults() == 1 &&
                     isa<RankedTensorType>(op->getResult(0).getType()) &&
                     (isa<CastOp>(op) ||
                      isa<arith::ArithDialect, math::MathDialect>(op->getDialect()));
  if (!elementwise)
    return;
  SmallVector<std::optional<TileLayout>> ls;
  bool allSplat = true;
  for (Value v : op->getOperands()) {
    if (!isa<RankedTensorType>(v.getType()))
      continue;
    allSplat &= splats.contains(v);
    ls.push_back(known(v));
  }
  if (allSplat)
    splats.insert(op->getResult(0));
  else
    layouts[op->getResult(0)] = join(ls);
}
