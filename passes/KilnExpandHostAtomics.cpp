//===- KilnExpandHostAtomics.cpp - atomic helper calls to llvm.atomicrmw ---===//
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNEXPANDHOSTATOMICS
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kPrefix = "__kiln_atomic_";

struct KilnExpandHostAtomicsPass
    : mlir::kiln::impl::KilnExpandHostAtomicsBase<KilnExpandHostAtomicsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::CallOp> calls;
    module.walk([&](func::CallOp call) {
      if (call.getCallee().starts_with(kPrefix))
        calls.push_back(call);
    });
    for (func::CallOp call : calls) {
      // The name is __kiln_atomic_<op>_<type>; <op> never contains '_' past its start.
      StringRef rest = call.getCallee().drop_front(kPrefix.size());
      StringRef opName = rest.rsplit('_').first;
      auto op = LLVM::symbolizeAtomicBinOp(opName);
      if (!op || call.getNumOperands() != 2 || call.getNumResults() != 1) {
        call.emitOpError("is not a well-formed Kiln atomic helper call");
        return signalPassFailure();
      }
      bool bitMerge = *op == LLVM::AtomicBinOp::_and || *op == LLVM::AtomicBinOp::_or;
      OpBuilder b(call);
      Value result = b.create<LLVM::AtomicRMWOp>(
          call.getLoc(), *op, call.getOperand(0), call.getOperand(1),
          bitMerge ? LLVM::AtomicOrdering::monotonic : LLVM::AtomicOrdering::seq_cst);
      call.getResult(0).replaceAllUsesWith(result);
      call.erase();
    }
    for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      if (func.getSymName().starts_with(kPrefix) && func.isExternal())
        func.erase();
  }
};

} // namespace
