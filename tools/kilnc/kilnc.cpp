// kilnc: Kiln's ahead-of-time driver. Compiles tile kernels to a binary, a C header with
// typed launchers and a JSON description, or prints one stage of the compilation. The
// compiling is lib/Driver's (driver::compile); this is its command line and file output.
#include "kiln/Driver/Driver.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;
using namespace kiln;

static cl::OptionCategory category("kilnc options");
static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<kernels.mlir>"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string> targetName(
    "target", cl::desc("Target: host | sm_80 | sm_90a | gfx90a | gfx942 | gfx1100 | pvc | bmg"),
    cl::init("host"), cl::cat(category));
static cl::opt<std::string> outputDir("o", cl::desc("Directory for the binary, header and JSON"),
                                      cl::value_desc("dir"), cl::cat(category));
static cl::opt<std::string> emit(
    "emit",
    cl::desc("Print one stage to standard output instead of writing files: tile (the tile IR "
             "after specialisation), llvm (LLVM IR), asm (target assembly)"),
    cl::value_desc("tile|llvm|asm"), cl::cat(category));
static cl::list<std::string> defines("D", cl::desc("Bind a constexpr parameter: -D NAME=VALUE"),
                                     cl::value_desc("NAME=VALUE"), cl::Prefix,
                                     cl::cat(category));
static cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimisation level (0-3, default 3)"),
                                  cl::Prefix, cl::init(3), cl::cat(category));
static cl::opt<std::string> cpu(
    "mcpu",
    cl::desc("Host CPU to generate code for (an LLVM CPU name, or 'native'); default "
             "x86-64-v2 so objects run on any recent x86-64"),
    cl::init("x86-64-v2"), cl::cat(category));
static cl::opt<std::string> baseName(
    "name", cl::desc("Base name of the output files (default: the input's stem)"),
    cl::cat(category));

static cl::opt<bool> spillsAreErrors(
    "Werror-spills", cl::desc("Treat register spills (ptxas, AMD code objects) as errors"),
    cl::cat(category));
static cl::opt<bool> nvidiaTma(
    "nvidia-tma",
    cl::desc("sm_90a: copy warpgroup-MMA operand tiles by TMA (default on; =false: cp.async)"),
    cl::init(true), cl::cat(category));
static cl::opt<bool> nvidiaPingPong(
    "nvidia-ping-pong",
    cl::desc("sm_90a kernels with a producer warpgroup: consumer warpgroups take turns at "
             "issuing an overlapped loop's MMAs (default off: measured 3-5% slower on the "
             "H100)"),
    cl::init(false), cl::cat(category));
static cl::opt<bool> nvidiaIntraOverlap(
    "nvidia-intra-overlap",
    cl::desc("sm_90a kernels with a producer warpgroup: a loop's last MMA "
             "group (P·V) is issued in the next iteration after its first (S = Q·Kᵀ), "
             "beside the softmax (default on; =false: in order)"),
    cl::init(true), cl::cat(category));
static cl::opt<int> streamBlock(
    "stream-block",
    cl::desc("Block size along streamed ('?') axes, overriding each kernel's stream_block"),
    cl::init(0), cl::cat(category));
static cl::opt<int> numThreads(
    "gpu-threads",
    cl::desc("GPU threads per program instance for kernels without num_threads (default 128)"),
    cl::init(128), cl::cat(category));
static cl::opt<std::string> configArg(
    "config",
    cl::desc("Every tuning knob as one KernelConfig: a JSON object or a file holding one "
             "(see include/kiln/Driver/KernelConfig.h); the flags above override its fields"),
    cl::value_desc("FILE|JSON"), cl::cat(category));

static int fail(const Twine &message) {
  WithColor::error(errs(), "kilnc") << message << "\n";
  return 1;
}

/// Prints a driver failure (diagnosed ones were printed with their locations already).
static int fail(Error error) {
  std::string message = toString(std::move(error));
  return message.empty() ? 1 : fail(message);
}

static int writeFile(StringRef path, StringRef contents) {
  std::error_code ec;
  ToolOutputFile out(path, ec, sys::fs::OF_None);
  if (ec)
    return fail("cannot write " + path + ": " + ec.message());
  out.os() << contents;
  out.keep();
  return 0;
}

/// The base name of the output files: --name, else the input's stem.
static std::string outputStem() {
  return !baseName.empty() ? baseName.getValue()
         : inputFile == "-" ? std::string("kernels")
                            : sys::path::stem(inputFile).str();
}

