//===- HostJIT.cpp - in-memory compilation through MLIR's ORC engine -------===//
#include "kiln/JIT/HostJIT.h"

#include "kiln/Driver/Driver.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/ExecutionEngine/Orc/Core.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"

extern "C" float __truncsfbf2(float);
extern "C" float __truncdfbf2(double);

namespace kiln::jit {

struct HostKernel::Impl {
  std::unique_ptr<mlir::ExecutionEngine> engine;
  kiln_host_program_fn entry = nullptr;
  size_t numParams = 0;
};

HostKernel::HostKernel(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
HostKernel::~HostKernel() = default;
HostKernel::HostKernel(HostKernel &&) noexcept = default;
HostKernel &HostKernel::operator=(HostKernel &&) noexcept = default;

std::unique_ptr<HostKernel> HostKernel::compile(const std::string &source,
                                                const std::string &kernel,
                                                const std::vector<std::string> &constants,
                                                std::string &error,
                                                const std::string &sourceName) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto context = driver::createContext();
  llvm::SourceMgr sources;
  sources.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(source, sourceName),
                             llvm::SMLoc());
  std::string diagnostics;
  llvm::raw_string_ostream diagStream(diagnostics);
  mlir::SourceMgrDiagnosticHandler handler(sources, context.get(), diagStream);
  auto module = driver::parseKernels(sources, *context);
  if (!module || mlir::failed(driver::specialize(*module, constants))) {
    error = diagnostics.empty() ? "failed to parse or specialise the kernel" : diagnostics;
    return nullptr;
  }
  size_t numParams = 0;
  bool found = false;
  for (const auto &info : driver::describeKernels(*module))
    if (info.name == kernel) {
      found = true;
      numParams = info.params.size();
    }
  if (!found) {
    error = "no kernel named '" + kernel + "' in " + sourceName;
    return nullptr;
  }
  if (mlir::failed(driver::lowerForHost(*module))) {
    error = diagnostics.empty() ? "lowering for the host failed" : diagnostics;
    return nullptr;
  }
  mlir::ExecutionEngineOptions options;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engine = mlir::ExecutionEngine::create(*module, options);
  if (!engine) {
    error = "JIT compilation failed: " + llvm::toString(engine.takeError());
    return nullptr;
  }
  // bf16 rounding helpers LLVM may call on CPUs without native bf16 (see BFloat16.c).
  (*engine)->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap map;
    map[interner("__truncsfbf2")] = {llvm::orc::ExecutorAddr::fromPtr(&__truncsfbf2),
                                     llvm::JITSymbolFlags::Exported};
    map[interner("__truncdfbf2")] = {llvm::orc::ExecutorAddr::fromPtr(&__truncdfbf2),
                                     llvm::JITSymbolFlags::Exported};
    return map;
  });
  auto symbol = (*engine)->lookup("kiln_program_" + kernel);
  if (!symbol) {
    error = "JIT lookup failed: " + llvm::toString(symbol.takeError());
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  impl->entry = reinterpret_cast<kiln_host_program_fn>(*symbol);
  impl->engine = std::move(*engine);
  impl->numParams = numParams;
  return std::unique_ptr<HostKernel>(new HostKernel(std::move(impl)));
}

kiln_status HostKernel::launch(void **args, size_t numArgs, uint32_t gx, uint32_t gy,
                               uint32_t gz) const {
  if (numArgs != impl->numParams)
    return KILN_ERROR_INVALID_ARGUMENT;
  return kiln_host_launch(impl->entry, args, gx, gy, gz);
}

size_t HostKernel::numParams() const { return impl->numParams; }

} // namespace kiln::jit
