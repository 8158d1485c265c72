//===- AMD.h - the AMD targets (gfx90a, gfx942, gfx1100): ROCDL and HSA code objects -===//
#ifndef KILN_TARGET_AMD_H
#define KILN_TARGET_AMD_H

#include "kiln/Target/GPU.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace kiln::amd {

/// What the AMD pipeline needs to know.
struct TargetOptions {
  std::string chip = "gfx942"; ///< gfx90a, gfx942 (wave64) or gfx1100 (wave32)
  int64_t threads = 128;       ///< threads per program instance (a workgroup)
  /// Root holding amdgcn/bitcode (rocm-device-libs), linked where math needs it; empty:
  /// $ROCM_PATH, else Debian's /usr/lib/x86_64-linux-gnu.
  std::string deviceLibraries;
};

/// Lowers specialised tile IR in `module` to ROCDL inside a gpu.module (in place), with
/// the target attached; `resources` receives each kernel's threads and LDS bytes.
mlir::LogicalResult lowerToROCDL(mlir::ModuleOp module, const TargetOptions &options,
                                 std::vector<target::KernelResources> &resources);

/// Serialises a module produced by lowerToROCDL: `assembly` true gives the GCN assembly,
/// false an HSA code object (assembled in process, linked by ld.lld). Fails with a diagnostic.
mlir::FailureOr<std::string> serialize(mlir::ModuleOp module, const TargetOptions &options,
                                       bool assembly);

/// Fills registers, spills and scratch of `resources` from the code object's AMDHSA
/// metadata note (.vgpr_count, .sgpr_count, .vgpr_spill_count, ...); replaces the LDS
/// bytes by the code object's .group_segment_fixed_size.
mlir::LogicalResult readCodeObjectResources(mlir::ModuleOp module, llvm::StringRef codeObject,
                                            std::vector<target::KernelResources> &resources);

/// Registers `kiln-amd-pipeline{chip=...}` (kiln-opt): tile IR to ROCDL.
void registerAMDPipeline();

/// The device-library root used when none is given.
std::string defaultDeviceLibraryPath();

} // namespace kiln::amd

#endif // KILN_TARGET_AMD_H
