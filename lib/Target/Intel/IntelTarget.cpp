//===- IntelTarget.cpp - tile IR to XeVM and SPIR-V modules ----------------===//
#include "kiln/Target/Intel.h"

#include "passes/Passes.h"

#include "mlir/Conversion/ConvertToLLVM/ToLLVMPass.h"
#include "mlir/Conversion/GPUToLLVMSPV/GPUToLLVMSPVPass.h"
#include "mlir/Conversion/MathToXeVM/MathToXeVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"

#include <mutex>

using namespace mlir;

namespace kiln::intel {

// OpenCL's address space of Workgroup (SLM) memory in LLVM's SPIR-V backend.
static constexpr int64_t kLocalAddressSpace = 3;

namespace {
/// Prepares distributed gpu.funcs for the SPIR-V backend:
/// - workgroup attributions become module-level SLM variables; convert-gpu-to-llvm-spv
///   would turn them into extra kernel arguments the launcher would have to size;
/// - #gpu.address_space<workgroup> becomes the integer address space the LLVM
///   conversion understands;
/// - each kernel asks for sub-groups of exactly `subgroupSize` lanes, the width the
///   distribution's shuffles assume (PVC and BMG also offer 32);
/// - bf16 conversions become integer arithmetic: a bf16 type needs SPV_KHR_bfloat16,
///   which neither Debian's spirv-val nor older Intel drivers know.
struct PrepareForSPIRVPass : PassWrapper<PrepareForSPIRVPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PrepareForSPIRVPass)
  PrepareForSPIRVPass() = default;
  PrepareForSPIRVPass(const PrepareForSPIRVPass &other) : PassWrapper(other) {}
  explicit PrepareForSPIRVPass(int size) { subgroupSize = size; }
  StringRef getArgument() const override { return "kiln-prepare-for-spirv"; }
  StringRef getDescription() const override {
    return "Rewrite distributed gpu.funcs for LLVM's SPIR-V backend (SLM variables, "
           "sub-group size, descriptor pointers, bf16, OpenCL math)";
  }

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    AttrTypeReplacer replacer;
    replacer.addReplacement([ctx](gpu::AddressSpaceAttr space) -> std::optional<Attribute> {
      if (space.getValue() != gpu::AddressSpace::Workgroup)
        return std::nullopt;
      return IntegerAttr::get(IntegerType::get(ctx, 64), kLocalAddressSpace);
    });
    for (auto gpuModule : getOperation().getOps<gpu::GPUModuleOp>()) {
      replacer.recursivelyReplaceElementsIn(gpuModule, /*replaceAttrs=*/true,
                                            /*replaceLocs=*/false, /*replaceTypes=*/true);
      for (auto func : llvm::to_vector(gpuModule.getOps<gpu::GPUFuncOp>())) {
        moveAttributionsToGlobals(func);
        if (failed(passStructPointersAsIntegers(func)))
          return signalPassFailure();
      }
      callOpenCLBuiltins(gpuModule);
      RewritePatternSet patterns(ctx);
      arith::populateExpandBFloat16Patterns(patterns);
      if (failed(applyPatternsGreedily(gpuModule, std::move(patterns))))
        return signalPassFailure();
    }
  }

  void moveAttributionsToGlobals(gpu::GPUFuncOp func) {
    OpBuilder b(func);
    Block &entry = func.getBody().front();
    unsigned first = func.getFirstWorkgroupAttributionIndex();
    unsigned count = func.getNumWorkgroupAttributions();
    for (unsigned i = 0; i < count; ++i) {
      BlockArgument arg = entry.getArgument(first + i);
      auto type = cast<MemRefType>(arg.getType());
      std::string name = ("__kiln_slm_" + func.getName() + "_" + Twine(i)).str();
      b.setInsertionPoint(func);
      memref::GlobalOp::create(b, arg.getLoc(), name, b.getStringAttr("private"), type,
                               /*initial_value=*/Attribute(), /*constant=*/false,
                               b.getI64IntegerAttr(16));
      b.setInsertionPointToStart(&entry);
      Value global = memref::GetGlobalOp::create(b, arg.getLoc(), type, name);
      arg.replaceAllUsesWith(global);
    }
    for (unsigned i = count; i > 0; --i)
      entry.eraseArgument(first + i - 1);
    func->setAttr(gpu::GPUFuncOp::getNumWorkgroupAttributionsAttrName(),
                  b.getI64IntegerAttr(0));
    func->setAttr("intel_reqd_sub_group_size", b.getI32IntegerAttr(subgroupSize));
  }

  /// SPIR-V pointers are typed: LLVM's backend gives a pointer inside a by-value struct
  /// argument one pointee type and the same pointer extracted from it another, which
  /// spirv-val rejects. A descriptor {ptr, [N x i64], [N x i64]} therefore arrives as
  /// {i64, ...} (the same bytes) and its base becomes a pointer after extraction.
  LogicalResult passStructPointersAsIntegers(gpu::GPUFuncOp func) {
    MLIRContext *ctx = &getContext();
    Type i64 = IntegerType::get(ctx, 64);
    Block &entry = func.getBody().front();
    SmallVector<Type> inputs(func.getFunctionType().getInputs());
    for (unsigned i = 0; i < inputs.size(); ++i) {
      auto type = dyn_cast<LLVM::LLVMStructType>(inputs[i]);
      if (!type || type.isIdentified())
        continue;
      SmallVector<Type> body(type.getBody());
      bool hasPointer = false;
      for (Type &member : body)
        if (isa<LLVM::LLVMPointerType>(member)) {
          member = i64;
          hasPointer = true;
        }
      if (!hasPointer)
        continue;
      BlockArgument arg = entry.getArgument(i);
      inputs[i] = LLVM::LLVMStructType::getLiteral(ctx, body, type.isPacked());
      arg.setType(inputs[i]);
      for (Operation *user : llvm::to_vector(arg.getUsers())) {
        auto extract = dyn_cast<LLVM::ExtractValueOp>(user);
        if (!extract)
          return user->emitError("a descriptor argument is used other than by extractvalue");
        auto pointer = dyn_cast<LLVM::LLVMPointerType>(extract.getType());
        if (!pointer)
          continue;
        extract.getResult().setType(i64);
        OpBuilder b(extract);
        b.setInsertionPointAfter(extract);
        auto base = LLVM::IntToPtrOp::create(b, extract.getLoc(), pointer, extract.getResult());
        extract.getResult().replaceAllUsesExcept(base, base);
      }
    }
    func.setFunctionType(FunctionType::get(ctx, inputs, {}));
    return success();
  }

  /// Math functions LLVM has no intrinsic for become calls of their OpenCL builtins
  /// (_Z3erff for erf on f32), which the SPIR-V backend emits as OpenCL.std instructions.
  void callOpenCLBuiltins(gpu::GPUModuleOp gpuModule) {
    static const std::pair<StringRef, StringRef> builtins[] = {
        {"math.erf", "erf"},     {"math.erfc", "erfc"},   {"math.cbrt", "cbrt"},
        {"math.asinh", "asinh"}, {"math.acosh", "acosh"}, {"math.atanh", "atanh"}};
    SmallVector<std::pair<Operation *, StringRef>> calls;
    gpuModule.walk([&](Operation *op) {
      for (auto [opName, builtin] : builtins)
        if (op->getName().getStringRef() == opName && op->getNumOperands() == 1 &&
            op->getNumResults() == 1)
          calls.push_back({op, builtin});
    });
    for (auto [op, builtin] : calls) {
      Type type = op->getResult(0).getType();
      StringRef suffix = type.isF32() ? "f" : type.isF64() ? "d" : type.isF16() ? "Dh" : "";
      if (suffix.empty())
        continue; // left for the LLVM conversion to report
      std::string name = ("_Z" + Twine(builtin.size()) + builtin + suffix).str();
      OpBuilder b(gpuModule.getBodyRegion());
      auto callee = gpuModule.lookupSymbol<LLVM::LLVMFuncOp>(name);
      if (!callee) {
        callee = LLVM::LLVMFuncOp::create(b, op->getLoc(), name,
                                          LLVM::LLVMFunctionType::get(type, {type}));
        callee.setCConv(LLVM::CConv::SPIR_FUNC);
      }
      b.setInsertionPoint(op);
      auto call = LLVM::CallOp::create(b, op->getLoc(), callee, op->getOperands());
      call.setCConv(LLVM::CConv::SPIR_FUNC);
      op->replaceAllUsesWith(call);
      op->erase();
    }
  }

  Option<int> subgroupSize{*this, "subgroup-size",
                           llvm::cl::desc("sub-group lanes every kernel requires"),
                           llvm::cl::init(16)};
};
} // namespace

