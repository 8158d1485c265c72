//===- Gathers.cpp - pointer-tile gathers and scatters -----------------------------===//
#include "passes/GPU/KernelLowering.h"

#define DEBUG_TYPE "kiln-lower-to-gpu"

using namespace mlir;
using namespace mlir::kiln;

namespace mlir::kiln::lowering {

LogicalResult KernelLowering::lowerGather(GatherOp op) {
  Location loc = op.getLoc();
  Type elem = op.getType().getElementType();
  return mapElementwise(op, [&](int64_t k, const Dist &d) -> Value {
    Value ptr = element(op.getPtrs(), k, d);
    auto load = [&](OpBuilder &bb, Location l) {
      return loadElement(bb, l, ptr, i64Const(bb, l, 0), elem);
    };
    if (!op.getMask())
      return fromStorage(b, loc, load(b, loc), elem);
    Value raw = branchValue(b, loc, element(op.getMask(), k, d), load,
                            [&](OpBuilder &bb, Location l) {
                              Value other = op.getOther() ? element(op.getOther(), k, d)
                                                          : zeroOf(bb, l, elem);
                              return toStorage(bb, l, other);
                            });
    return fromStorage(b, loc, raw, elem);
  });
}

LogicalResult KernelLowering::lowerScatter(ScatterOp op) {
  Location loc = op.getLoc();
  Dist d = blocked(op.getValue().getType());
  prepare(op, d);
  Value owner = ownerMask(loc, d);
  for (int64_t k = 0; k < perThread(d); ++k) {
    Value ptr = element(op.getPtrs(), k, d), v = element(op.getValue(), k, d);
    auto store = [&](OpBuilder &bb, Location l) {
      storeElement(bb, l, ptr, i64Const(bb, l, 0), v, d.type.getElementType(),
                   [this](OpBuilder &x, Location y, LLVM::AtomicBinOp kind, Value p, Value val) {
                     return atomic(x, y, kind, p, val);
                   });
    };
    whenTrue(b, loc, andMask(loc, op.getMask() ? element(op.getMask(), k, d) : Value(), owner),
             store);
  }
  return success();
}

} // namespace mlir::kiln::lowering
