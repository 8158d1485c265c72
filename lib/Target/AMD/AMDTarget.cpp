//===- AMDTarget.cpp - tile IR to ROCDL, GCN assembly and HSA code objects -===//
#include "kiln/Target/AMD.h"

#include "passes/Passes.h"

#include "mlir/Conversion/GPUToROCDL/GPUToROCDLPass.h"
#include "mlir/Conversion/MathToROCDL/MathToROCDL.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/ROCDLDialect.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/ROCDL/Utils.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <cstdlib>

using namespace mlir;

namespace kiln::amd {

static constexpr const char *kTriple = "amdgcn-amd-amdhsa";
// Code object v5: loaded by ROCm 5.x and 6.x alike (v6 needs ROCm 6.2).
static constexpr const char *kCodeObjectABI = "500";

std::string defaultDeviceLibraryPath() {
  if (const char *rocm = std::getenv("ROCM_PATH"))
    return rocm;
  return "/usr/lib/x86_64-linux-gnu"; // Debian's rocm-device-libs: amdgcn/bitcode here
}

static FailureOr<const target::GPUTarget *> amdTarget(Operation *where, StringRef chip) {
  const target::GPUTarget *t = target::lookupGPUTarget(chip);
  if (!t || t->vendor != target::Vendor::AMD)
    return where->emitError("unsupported AMD chip '") << chip << "' (expected gfx90a, gfx942 or gfx1100)";
  return t;
}

/// Passes after distribution: global pointers, the ROCDL target, the gpu.module to ROCDL.
static void addROCDLStages(OpPassManager &pm, const TargetOptions &options,
                           const target::GPUTarget &chip) {
  pm.addPass(target::createGlobalPointersPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  GpuROCDLAttachTargetOptions attach;
  attach.triple = kTriple;
  attach.chip = options.chip;
  attach.abiVersion = kCodeObjectABI;
  attach.optLevel = 3;
  // The device libraries read the wave size from this flag; LLVM picks the ISA's from
  // the chip (gfx9 is wave64 only, gfx11 defaults to wave32).
  attach.wave64Flag = chip.subgroupSize == 64;
  pm.addPass(createGpuROCDLAttachTarget(attach));
  // Math to device-library calls first (a module pass; kernels live only in the
  // gpu.module): LLVM 22's AMDGPU backend cannot lower llvm.tanh or llvm.atan, which the
  // generic conversion would produce.
  ConvertMathToROCDLOptions math;
  math.chipset = options.chip;
  pm.addPass(createConvertMathToROCDL(math));
  OpPassManager &gpu = pm.nest<gpu::GPUModuleOp>();
  gpu.addPass(createSCFToControlFlowPass());
  ConvertGpuOpsToROCDLOpsOptions rocdl;
  rocdl.chipset = options.chip;
  rocdl.runtime = gpu::amd::Runtime::HIP;
  gpu.addPass(createConvertGpuOpsToROCDLOps(rocdl));
  gpu.addPass(createCanonicalizerPass());
  gpu.addPass(createCSEPass());
  gpu.addPass(createReconcileUnrealizedCastsPass());
}

LogicalResult lowerToROCDL(ModuleOp module, const TargetOptions &options,
                           std::vector<target::KernelResources> &resources) {
  auto chip = amdTarget(module, options.chip);
  if (failed(chip))
    return failure();
  if (failed(target::distributeOverThreads(module, **chip, options.threads, resources)))
    return failure();
  PassManager pm(module.getContext());
  addROCDLStages(pm, options, **chip);
  return pm.run(module);
}

/// ld.lld turns the relocatable object into the shared object HIP loads: $KILN_LLD, then
/// LLVM's own tools directory, then PATH.
static std::string findLinker() {
  if (const char *env = std::getenv("KILN_LLD"))
    return env;
  SmallString<256> inLLVM(KILN_LLVM_TOOLS_DIR);
  llvm::sys::path::append(inLLVM, "ld.lld");
  if (llvm::sys::fs::can_execute(inLLVM))
    return inLLVM.str().str();
  if (auto onPath = llvm::sys::findProgramByName("ld.lld"))
    return *onPath;
  return {};
}

static FailureOr<std::string> link(ModuleOp module, ArrayRef<char> object) {
  std::string lld = findLinker();
  if (lld.empty())
    return module.emitError("ld.lld not found (install lld-22, or set KILN_LLD): it links "
                            "AMD code objects");
  SmallString<128> input, output;
  if (llvm::sys::fs::createTemporaryFile("kiln-amd", "o", input) ||
      llvm::sys::fs::createTemporaryFile("kiln-amd", "hsaco", output))
    return module.emitError("cannot create temporary files for linking");
  auto cleanup = llvm::make_scope_exit([&] {
    llvm::sys::fs::remove(input);
    llvm::sys::fs::remove(output);
  });
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(input, ec, llvm::sys::fs::OF_None);
    if (ec)
      return module.emitError("cannot write ") << input << ": " << ec.message();
    os.write(object.data(), object.size());
  }
  std::string message;
  SmallVector<StringRef> args{lld, "-flavor", "gnu", "-shared", input, "-o", output};
  if (llvm::sys::ExecuteAndWait(lld, args, std::nullopt, {}, 0, 0, &message) != 0)
    return module.emitError("ld.lld failed to link the code object")
           << (message.empty() ? "" : ": ") << message;
  auto buffer = llvm::MemoryBuffer::getFile(output);
  if (!buffer)
    return module.emitError("cannot read the linked code object ") << output;
  return (*buffer)->getBuffer().str();
}

FailureOr<std::string> serialize(ModuleOp module, const TargetOptions &options, bool assembly) {
  std::string libs =
      options.deviceLibraries.empty() ? defaultDeviceLibraryPath() : options.deviceLibraries;
  // gpu-module-to-binary links the device libraries the code calls (__ocml_*, __ockl_*)
  // and runs LLVM's AMDGPU backend; its own link step expects a ROCm tree, so the
  // assembly is assembled here and linked with Debian's lld.
  auto isa = target::serializeGPUModule(module, "isa", libs);
  if (failed(isa) || assembly)
    return isa;
  auto object = ROCDL::assembleIsa(*isa, kTriple, options.chip, /*features=*/"",
                                   [&] { return module.emitError(); });
  if (failed(object))
    return failure();
  return link(module, *object);
}

LogicalResult readCodeObjectResources(ModuleOp module, StringRef codeObject,
                                      std::vector<target::KernelResources> &resources) {
  Builder builder(module.getContext());
  auto kernels = ROCDL::getAMDHSAKernelsELFMetadata(
      builder, ArrayRef<char>(codeObject.data(), codeObject.size()));
  if (!kernels)
    return module.emitError("the code object has no readable AMDHSA kernel metadata");
  auto integer = [](const NamedAttrList &attrs, StringRef key) -> int64_t {
    for (const NamedAttribute &a : attrs)
      if (a.getName().getValue().ltrim('.') == key)
        if (auto i = dyn_cast<IntegerAttr>(a.getValue()))
          return i.getInt();
    return -1;
  };
  for (target::KernelResources &r : resources) {
    for (auto &[name, attrs] : *kernels) {
      if (name.getValue() != r.name)
        continue;
      r.registers = integer(attrs, "vgpr_count");
      r.scalarRegisters = integer(attrs, "sgpr_count");
      int64_t vSpills = integer(attrs, "vgpr_spill_count");
      int64_t sSpills = integer(attrs, "sgpr_spill_count");
      r.spilledRegisters = std::max<int64_t>(vSpills, 0) + std::max<int64_t>(sSpills, 0);
      r.scratchBytes = integer(attrs, "private_segment_fixed_size");
      int64_t lds = integer(attrs, "group_segment_fixed_size");
      if (lds >= 0)
        r.sharedBytes = lds;
    }
  }
  return success();
}

namespace {
struct PipelineOptions : PassPipelineOptions<PipelineOptions> {
  Option<std::string> chip{*this, "chip", llvm::cl::desc("gfx90a, gfx942 or gfx1100"),
                           llvm::cl::init("gfx942")};
  Option<int64_t> threads{*this, "threads", llvm::cl::desc("threads per program"),
                          llvm::cl::init(128)};
};
} // namespace

void registerAMDPipeline() {
  registerPassPipeline(
      "kiln-amd-pipeline", "Lower tile IR to ROCDL for an AMD chip (gfx90a, gfx942, gfx1100)",
      [](OpPassManager &pm, StringRef text, function_ref<LogicalResult(const Twine &)> error) {
        PipelineOptions pipeline;
        if (failed(pipeline.parseFromString(text)))
          return failure();
        const target::GPUTarget *chip = target::lookupGPUTarget(pipeline.chip);
        if (!chip || chip->vendor != target::Vendor::AMD)
          return error("kiln-amd-pipeline: unsupported AMD chip '" + pipeline.chip + "'");
        TargetOptions options;
        options.chip = pipeline.chip;
        target::addDistribution(pm, *chip, pipeline.threads);
        addROCDLStages(pm, options, *chip);
        return success();
      },
      [](function_ref<void(const detail::PassOptions &)> handler) { handler(PipelineOptions()); });
}

} // namespace kiln::amd
