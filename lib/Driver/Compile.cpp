//===- Compile.cpp - one module through specialisation and a target pipeline ===//
#include "kiln/Driver/Driver.h"
#include "kiln/Target/AMD.h"
#include "kiln/Target/Host.h"
#include "kiln/Target/Intel.h"
#include "kiln/Target/NVIDIA.h"

#include "dialects/Kiln/KilnDialect.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <cstdio>
#include <map>
#include <set>

using namespace llvm;

namespace kiln::driver {

namespace {

Error message(const Twine &text) { return createStringError(inconvertibleErrorCode(), text); }
/// A failure already reported through the context's diagnostics.
Error diagnosed() { return message(""); }

/// The location of each kernel, for diagnostics about what its binary needs.
std::map<std::string, mlir::Location> kernelLocations(mlir::ModuleOp module) {
  std::map<std::string, mlir::Location> locations;
  for (auto func : module.getOps<mlir::kiln::FuncOp>())
    locations.emplace(func.getSymName().str(), func.getLoc());
  return locations;
}

mlir::Location locationOf(mlir::ModuleOp module,
                          const std::map<std::string, mlir::Location> &locations,
                          const std::string &kernel) {
  auto it = locations.find(kernel);
  return it != locations.end() ? it->second : module.getLoc();
}

/// Every binding names a constexpr parameter of some kernel.
Error checkConstants(mlir::ModuleOp module, const KernelConfig &config) {
  std::set<std::string> names;
  for (const auto &k : describeKernels(module))
    for (const auto &p : k.params)
      if (p.isConstexpr)
        names.insert(p.name);
  for (const auto &[name, value] : config.constants)
    if (!names.count(name))
      return message("-D " + name + "=" + value +
                     ": no kernel has a constexpr parameter named '" + name + "'");
  return Error::success();
}

/// Writes the config's attribute overrides onto every kernel.
void applyOverrides(mlir::ModuleOp module, const KernelConfig &config) {
  for (auto func : module.getOps<mlir::kiln::FuncOp>()) {
    mlir::Builder b(func.getContext());
    auto set = [&](StringRef name, const std::optional<int64_t> &v) {
      if (v)
        func->setAttr(name, b.getI64IntegerAttr(*v));
    };
    set("num_threads", config.numThreads);
    set("num_stages", config.numStages);
    set("min_programs_per_sm", config.minProgramsPerSM);
    set("cluster", config.cluster);
    if (config.warpSpecialize) {
      if (*config.warpSpecialize)
        func->setAttr("warp_specialize", b.getUnitAttr());
      else
        func->removeAttr("warp_specialize");
    }
  }
}

target::LoweringKnobs knobsOf(const KernelConfig &config) {
  target::LoweringKnobs knobs;
  knobs.tma = config.tma;
  knobs.pingPong = config.pingPong;
  knobs.intraOverlap = config.intraOverlap;
  return knobs;
}

/// Copies what a GPU pipeline learnt about each kernel into its launch description.
void applyResources(std::vector<KernelInfo> &kernels,
                    const std::vector<target::KernelResources> &resources,
                    const target::GPUTarget &chip) {
  for (auto &k : kernels) {
    k.symbol = k.name;
    // subgroup_size is for AMD and Intel; NVIDIA kernels always run warps of 32.
    k.subgroupSize = chip.vendor == target::Vendor::NVIDIA ? 0 : chip.subgroupSize;
    for (const auto &r : resources)
      if (r.name == k.name) {
        k.threads = r.threads;
        k.sharedMemoryBytes = r.sharedBytes;
        k.registers = r.registers;
        k.scalarRegisters = r.scalarRegisters;
        k.scratchBytes = r.scratchBytes;
        k.globalScratchBytes = r.globalScratchBytes;
        k.cluster = r.cluster;
      }
  }
}

/// Threads per program must fill whole warps / wavefronts / sub-groups of `chip`.
Error checkThreads(int64_t threads, const target::GPUTarget &chip) {
  if (threads % chip.subgroupSize != 0 || threads > chip.maxThreads)
    return message(formatv("threads per program must be a multiple of {0} between {0} and {1} "
                           "for {2}, got {3}",
                           chip.subgroupSize, chip.maxThreads, chip.chip, threads));
  return Error::success();
}

/// Reports a spill at its kernel: a warning, or an error with spillsAreErrors.
void reportSpill(mlir::Location loc, const std::string &text, const CompileOptions &options,
                 bool &failed) {
  if (options.spillsAreErrors) {
    mlir::emitError(loc) << text;
    failed = true;
  } else {
    mlir::emitWarning(loc) << text;
  }
}

/// Runs ptxas -v over `ptx`: records registers and spills per kernel, reports spills.
Error reportPTXResources(mlir::ModuleOp module,
                         const std::map<std::string, mlir::Location> &locations,
                         std::vector<KernelInfo> &kernels, StringRef ptx,
                         const nvidia::TargetOptions &target, const CompileOptions &options) {
  SmallString<256> ptxas(nvidia::defaultToolkitPath());
  sys::path::append(ptxas, "bin", "ptxas");
  SmallString<128> ptxPath, log;
  int fd;
  if (sys::fs::createTemporaryFile("kilnc-ptxas", "ptx", fd, ptxPath))
    return message("cannot create a temporary file for ptxas");
  {
    raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << ptx;
  }
  if (sys::fs::createTemporaryFile("kilnc-ptxas", "txt", log)) {
    sys::fs::remove(ptxPath);
    return message("cannot create a temporary file for ptxas");
  }
  std::string arch = "-arch=" + target.chip;
  SmallVector<StringRef> args{ptxas, arch, "-v", ptxPath, "-o", "/dev/null"};
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(log), StringRef(log)};
  int rc = sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects);
  auto text = MemoryBuffer::getFile(log);
  sys::fs::remove(log);
  sys::fs::remove(ptxPath);
  if (rc != 0 || !text)
    return message("ptxas -v failed on the PTX of " + target.chip);
  // "Compiling entry function 'NAME'", then "N bytes spill stores, M bytes spill loads"
  // and "Used R registers".
  KernelInfo *current = nullptr;
  SmallVector<StringRef> lines;
  (*text)->getBuffer().split(lines, '\n');
  bool failed = false;
  for (StringRef line : lines) {
    size_t at = line.find("Compiling entry function '");
    if (at != StringRef::npos) {
      StringRef name = line.substr(at + 26).split('\'').first;
      current = nullptr;
      for (auto &k : kernels)
        if (k.name == name)
          current = &k;
      continue;
    }
    if (!current)
      continue;
    unsigned stack = 0, stores = 0, loads = 0, regs = 0;
    if (sscanf(line.trim().str().c_str(),
               "%u bytes stack frame, %u bytes spill stores, %u bytes spill loads", &stack,
               &stores, &loads) == 3) {
      current->spillBytes = stores + loads;
      if (stores + loads)
        reportSpill(locationOf(module, locations, current->name),
                    formatv("kernel '{0}' spills {1} bytes of registers to local memory "
                            "({2} stored, {3} loaded back; spill_bytes in the metadata)",
                            current->name, stores + loads, stores, loads),
                    options, failed);
    }
    size_t used = line.find("Used ");
    if (used != StringRef::npos &&
        sscanf(line.substr(used).str().c_str(), "Used %u registers", &regs) == 1)
      current->registers = regs;
  }
  return failed ? diagnosed() : Error::success();
}

