//===- Driver.cpp - shared compile steps of kilnc and the JIT --------------===//
#include "kiln/Driver/Driver.h"

#include "dialects/Kiln/KilnDialect.h"
#include "kiln/Target/GPU.h"
#include "kiln/Target/Host.h"
#include "passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;

namespace kiln::driver {

const std::vector<TargetInfo> &knownTargets() {
  static const std::vector<TargetInfo> targets = [] {
    std::vector<TargetInfo> list{{"host", "CPU", true}};
    for (const target::GPUTarget &t : target::gpuTargets())
      list.push_back({t.chip, target::vendorName(t.vendor), true});
    return list;
  }();
  return targets;
}

const TargetInfo *lookupTarget(llvm::StringRef name) {
  for (const TargetInfo &t : knownTargets())
    if (name == t.name)
      return &t;
  return nullptr;
}

std::string targetList() {
  std::string list;
  for (const TargetInfo &t : knownTargets())
    list += (list.empty() ? "" : " | ") + std::string(t.name);
  return list;
}

std::unique_ptr<MLIRContext> createContext() {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<mlir::kiln::KilnDialect>();
  registerAllToLLVMIRTranslations(registry);
  auto context = std::make_unique<MLIRContext>(registry, MLIRContext::Threading::DISABLED);
  context->loadDialect<mlir::kiln::KilnDialect>();
  context->loadAllAvailableDialects();
  // Diagnostics point at the user's source; dumping the whole op buries the message.
  context->printOpOnDiagnostic(false);
  return context;
}

OwningOpRef<ModuleOp> parseKernels(llvm::SourceMgr &sources, MLIRContext &context) {
  return parseSourceFile<ModuleOp>(sources, &context);
}

LogicalResult specialize(ModuleOp module, llvm::ArrayRef<std::string> constants,
                         int64_t streamBlock, llvm::StringRef chip) {
  PassManager pm(module.getContext());
  mlir::kiln::KilnSpecializeOptions options;
  options.constants = llvm::to_vector(constants);
  pm.addPass(mlir::kiln::createKilnSpecialize(options));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  mlir::kiln::KilnStreamFusionOptions fusion;
  fusion.forceBlock = streamBlock;
  fusion.chip = chip.str();
  pm.addPass(mlir::kiln::createKilnStreamFusion(fusion));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  return pm.run(module);
}

static std::string typeName(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  type.print(os);
  return s;
}

std::vector<KernelInfo> describeKernels(ModuleOp module) {
  std::vector<KernelInfo> kernels;
  for (auto func : module.getOps<mlir::kiln::FuncOp>()) {
    KernelInfo info;
    info.name = func.getSymName().str();
    info.symbol = "kiln_program_" + info.name;
    for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
      ParamInfo param;
      param.name = func.getParamName(i);
      param.isConstexpr = func.isConstexprParam(i);
      if (auto ptr = dyn_cast<mlir::kiln::PtrType>(type)) {
        param.kind = "ptr";
        param.type = typeName(ptr.getPointee());
      } else if (auto desc = dyn_cast<mlir::kiln::DescType>(type)) {
        param.kind = "desc";
        param.type = typeName(desc.getElementType());
        param.rank = desc.getRank();
      } else {
        param.kind = "scalar";
        param.type = typeName(type);
      }
      info.params.push_back(param);
    }
    if (auto grid = func.getGridAttr())
      for (auto expr : grid.getAsValueRange<StringAttr>())
        info.grid.push_back(expr.str());
    kernels.push_back(std::move(info));
  }
  return kernels;
}

LogicalResult lowerForHost(ModuleOp module) {
  PassManager pm(module.getContext());
  host::buildHostPipeline(pm);
  if (failed(pm.run(module)))
    return failure();
  // Only the entry points are exported: helpers the pipeline adds to every module
  // (bufferization's dealloc_helper) must not clash when two kernels' objects link.
  module.walk([](LLVM::LLVMFuncOp func) {
    if (!func.isExternal() && !func.getName().starts_with("kiln_program_"))
      func.setLinkage(LLVM::Linkage::Internal);
  });
  return success();
}

} // namespace kiln::driver
