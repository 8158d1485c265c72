//===- GPUTarget.cpp - the pipeline steps all GPU targets share ------------===//
#include "kiln/Target/GPU.h"

#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;

namespace kiln::target {

void addDistribution(OpPassManager &pm, const GPUTarget &target, int64_t threads,
                     const LoweringKnobs &knobs) {
  mlir::kiln::KilnLowerToGPUOptions lower;
  lower.threads = threads;
  lower.warpSize = target.subgroupSize;
  lower.maxSharedBytes = target.sharedMemoryBytes;
  lower.mma = target.mma;
  lower.dynamicShared = target.vendor == Vendor::NVIDIA;
  lower.tma = knobs.tma;
  lower.pingPong = knobs.pingPong;
  lower.intraOverlap = knobs.intraOverlap;
  lower.maxCluster = target.maxCluster;
  pm.addPass(mlir::kiln::createKilnLowerToGPU(lower));
}

LogicalResult distributeOverThreads(ModuleOp module, const GPUTarget &target, int64_t threads,
                                    std::vector<KernelResources> &resources,
                                    const LoweringKnobs &knobs) {
  PassManager pm(module.getContext());
  addDistribution(pm, target, threads, knobs);
  if (failed(pm.run(module)))
    return failure();
  // Record now, from the distributed kernels.
  module.walk([&](gpu::GPUFuncOp func) {
    KernelResources r;
    r.name = func.getName().str();
    r.threads = func.getKnownBlockSize() ? (*func.getKnownBlockSize())[0] : threads;
    r.sharedBytes = mlir::kiln::sharedMemoryBytes(func);
    r.globalScratchBytes = mlir::kiln::globalScratchBytes(func);
    r.cluster = mlir::kiln::clusterBlocks(func);
    resources.push_back(r);
  });
  return success();
}

FailureOr<std::string> serializeGPUModule(ModuleOp module, llvm::StringRef format,
                                          llvm::StringRef toolkit) {
  OwningOpRef<ModuleOp> copy = module.clone();
  PassManager pm(module.getContext());
  GpuModuleToBinaryPassOptions binary;
  binary.toolkitPath = toolkit.str();
  binary.compilationTarget = format.str();
  pm.addPass(createGpuModuleToBinaryPass(binary));
  if (failed(pm.run(*copy)))
    return failure();
  std::string result;
  copy->walk([&](gpu::BinaryOp binaryOp) {
    for (Attribute object : binaryOp.getObjects())
      if (auto obj = dyn_cast<gpu::ObjectAttr>(object))
        result = obj.getObject().str();
  });
  if (result.empty())
    return module.emitError("gpu-module-to-binary produced no object");
  // Assembly comes back NUL-terminated.
  if (format == "isa")
    while (!result.empty() && result.back() == '\0')
      result.pop_back();
  return result;
}

namespace {
struct GlobalPointersPass : PassWrapper<GlobalPointersPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GlobalPointersPass)
  StringRef getArgument() const override { return "kiln-global-pointers"; }
  StringRef getDescription() const override {
    return "Make generic pointers in gpu.modules global (address space 1)";
  }
  void runOnOperation() override {
    AttrTypeReplacer replacer;
    replacer.addReplacement([](LLVM::LLVMPointerType type) -> std::optional<Type> {
      if (type.getAddressSpace() != 0)
        return std::nullopt;
      return LLVM::LLVMPointerType::get(type.getContext(), /*addressSpace=*/1);
    });
    // Every generic pointer becomes global, so a private array (alloca) would too: refuse
    // it until the rewrite follows pointers from their sources.
    WalkResult allocas = getOperation().walk([](LLVM::AllocaOp alloca) {
      alloca.emitError("private arrays (llvm.alloca) are not supported on the AMD and Intel "
                       "targets yet");
      return WalkResult::interrupt();
    });
    if (allocas.wasInterrupted())
      return signalPassFailure();
    getOperation().walk([&](gpu::GPUModuleOp gpuModule) {
      replacer.recursivelyReplaceElementsIn(gpuModule, /*replaceAttrs=*/true,
                                            /*replaceLocs=*/false, /*replaceTypes=*/true);
    });
  }
};
} // namespace

std::unique_ptr<Pass> createGlobalPointersPass() { return std::make_unique<GlobalPointersPass>(); }

void registerGPUTargetPasses() { PassRegistration<GlobalPointersPass>(); }

} // namespace kiln::target