/// The config from --config (JSON text or a file), then the flags given explicitly.
static Expected<driver::KernelConfig> configFromCommandLine() {
  driver::KernelConfig config;
  if (!configArg.empty()) {
    std::string text = configArg;
    if (!StringRef(text).ltrim().starts_with("{")) {
      auto file = MemoryBuffer::getFile(configArg);
      if (!file)
        return createStringError(file.getError(), "cannot read --config file '" + configArg +
                                                      "': " + file.getError().message());
      text = (*file)->getBuffer().str();
    }
    Expected<driver::KernelConfig> parsed = driver::KernelConfig::fromJSON(text);
    if (!parsed)
      return parsed.takeError();
    config = std::move(*parsed);
  }
  for (const std::string &d : defines)
    if (Error e = config.addConstant(d))
      return std::move(e);
  if (configArg.empty() || numThreads.getNumOccurrences())
    config.threads = numThreads;
  if (streamBlock < 0)
    return createStringError(inconvertibleErrorCode(),
                             "--stream-block must not be negative (0: each kernel's stream_block)");
  if (streamBlock != 0)
    config.streamBlock = streamBlock;
  if (configArg.empty() || nvidiaTma.getNumOccurrences())
    config.tma = nvidiaTma;
  if (configArg.empty() || nvidiaPingPong.getNumOccurrences())
    config.pingPong = nvidiaPingPong;
  if (configArg.empty() || nvidiaIntraOverlap.getNumOccurrences())
    config.intraOverlap = nvidiaIntraOverlap;
  return config;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "kilnc - Kiln's ahead-of-time kernel compiler\n\n"
      "  kilnc FILE.mlir --target=host -o DIR [-D NAME=VALUE]...\n"
      "      writes DIR/NAME.o, DIR/NAME.h (typed launchers) and DIR/NAME.json\n"
      "  kilnc FILE.mlir --target=host --emit=tile|llvm|asm\n"
      "      prints that stage to standard output\n");

  driver::Stage stage = driver::Stage::Binary;
  if (emit == "tile")
    stage = driver::Stage::Tile;
  else if (emit == "llvm")
    stage = driver::Stage::LLVM;
  else if (emit == "asm")
    stage = driver::Stage::Asm;
  else if (!emit.empty())
    return fail("unknown --emit stage '" + emit + "' (expected tile, llvm or asm)");
  if (emit.empty() && outputDir.empty())
    return fail("give an output directory with -o DIR, or a stage with --emit");
  const driver::TargetInfo *target = driver::lookupTarget(targetName);
  if (!target)
    return fail("unknown target '" + targetName + "' (expected " + driver::targetList() + ")");
  std::string stem = outputStem();
  // Output files stay inside -o DIR: a name is a file name, never a path.
  if (stem.empty() || stem == "." || stem == ".." ||
      stem.find_first_of("/\\") != std::string::npos)
    return fail("--name '" + stem + "' must be a plain file name (no directories)");

  driver::CompileOptions options;
  options.target = targetName;
  options.optLevel = optLevel;
  options.cpu = cpu;
  options.spillsAreErrors = spillsAreErrors;
  Expected<driver::KernelConfig> config = configFromCommandLine();
  if (!config)
    return fail(config.takeError());
  options.config = std::move(*config);

  auto buffer = MemoryBuffer::getFileOrSTDIN(inputFile);
  if (std::error_code ec = buffer.getError())
    return fail("cannot read '" + inputFile + "': " + ec.message());
  auto context = driver::createContext();
  SourceMgr sources;
  sources.AddNewSourceBuffer(std::move(*buffer), SMLoc());
  mlir::SourceMgrDiagnosticHandler handler(sources, context.get());
  auto module = driver::parseKernels(sources, *context);
  if (!module)
    return 1;

  Expected<driver::Compilation> compiled = driver::compile(*module, options, stage);
  if (!compiled)
    return fail(compiled.takeError());
  if (stage != driver::Stage::Binary) {
    outs() << compiled->text;
    return 0;
  }
  if (std::error_code ec = sys::fs::create_directories(outputDir))
    return fail("cannot create '" + outputDir + "': " + ec.message());
  auto path = [&](StringRef ext) {
    SmallString<256> p(outputDir);
    sys::path::append(p, stem + ext);
    return p.str().str();
  };
  std::string binary = stem + compiled->binaryExtension;
  if (!compiled->ptx.empty())
    if (int rc = writeFile(path(".ptx"), compiled->ptx))
      return rc;
  if (int rc = writeFile(path(compiled->binaryExtension), compiled->binary))
    return rc;
  if (StringRef(target->vendor) == "CPU")
    if (int rc = writeFile(path(".h"), driver::launcherHeader(
                                           compiled->kernels, sys::path::filename(inputFile),
                                           stem)))
      return rc;
  return writeFile(path(".json"), driver::metadataJSON(*compiled, options, binary));
}
