//===- Host.h - the host CPU target: pipeline, LLVM IR, objects, JIT -------===//
#ifndef KILN_TARGET_HOST_H
#define KILN_TARGET_HOST_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace llvm {
class LLVMContext;
class Module;
class raw_pwrite_stream;
} // namespace llvm

namespace kiln::host {

/// Appends the passes that take tile IR (after kiln-specialize) to the LLVM dialect
/// for the host: kiln-lower-to-host, bufferization, linalg to loops, LLVM conversion.
void buildHostPipeline(mlir::OpPassManager &pm);

/// Registers `kiln-host-pipeline` with the pass registry (for kiln-opt).
void registerHostPipeline();

/// Registers the dialect translations needed to turn the LLVM dialect into LLVM IR.
void registerHostTranslations(mlir::DialectRegistry &registry);

/// Translates a module in the LLVM dialect to optimised LLVM IR for an x86-64 CPU:
/// `cpu` is an LLVM CPU name ("x86-64-v3", "sapphirerapids") or "native" for the CPU
/// running the compiler. `optLevel` is 0-3. Errors carry a message.
llvm::Expected<std::unique_ptr<llvm::Module>>
translateToLLVMIR(mlir::ModuleOp module, llvm::LLVMContext &context, unsigned optLevel,
                  llvm::StringRef cpu);

/// Writes `module` as an object file (or assembly when `assembly`) for `cpu`.
llvm::Error emitHostCode(llvm::Module &module, llvm::raw_pwrite_stream &os, bool assembly,
                         llvm::StringRef cpu);

/// The CPU name `cpu` stands for ("native" resolves to the running CPU).
std::string resolveHostCPU(llvm::StringRef cpu);

} // namespace kiln::host

#endif
