//===- Driver.h - shared compile steps of kilnc and the JIT ----------------===//
#ifndef KILN_DRIVER_DRIVER_H
#define KILN_DRIVER_DRIVER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

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

} // namespace kiln::driver

#endif