static FailureOr<const target::GPUTarget *> intelTarget(Operation *where, StringRef chip) {
  const target::GPUTarget *t = target::lookupGPUTarget(chip);
  if (!t || t->vendor != target::Vendor::Intel)
    return where->emitError("unsupported Intel chip '") << chip << "' (expected pvc or bmg)";
  return t;
}

/// LLVM's SPIR-V backend aborts the process on a type it cannot emit without an extension;
/// say where such a value comes from instead.
static LogicalResult checkSPIRVTypes(ModuleOp module) {
  auto supported = [](Type type) {
    Type element = getElementTypeOrSelf(type);
    if (auto vec = dyn_cast<VectorType>(type))
      element = vec.getElementType();
    return !isa<FloatType>(element) || element.isF16() || element.isF32() || element.isF64();
  };
  WalkResult result = module.walk([&](Operation *op) {
    for (Type type : llvm::concat<Type>(op->getOperandTypes(), op->getResultTypes()))
      if (!supported(type)) {
        op->emitError("the Intel targets cannot compute with ")
            << getElementTypeOrSelf(type) << " yet (only f16, f32 and f64 reach SPIR-V)";
        return WalkResult::interrupt();
      }
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

/// Passes after distribution, ending in the LLVM dialect inside the gpu.module.
static void addXeVMStages(OpPassManager &pm, const TargetOptions &options,
                          const target::GPUTarget &chip) {
  pm.addPass(target::createGlobalPointersPass());
  pm.addPass(std::make_unique<PrepareForSPIRVPass>(chip.subgroupSize));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  GpuXeVMAttachTargetOptions attach;
  attach.chip = options.chip;
  attach.optLevel = 3;
  pm.addPass(createGpuXeVMAttachTarget(attach));
  OpPassManager &gpu = pm.nest<gpu::GPUModuleOp>();
  gpu.addPass(createSCFToControlFlowPass());
  ConvertGpuOpsToLLVMSPVOpsOptions spv;
  spv.use64bitIndex = true;
  gpu.addPass(createConvertGpuOpsToLLVMSPVOps(spv));
  gpu.addPass(createConvertMathToXeVM());
  gpu.addPass(createConvertToLLVMPass());
  gpu.addPass(createCanonicalizerPass());
  gpu.addPass(createCSEPass());
  gpu.addPass(createReconcileUnrealizedCastsPass());
}

LogicalResult lowerToXeVM(ModuleOp module, const TargetOptions &options,
                          std::vector<target::KernelResources> &resources) {
  auto chip = intelTarget(module, options.chip);
  if (failed(chip))
    return failure();
  if (failed(target::distributeOverThreads(module, **chip, options.threads, resources)))
    return failure();
  PassManager pm(module.getContext());
  addXeVMStages(pm, options, **chip);
  if (failed(pm.run(module)))
    return failure();
  return checkSPIRVTypes(module);
}

/// Float atomics (kiln.atomic fadd/fmax/fmin) need SPIR-V extensions every Intel GPU
/// driver supports; LLVM's SPIR-V backend takes extensions only from its command line.
static void allowIntelExtensions() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto &options = llvm::cl::getRegisteredOptions();
    auto it = options.find("spirv-ext");
    if (it != options.end())
      (void)it->second->addOccurrence(
          1, "spirv-ext", "+SPV_EXT_shader_atomic_float_add,+SPV_EXT_shader_atomic_float_min_max");
  });
}

