//===- NVIDIATarget.cpp - tile IR to NVVM, PTX and cubin -------------------===//
#include "kiln/Target/NVIDIA.h"

#include "passes/Passes.h"

#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cstdlib>

using namespace mlir;

namespace kiln::nvidia {

std::string defaultToolkitPath() {
  if (const char *home = std::getenv("CUDA_HOME"))
    return home;
  return "/usr/local/cuda";
}

/// Everything after tile distribution: attach the target, lower the gpu.module to NVVM.
static void addNVVMStages(OpPassManager &pm, const TargetOptions &options) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  GpuNVVMAttachTargetOptions attach;
  attach.chip = options.chip;
  // PTX ISA 8.3: sm_90a with tensormap.replace (kernels build their TMA tensor maps);
  // ptxas of CUDA 12.3 and later accepts it for sm_80 too.
  attach.features = "+ptx83";
  attach.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(attach));
  OpPassManager &gpu = pm.nest<gpu::GPUModuleOp>();
  gpu.addPass(createSCFToControlFlowPass());
  gpu.addPass(createConvertGpuOpsToNVVMOps());
  gpu.addPass(createConvertNVVMToLLVMPass()); // ops emitted as inline PTX (wgmma)
  gpu.addPass(createCanonicalizerPass());
  gpu.addPass(createCSEPass());
  gpu.addPass(createReconcileUnrealizedCastsPass());
}

/// f32 exp2, and exp that allows approximation (afn), as one `ex2.approx.ftz.f32` (after
/// a multiply by log2(e) for exp): the upstream lowerings keep denormal results
/// (`ex2.approx.f32`, fix-up instructions around every exp2) or call libdevice's accurate
/// expf (nine instructions); softmax does one per score. Results below 2^-126 flush to
/// 0, as with CUDA's fast math.
static void useFlushingExp2(ModuleOp module) {
  auto ex2 = [](OpBuilder &b, Location loc, Value x) {
    auto op = b.create<LLVM::InlineAsmOp>(
        loc, TypeRange{x.getType()}, ValueRange{x}, "ex2.approx.ftz.f32 $0, $1;", "=f,f",
        /*has_side_effects=*/false, /*is_align_stack=*/false,
        LLVM::tailcallkind::TailCallKind::None,
        LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT), ArrayAttr());
    return op.getResult(0);
  };
  module.walk([&](Operation *op) {
    bool exp2 = isa<math::Exp2Op>(op);
    auto exp = dyn_cast<math::ExpOp>(op);
    bool approxExp =
        exp && bitEnumContainsAll(exp.getFastmath(), arith::FastMathFlags::afn);
    if ((!exp2 && !approxExp) || !op->getResult(0).getType().isF32())
      return;
    OpBuilder b(op);
    Value x = op->getOperand(0);
    if (approxExp)
      x = b.create<arith::MulFOp>(op->getLoc(), x,
                                  b.create<arith::ConstantOp>(
                                      op->getLoc(), b.getF32FloatAttr(1.44269504088896341f)));
    op->getResult(0).replaceAllUsesWith(ex2(b, op->getLoc(), x));
    op->erase();
  });
}

LogicalResult lowerToNVVM(ModuleOp module, const TargetOptions &options,
                          std::vector<KernelResources> &resources) {
  const target::GPUTarget *chip = target::lookupGPUTarget(options.chip);
  if (!chip || chip->vendor != target::Vendor::NVIDIA)
    return module.emitError("unsupported NVIDIA chip '") << options.chip << "'";
  if (failed(target::distributeOverThreads(module, *chip, options.threads, resources,
                                          options.knobs)))
    return failure();
  useFlushingExp2(module);
  PassManager pm(module.getContext());
  addNVVMStages(pm, options);
  return pm.run(module);
}

FailureOr<std::string> serialize(ModuleOp module, const TargetOptions &options, bool ptx) {
  std::string toolkit = options.toolkit.empty() ? defaultToolkitPath() : options.toolkit;
  if (!ptx) {
    SmallString<256> ptxas(toolkit);
    llvm::sys::path::append(ptxas, "bin", "ptxas");
    if (!llvm::sys::fs::can_execute(ptxas))
      return module.emitError("ptxas not found at ")
             << ptxas << "; set CUDA_HOME to a CUDA toolkit, or emit PTX only";
  }
  return target::serializeGPUModule(module, ptx ? "isa" : "bin", toolkit);
}

void registerNVIDIAPipeline() {
  PassPipelineRegistration<>("kiln-nvidia-pipeline",
                             "Lower tile IR to NVVM for sm_90a (128 threads per program)",
                             [](OpPassManager &pm) {
                               TargetOptions options;
                               target::addDistribution(pm, *target::lookupGPUTarget(options.chip),
                                                       options.threads);
                               addNVVMStages(pm, options);
                             });
}

} // namespace kiln::nvidia