/// sm_80 / sm_90a: NVVM (Stage::LLVM), PTX (Stage::Asm), or the cubin beside its PTX.
Error compileForNVIDIA(mlir::ModuleOp module, const CompileOptions &options, Stage stage,
                       Compilation &out) {
  const target::GPUTarget &chip = *target::lookupGPUTarget(options.target);
  nvidia::TargetOptions target;
  target.chip = options.target;
  target.threads = options.config.threads;
  target.knobs = knobsOf(options.config);
  if (Error e = checkThreads(target.threads, chip))
    return e;
  // Lowering replaces the kernels; their source locations are taken first.
  std::map<std::string, mlir::Location> locations = kernelLocations(module);
  std::vector<nvidia::KernelResources> resources;
  if (mlir::failed(nvidia::lowerToNVVM(module, target, resources)))
    return diagnosed();
  if (stage == Stage::LLVM) {
    raw_string_ostream os(out.text);
    module.print(os);
    return Error::success();
  }
  auto ptx = nvidia::serialize(module, target, /*ptx=*/true);
  if (mlir::failed(ptx))
    return diagnosed();
  if (stage == Stage::Asm) {
    out.text = *ptx;
    return Error::success();
  }
  auto cubin = nvidia::serialize(module, target, /*ptx=*/false);
  if (mlir::failed(cubin))
    return diagnosed();
  applyResources(out.kernels, resources, chip);
  out.ptx = *ptx;
  out.binary = *cubin;
  out.binaryExtension = ".cubin";
  return reportPTXResources(module, locations, out.kernels, out.ptx, target, options);
}

