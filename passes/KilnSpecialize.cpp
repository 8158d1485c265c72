//===- KilnSpecialize.cpp - bind constexpr kernel parameters ---------------===//
#include "dialects/Kiln/KilnDialect.h"
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/BitVector.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNSPECIALIZE
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

struct KilnSpecializePass : mlir::kiln::impl::KilnSpecializeBase<KilnSpecializePass> {
  using Base::Base;

  void runOnOperation() override {
    llvm::StringMap<std::string> bindings;
    for (const std::string &binding : constants) {
      size_t eq = binding.find('=');
      if (eq == std::string::npos || eq == 0) {
        getOperation().emitError("constant binding '")
            << binding << "' is not of the form NAME=VALUE";
        return signalPassFailure();
      }
      bindings[binding.substr(0, eq)] = binding.substr(eq + 1);
    }
    llvm::StringSet<> used;
    WalkResult result = getOperation().walk([&](FuncOp func) {
      if (failed(specialize(func, bindings, used)))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    for (auto &entry : bindings)
      if (!used.contains(entry.getKey())) {
        getOperation().emitError("no constexpr parameter named '")
            << entry.getKey() << "' in any kernel";
        return signalPassFailure();
      }
  }

  LogicalResult specialize(FuncOp func, const llvm::StringMap<std::string> &bindings,
                           llvm::StringSet<> &used) {
    Block &entry = func.getBody().front();
    OpBuilder builder(&entry, entry.begin());
    llvm::BitVector erase(func.getNumArguments());
    SmallVector<Attribute> keptNames;
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
      std::string name = func.getParamName(i);
      if (!func.isConstexprParam(i)) {
        keptNames.push_back(builder.getStringAttr(name));
        continue;
      }
      BlockArgument arg = entry.getArgument(i);
      auto it = bindings.find(name);
      if (it == bindings.end())
        return emitError(arg.getLoc(), "constexpr parameter '")
               << name << "' of kernel '" << func.getSymName()
               << "' has no value; bind it with kilnc -D " << name << "=VALUE";
      used.insert(name);
      TypedAttr value;
      if (auto intType = dyn_cast<IntegerType>(arg.getType())) {
        int64_t parsed;
        if (StringRef(it->second).getAsInteger(0, parsed))
          return emitError(arg.getLoc(), "value '")
                 << it->second << "' of '" << name << "' is not an integer";
        unsigned w = intType.getWidth();
        bool fits = w >= 64 || (parsed >= -(int64_t(1) << (w - 1)) &&
                                parsed < (int64_t(1) << w));
        if (!fits)
          return emitError(arg.getLoc(), "value ")
                 << it->second << " of '" << name << "' does not fit in " << intType;
        value = builder.getIntegerAttr(intType, APInt(w, parsed, /*isSigned=*/true,
                                                      /*implicitTrunc=*/true));
      } else {
        auto floatType = cast<FloatType>(arg.getType());
        double parsed;
        if (StringRef(it->second).getAsDouble(parsed))
          return emitError(arg.getLoc(), "value '")
                 << it->second << "' of '" << name << "' is not a number";
        value = builder.getFloatAttr(floatType, parsed);
      }
      if (auto grid = func.getGridAttr(); grid && isa<IntegerAttr>(value)) {
        // Substitute the parsed value, so hex or negative spellings stay valid grammar.
        int64_t v = cast<IntegerAttr>(value).getInt();
        std::string literal = v < 0 ? "(0 - " + std::to_string(-v) + ")" : std::to_string(v);
        SmallVector<Attribute> exprs;
        for (auto expr : grid.getAsValueRange<StringAttr>())
          exprs.push_back(builder.getStringAttr(
              substituteGridParam(expr, name, literal)));
        func.setGridAttr(builder.getArrayAttr(exprs));
      }
      Value constant = builder.create<arith::ConstantOp>(arg.getLoc(), value);
      arg.replaceAllUsesWith(constant);
      erase.set(i);
    }
    if (erase.none())
      return success();
    if (failed(func.eraseArguments(erase)))
      return failure();
    func.setParamNamesAttr(builder.getArrayAttr(keptNames));
    return success();
  }
};

} // namespace
