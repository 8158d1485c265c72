//===- GPUTarget.cpp - GPU chip table and the pipeline steps all GPU targets share -===//
#include "kiln/Target/GPU.h"

#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;

namespace kiln::target {

const char *vendorName(Vendor vendor) {
  switch (vendor) {
  case Vendor::NVIDIA:
    return "NVIDIA";
  case Vendor::AMD:
    return "AMD";
  case Vendor::Intel:
    return "Intel";
  }
  return "?";
}

const std::vector<GPUTarget> &gpuTargets() {
  // Workgroup memory one kernel may use: on NVIDIA the dynamic shared memory a block may
  // opt into (163 KiB on A100, 227 KiB on H100), a CU's 64 KiB LDS on AMD (an RDNA3 WGP
  // has 128 KiB but a workgroup gets 64), 128 KiB of SLM per Xe-core on Intel. sm_90a adds
  // warpgroup MMAs to mma.sync. AMD uses MFMA (CDNA) and WMMA (RDNA3); Intel DPAS with
  // operands by 2D block reads (both chips: sub-group 16, 8x16x16). Thread-block
  // clusters (a program spread over blocks sharing distributed shared memory) are
  // Hopper's: up to 16 blocks (above 8 the launcher opts in; the CUDA runtime does).
  static const std::vector<GPUTarget> targets = {
      {"sm_80", Vendor::NVIDIA, "Ampere (A100)", 32, 163 * 1024, 32, 1024, "nvidia-m16n8k16", 1},
      {"sm_90a", Vendor::NVIDIA, "Hopper (H100)", 32, 227 * 1024, 32, 1024, "nvidia-wgmma", 16},
      {"gfx90a", Vendor::AMD, "CDNA2 (MI200)", 64, 64 * 1024, 32, 1024, "amd-mfma", 1},
      {"gfx942", Vendor::AMD, "CDNA3 (MI300)", 64, 64 * 1024, 32, 1024, "amd-mfma", 1},
      {"gfx1100", Vendor::AMD, "RDNA3 (RX 7900)", 32, 64 * 1024, 32, 1024, "amd-wmma", 1},
      {"pvc", Vendor::Intel, "Xe-HPC (Data Center GPU Max)", 16, 128 * 1024, 16, 1024,
       "intel-dpas", 1},
      {"bmg", Vendor::Intel, "Xe2 (Battlemage)", 16, 128 * 1024, 16, 1024, "intel-dpas", 1},
  };
  return targets;
}

const GPUTarget *lookupGPUTarget(llvm::StringRef chip) {
  for (const GPUTarget &t : gpuTargets())
    if (chip == t.chip)
      return &t;
  return nullptr;
}

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