/// What the AMD and Intel pipelines share once the module is lowered: the LLVM dialect
/// printed (Stage::LLVM), the assembly (Stage::Asm) into `out.text`, or the binary.
/// Returns the binary, or an empty string when `out.text` holds the stage asked for.
Expected<std::string> printOrSerialize(mlir::ModuleOp module, Stage stage, Compilation &out,
                                       function_ref<mlir::FailureOr<std::string>(bool)> serialize) {
  if (stage == Stage::LLVM) {
    raw_string_ostream os(out.text);
    module.print(os);
    return std::string();
  }
  mlir::FailureOr<std::string> binary = serialize(/*assembly=*/stage == Stage::Asm);
  if (mlir::failed(binary))
    return diagnosed();
  if (stage == Stage::Asm) {
    out.text = *binary;
    return std::string();
  }
  return *binary;
}

/// gfx90a / gfx942 / gfx1100: ROCDL (Stage::LLVM), GCN assembly (Stage::Asm) or the HSA
/// code object. LDS use and spills are read back from the code object.
Error compileForAMD(mlir::ModuleOp module, const target::GPUTarget &chip,
                    const CompileOptions &options, Stage stage, Compilation &out) {
  if (Error e = checkThreads(options.config.threads, chip))
    return e;
  std::map<std::string, mlir::Location> locations = kernelLocations(module);
  amd::TargetOptions target;
  target.chip = chip.chip;
  target.threads = options.config.threads;
  std::vector<target::KernelResources> resources;
  if (mlir::failed(amd::lowerToROCDL(module, target, resources)))
    return diagnosed();
  Expected<std::string> binary = printOrSerialize(
      module, stage, out, [&](bool assembly) { return amd::serialize(module, target, assembly); });
  if (!binary || binary->empty())
    return binary.takeError();
  if (mlir::failed(amd::readCodeObjectResources(module, *binary, resources)))
    return diagnosed();
  bool failed = false;
  for (const auto &r : resources) {
    mlir::Location loc = locationOf(module, locations, r.name);
    // The code object's LDS includes what LLVM added (promoted allocas, spills to LDS).
    if (r.sharedBytes > chip.sharedMemoryBytes) {
      mlir::emitError(loc) << "LDS: kernel '" << r.name << "' needs " << r.sharedBytes
                           << " bytes; " << chip.chip << " has " << chip.sharedMemoryBytes
                           << " bytes per workgroup";
      failed = true;
    }
    if (r.spilledRegisters > 0)
      // gfx90a and gfx942 spill VGPRs into AGPRs first; only scratch is memory traffic.
      reportSpill(loc,
                  r.scratchBytes > 0
                      ? formatv("kernel '{0}' spills {1} registers to scratch memory ({2} "
                                "bytes per thread)", r.name, r.spilledRegisters,
                                r.scratchBytes).str()
                      : formatv("kernel '{0}' spills {1} registers into accumulation "
                                "registers (AGPRs), not memory", r.name,
                                r.spilledRegisters).str(),
                  options, failed);
  }
  if (failed)
    return diagnosed();
  applyResources(out.kernels, resources, chip);
  for (auto &k : out.kernels)
    for (const auto &r : resources)
      if (r.name == k.name)
        k.spillBytes = r.spilledRegisters > 0 ? r.scratchBytes : 0;
  out.binary = *binary;
  out.binaryExtension = ".hsaco";
  return Error::success();
}

