//===- Driver.h - compiling tile kernels for any target: kilnc and the JIT --===//
//
// compile() takes a parsed kernel module through specialisation and one target's
// pipeline to its binary (host object, cubin + PTX, HSA code object, SPIR-V) or to one
// printed stage; launcherHeader() and metadataJSON() write what a launch needs. kilnc
// is a command line over these; the JIT calls the same steps.
//
#ifndef KILN_DRIVER_DRIVER_H
#define KILN_DRIVER_DRIVER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "kiln/Driver/KernelConfig.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace llvm {
class SourceMgr;
}

namespace kiln::driver {

/// The targets `--target` accepts, and whether this build generates code for each.
struct TargetInfo {
  const char *name;
  const char *vendor;
  bool implemented;
};
const std::vector<TargetInfo> &knownTargets();
const TargetInfo *lookupTarget(llvm::StringRef name);
/// "host | sm_80 | sm_90a | ..." for messages.
std::string targetList();

/// One kernel parameter as launchers and metadata see it.
struct ParamInfo {
  std::string name;
  std::string kind;      ///< "ptr", "desc" or "scalar"
  std::string type;      ///< element or scalar type as MLIR prints it ("f32", "i4")
  unsigned rank = 0;     ///< descriptors only
  bool isConstexpr = false;
};

/// What a compiled kernel needs at launch.
struct KernelInfo {
  std::string name;
  std::string symbol;            ///< entry point in the binary
  std::vector<ParamInfo> params; ///< runtime parameters, constexprs removed
  std::vector<std::string> grid; ///< grid rule, empty when none
  unsigned threads = 1;
  unsigned sharedMemoryBytes = 0;
  int registers = -1;   ///< per thread, from the assembler (GPU targets); -1 unknown
  int spillBytes = -1;  ///< spill stores + loads in bytes (GPU targets); -1 unknown
  int scalarRegisters = -1; ///< AMD SGPRs; -1 unknown
  int scratchBytes = -1;    ///< AMD private (scratch) bytes per thread; -1 unknown
  int subgroupSize = 0;     ///< wavefront / sub-group lanes the code assumes (AMD, Intel)
  /// Global scratch per program; when non-zero the kernel takes a trailing pointer to
  /// programs x this many bytes (metadata: a last parameter of kind "scratch").
  int64_t globalScratchBytes = 0;
  /// Thread blocks per program: a cluster along x (NVIDIA). The metadata's grid counts
  /// blocks (the grid rule times this) and says `cluster`.
  int64_t cluster = 1;
};

/// A context with every dialect, extension and translation the compiler uses loaded.
std::unique_ptr<mlir::MLIRContext> createContext();

/// Parses and verifies a kernel module; diagnostics go to the context's handler.
mlir::OwningOpRef<mlir::ModuleOp> parseKernels(llvm::SourceMgr &sources,
                                               mlir::MLIRContext &context);

/// Binds constexpr parameters (NAME=VALUE), canonicalises, and tiles streamed ('?') axes
/// (kiln-stream-fusion; `streamBlock` > 0 overrides every kernel's stream_block, and
/// attention kernels without one are sized by `chip`'s schedule model when it has one).
/// Fails with diagnostics.
mlir::LogicalResult specialize(mlir::ModuleOp module, llvm::ArrayRef<std::string> constants,
                               int64_t streamBlock = 0, llvm::StringRef chip = "");

/// Reads the launch description of every kernel (call after specialize).
std::vector<KernelInfo> describeKernels(mlir::ModuleOp module);

/// Lowers specialised tile IR to the LLVM dialect for the host target.
mlir::LogicalResult lowerForHost(mlir::ModuleOp module);

/// How far compile() goes: the tile IR after specialisation, the target's LLVM IR (or
/// LLVM dialect), its assembly (x86, PTX, GCN, SPIR-V text), or the binary.
enum class Stage { Tile, LLVM, Asm, Binary };

struct CompileOptions {
  std::string target = "host"; ///< a name of knownTargets()
  KernelConfig config;
  unsigned optLevel = 3;          ///< host LLVM optimisation level
  std::string cpu = "x86-64-v2";  ///< host CPU (an LLVM name or "native")
  bool spillsAreErrors = false;   ///< GPU register spills: error instead of warning
};

/// What compile() produced.
struct Compilation {
  std::string text;             ///< the printed stage (Tile, LLVM, Asm)
  std::string binary;           ///< Stage::Binary: the object / cubin / code object / SPIR-V
  std::string binaryExtension;  ///< ".o", ".cubin", ".hsaco" or ".spv"
  std::string ptx;              ///< NVIDIA: the PTX the cubin was assembled from
  std::vector<KernelInfo> kernels;
  std::string cpu;              ///< host: the CPU the object was compiled for
};

/// Compiles a parsed module (consumed: it is specialised and lowered in place).
/// Failures are an error with the message to print, or with an empty message when
/// they were already reported as diagnostics through the context (with locations).
/// Spills are reported as warnings at the kernel (errors with spillsAreErrors).
llvm::Expected<Compilation> compile(mlir::ModuleOp module, const CompileOptions &options,
                                    Stage stage);

/// The C header with typed launchers of a host compilation (`source` names the input in
/// its comment, `stem` gives the include guard).
std::string launcherHeader(const std::vector<KernelInfo> &kernels, llvm::StringRef source,
                           llvm::StringRef stem);

/// The JSON launch description: every kernel with its parameters, grid rule, threads,
/// shared memory and resources, `binary` the file it is in, and the config it was
/// compiled with.
std::string metadataJSON(const Compilation &compilation, const CompileOptions &options,
                         llvm::StringRef binary);

} // namespace kiln::driver

#endif
