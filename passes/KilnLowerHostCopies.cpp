//===- KilnLowerHostCopies.cpp - memref.copy to linalg.copy ----------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNLOWERHOSTCOPIES
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

struct KilnLowerHostCopiesPass
    : mlir::kiln::impl::KilnLowerHostCopiesBase<KilnLowerHostCopiesPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    for (memref::CopyOp copy : copies) {
      OpBuilder b(copy);
      b.create<linalg::CopyOp>(copy.getLoc(), copy.getSource(), copy.getTarget());
      copy.erase();
    }
  }
};

} // namespace