/// pvc / bmg: the LLVM dialect (Stage::LLVM), SPIR-V assembly (Stage::Asm) or the
/// SPIR-V module. Registers are allocated by the driver's compiler at load time.
Error compileForIntel(mlir::ModuleOp module, const target::GPUTarget &chip,
                      const CompileOptions &options, Stage stage, Compilation &out) {
  if (Error e = checkThreads(options.config.threads, chip))
    return e;
  intel::TargetOptions target;
  target.chip = chip.chip;
  target.threads = options.config.threads;
  std::vector<target::KernelResources> resources;
  if (mlir::failed(intel::lowerToXeVM(module, target, resources)))
    return diagnosed();
  Expected<std::string> binary = printOrSerialize(
      module, stage, out, [&](bool assembly) { return intel::serialize(module, target, assembly); });
  if (!binary || binary->empty())
    return binary.takeError();
  applyResources(out.kernels, resources, chip);
  out.binary = *binary;
  out.binaryExtension = ".spv";
  return Error::success();
}

/// The host: LLVM IR (Stage::LLVM), x86 assembly (Stage::Asm) or an object file.
Error compileForHost(mlir::ModuleOp module, const CompileOptions &options, Stage stage,
                     Compilation &out) {
  if (mlir::failed(lowerForHost(module)))
    return diagnosed();
  LLVMContext llvmContext;
  auto llvmModule = host::translateToLLVMIR(module, llvmContext, options.optLevel, options.cpu);
  if (!llvmModule)
    return llvmModule.takeError();
  if (stage == Stage::LLVM) {
    raw_string_ostream os(out.text);
    (*llvmModule)->print(os, nullptr);
    return Error::success();
  }
  SmallString<0> code;
  raw_svector_ostream os(code); // object emission needs a seekable stream
  if (Error err = host::emitHostCode(**llvmModule, os, /*assembly=*/stage == Stage::Asm,
                                     options.cpu))
    return err;
  (stage == Stage::Binary ? out.binary : out.text) = code.str().str();
  out.binaryExtension = ".o";
  out.cpu = host::resolveHostCPU(options.cpu);
  return Error::success();
}

} // namespace

Expected<Compilation> compile(mlir::ModuleOp module, const CompileOptions &options,
                              Stage stage) {
  const TargetInfo *target = lookupTarget(options.target);
  if (!target)
    return message("unknown target '" + options.target + "' (expected " + targetList() + ")");
  if (!target->implemented)
    return message("target '" + options.target + "' (" + target->vendor +
                   ") is not implemented in this build yet; available: " + targetList());
  if (options.optLevel > 3)
    return message("optimisation level must be 0-3");
  if (Error e = options.config.verify())
    return std::move(e);
  // Bindings are checked before specialisation so their errors name the binding.
  if (Error e = checkConstants(module, options.config))
    return std::move(e);
  applyOverrides(module, options.config);
  if (mlir::failed(mlir::verify(module)) ||
      mlir::failed(specialize(module, options.config.constantBindings(),
                              options.config.streamBlock.value_or(0), options.target)))
    return diagnosed();
  Compilation out;
  if (stage == Stage::Tile) {
    raw_string_ostream os(out.text);
    module.print(os);
    return out;
  }
  out.kernels = describeKernels(module);
  if (out.kernels.empty())
    return message("the module defines no kiln.func kernel");
  Error e = Error::success();
  const target::GPUTarget *chip = target::lookupGPUTarget(options.target);
  if (!chip)
    e = compileForHost(module, options, stage, out);
  else if (chip->vendor == target::Vendor::NVIDIA)
    e = compileForNVIDIA(module, options, stage, out);
  else if (chip->vendor == target::Vendor::AMD)
    e = compileForAMD(module, *chip, options, stage, out);
  else
    e = compileForIntel(module, *chip, options, stage, out);
  if (e)
    return std::move(e);
  return out;
}

} // namespace kiln::driver
