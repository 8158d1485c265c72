//===- Cluster.cpp - programs over thread-block clusters: reductions across blocks ---===//
#include "passes/GPU/KernelLowering.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

#define DEBUG_TYPE "kiln-lower-to-gpu"

using namespace mlir;
using namespace mlir::kiln;

namespace mlir::kiln::lowering {

/// Every block's `partial` combined in rank order (the same result in every block):
/// each block publishes its partial in its shared memory, and after a cluster barrier
/// reads the others' through distributed shared memory.
Value KernelLowering::combineOverCluster(Location loc, Operation *op, Value partial,
                                         function_ref<Value(Value, Value)> combine) {
  Value total;
  for (ArrayRef<Value> rank : exchangeOverCluster(loc, op, partial))
    total = total ? combine(total, rank[0]) : rank[0];
  return total;
}

/// `values` (32-bit, the same in every thread) of every block of the cluster, by
/// rank: thread 0 publishes this block's in a shared slot of the exchange's own (a
/// later exchange may write while slow blocks still read this one), the cluster meets
/// at a barrier, and every thread reads the slots through distributed shared memory.
SmallVector<SmallVector<Value>> KernelLowering::exchangeOverCluster(Location loc, Operation *op,
                                                                    ValueRange values) {
  Value slot = persistentAlloc(loc, 4 * values.size(), 8);
  Value zero = cst(loc, 0);
  Value first = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, zero);
  whenTrue(b, loc, first, [&](OpBuilder &bb, Location l) {
    for (auto [i, v] : llvm::enumerate(values))
      storeShared(bb, l, slot, cst(l, i), v);
  });
  finishClusterExchange(loc);
  b.create<NVVM::ClusterArriveOp>(loc, b.getUnitAttr()); // release: the partials
  b.create<NVVM::ClusterWaitOp>(loc, b.getUnitAttr());   // acquire: everyone's
  auto clusterPtr = LLVM::LLVMPointerType::get(b.getContext(), 7);
  SmallVector<SmallVector<Value>> out(cluster);
  for (int64_t r = 0; r < cluster; ++r) {
    Value remote = b.create<NVVM::MapaOp>(loc, clusterPtr, slot, cst(loc, r));
    for (auto [i, v] : llvm::enumerate(values)) {
      Value at = b.create<LLVM::GEPOp>(loc, clusterPtr, v.getType(), remote,
                                       ArrayRef<LLVM::GEPArg>{(int32_t)i});
      out[r].push_back(b.create<LLVM::LoadOp>(loc, v.getType(), at));
    }
  }
  releaseSlot(loc, op);
  return out;
}

/// After reading the cluster's slots: no block may reuse or give up its slot while
/// others read it. At the top level the wait can come later (at the next exchange or
/// the end); in a loop or branch the next iteration rewrites the slot, so it comes now.
void KernelLowering::releaseSlot(Location loc, Operation *op) {
  b.create<NVVM::ClusterArriveOp>(loc, b.getUnitAttr());
  if (isa<FuncOp>(op->getParentOp()))
    clusterArrivePending = true;
  else
    b.create<NVVM::ClusterWaitOp>(loc, b.getUnitAttr());
}

/// For `m = reduce max x` in a clustered program whose only use is softmax's
/// `s = reduce sum exp(x' - m)` (the exponentials otherwise used only after the sum, in
/// its block): that sum. Both then cost one exchange instead of two: each block uses
/// its own maximum m_b, and the sum's exchange of (m_b, s_b) pairs gives the row's
/// M = max m_b and S = sum s_b exp(m_b - M), the online normalizer across blocks.
ReduceOp KernelLowering::normalizerSum(ReduceOp max) {
  if (max.getKind() != CombineKind::max || !max.getType().isF32() || !max->hasOneUse())
    return {};
  auto splat = dyn_cast<SplatOp>(*max->user_begin());
  if (!splat || !splat->hasOneUse())
    return {};
  auto sub = dyn_cast<arith::SubFOp>(*splat->user_begin());
  if (!sub || sub.getRhs() != splat.getResult() || !sub->hasOneUse())
    return {};
  auto exp = dyn_cast<math::ExpOp>(*sub->user_begin());
  if (!exp || exp->getBlock() != max->getBlock())
    return {};
  ReduceOp sum;
  for (Operation *user : exp->getUsers())
    if (auto r = dyn_cast<ReduceOp>(user); r && r.getKind() == CombineKind::sum && !sum)
      sum = r;
  if (!sum || sum->getBlock() != max->getBlock())
    return {};
  for (Operation *user : exp->getUsers()) {
    Operation *at = max->getBlock()->findAncestorOpInBlock(*user);
    if (user != sum && (!at || !sum->isBeforeInBlock(at)))
      return {};
  }
  normalizerExp[sum] = exp;
  return sum;
}

/// The row's sum from this block's maximum `mb` and partial sum `sb` (see
/// normalizerSum); rescales the exponentials' registers to the row's maximum.
Value KernelLowering::combineNormalizer(Location loc, ReduceOp sum, Value mb, Value sb) {
  Type elem = sb.getType();
  SmallVector<SmallVector<Value>> ranks = exchangeOverCluster(loc, sum, {mb, sb});
  math::ExpOp exp = normalizerExp[sum];
  auto expOf = [&](Value x) { return b.create<math::ExpOp>(loc, x, exp.getFastmath()).getResult(); };
  Value rowMax = ranks[0][0];
  for (int64_t r = 1; r < cluster; ++r)
    rowMax = b.create<arith::MaximumFOp>(loc, rowMax, ranks[r][0]);
  // Blocks of only -inf hold s_b = 0 and add exp(-inf) * 0 = 0, in rank order.
  Value total;
  for (ArrayRef<Value> rank : ranks) {
    Value term = b.create<arith::MulFOp>(
        loc, rank[1], expOf(b.create<arith::SubFOp>(loc, rank[0], rowMax)));
    total = total ? b.create<arith::AddFOp>(loc, total, term).getResult() : term;
  }
  // This block's exponentials were taken against m_b (0 when all -inf: they are 0).
  Value scale = b.create<arith::SelectOp>(
      loc, isNegInf(loc, mb), zeroOf(b, loc, elem),
      expOf(b.create<arith::SubFOp>(loc, mb, rowMax)));
  for (Value &v : tiles[exp.getResult()])
    v = b.create<arith::MulFOp>(loc, v, scale);
  return total;
}

Value KernelLowering::isNegInf(Location loc, Value x) {
  Value ninf = b.create<arith::ConstantOp>(
      loc, b.getFloatAttr(x.getType(), -std::numeric_limits<double>::infinity()));
  return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, x, ninf);
}

/// Completes the cluster barrier the last exchange arrived at.
void KernelLowering::finishClusterExchange(Location loc) {
  if (!clusterArrivePending)
    return;
  b.create<NVVM::ClusterWaitOp>(loc, b.getUnitAttr());
  clusterArrivePending = false;
}

} // namespace mlir::kiln::lowering