FailureOr<std::string> serialize(ModuleOp module, const TargetOptions &, bool assembly) {
  allowIntelExtensions();
  // LLVM's SPIR-V backend runs in process: no toolkit.
  return target::serializeGPUModule(module, assembly ? "isa" : "bin", "");
}

namespace {
struct PipelineOptions : PassPipelineOptions<PipelineOptions> {
  Option<std::string> chip{*this, "chip", llvm::cl::desc("pvc or bmg"), llvm::cl::init("pvc")};
  Option<int64_t> threads{*this, "threads", llvm::cl::desc("threads per program"),
                          llvm::cl::init(128)};
};
} // namespace

void registerIntelPipeline() {
  PassRegistration<PrepareForSPIRVPass>();
  registerPassPipeline(
      "kiln-intel-pipeline",
      "Lower tile IR to the LLVM dialect for SPIR-V on an Intel chip (pvc, bmg)",
      [](OpPassManager &pm, StringRef text, function_ref<LogicalResult(const Twine &)> error) {
        PipelineOptions pipeline;
        if (failed(pipeline.parseFromString(text)))
          return failure();
        const target::GPUTarget *chip = target::lookupGPUTarget(pipeline.chip);
        if (!chip || chip->vendor != target::Vendor::Intel)
          return error("kiln-intel-pipeline: unsupported Intel chip '" + pipeline.chip + "'");
        TargetOptions options;
        options.chip = pipeline.chip;
        target::addDistribution(pm, *chip, pipeline.threads);
        addXeVMStages(pm, options, *chip);
        return success();
      },
      [](function_ref<void(const detail::PassOptions &)> handler) { handler(PipelineOptions()); });
}

} // namespace kiln::intel
