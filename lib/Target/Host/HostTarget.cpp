//===- HostTarget.cpp - host pipeline, translation to LLVM IR and codegen --===//
#include "kiln/Target/Host.h"

#include "passes/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace kiln::host {

void buildHostPipeline(OpPassManager &pm) {
  pm.addPass(mlir::kiln::createKilnLowerToHost());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createConvertElementwiseToLinalgPass());
  pm.addPass(createLinalgElementwiseOpFusionPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  // Loop-carried tiles may be fresh buffers each iteration (scan, softmax stats).
  bufferize.allowReturnAllocsFromLoops = true;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
  pm.addPass(mlir::kiln::createKilnExpandHostAtomics());
  pm.addPass(mlir::kiln::createKilnLowerHostCopies());
  pm.addPass(createConvertLinalgToLoopsPass());
  // Strided-metadata expansion emits affine.apply, so affine lowering comes after it.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void registerHostPipeline() {
  PassPipelineRegistration<>("kiln-host-pipeline",
                             "Lower tile IR to the LLVM dialect for the host CPU",
                             [](OpPassManager &pm) { buildHostPipeline(pm); });
}

void registerHostTranslations(DialectRegistry &registry) {
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

std::string resolveHostCPU(llvm::StringRef cpu) {
  return cpu == "native" ? llvm::sys::getHostCPUName().str() : cpu.str();
}

static llvm::Expected<std::unique_ptr<llvm::TargetMachine>> hostTargetMachine(llvm::StringRef cpu) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::string triple = llvm::sys::getProcessTriple();
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return llvm::createStringError("no LLVM target for " + triple + ": " + error);
  llvm::TargetOptions options;
  std::string cpuName = resolveHostCPU(cpu);
  llvm::Triple parsed(triple);
  auto *info = target->createMCSubtargetInfo(parsed, cpuName, "");
  bool known = info && info->isCPUStringValid(cpuName);
  delete info;
  if (!known)
    return llvm::createStringError("unknown CPU '" + cpuName + "' for " + triple);
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      parsed, cpuName, "", options, llvm::Reloc::PIC_));
  if (!machine)
    return llvm::createStringError("cannot create a target machine for " + triple);
  return machine;
}

llvm::Expected<std::unique_ptr<llvm::Module>>
translateToLLVMIR(ModuleOp module, llvm::LLVMContext &context, unsigned optLevel,
                  llvm::StringRef cpu) {
  std::unique_ptr<llvm::Module> llvmModule = translateModuleToLLVMIR(module, context);
  if (!llvmModule)
    return llvm::createStringError("translation to LLVM IR failed");
  auto machine = hostTargetMachine(cpu);
  if (!machine)
    return machine.takeError();
  llvmModule->setDataLayout((*machine)->createDataLayout());
  llvmModule->setTargetTriple((*machine)->getTargetTriple());
  auto optimize = makeOptimizingTransformer(optLevel, /*sizeLevel=*/0, machine->get());
  if (llvm::Error err = optimize(llvmModule.get()))
    return std::move(err);
  return llvmModule;
}

llvm::Error emitHostCode(llvm::Module &module, llvm::raw_pwrite_stream &os, bool assembly,
                         llvm::StringRef cpu) {
  auto machine = hostTargetMachine(cpu);
  if (!machine)
    return machine.takeError();
  llvm::legacy::PassManager pm;
  auto fileType = assembly ? llvm::CodeGenFileType::AssemblyFile
                           : llvm::CodeGenFileType::ObjectFile;
  if ((*machine)->addPassesToEmitFile(pm, os, nullptr, fileType))
    return llvm::createStringError("the host target cannot emit this file type");
  pm.run(module);
  return llvm::Error::success();
}

} // namespace kiln::host
