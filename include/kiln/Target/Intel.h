//===- Intel.h - the Intel targets (pvc, bmg): XeVM and SPIR-V modules -----===//
#ifndef KILN_TARGET_INTEL_H
#define KILN_TARGET_INTEL_H

#include "kiln/Target/GPU.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace kiln::intel {

/// What the Intel pipeline needs to know.
struct TargetOptions {
  std::string chip = "pvc"; ///< pvc (Xe-HPC) or bmg (Xe2)
  int64_t threads = 128;    ///< threads per program instance (a work-group)
};

/// Lowers specialised tile IR in `module` to the LLVM dialect for LLVM's SPIR-V backend
/// inside a gpu.module (in place), with the XeVM target attached: kernel pointers in
/// CrossWorkgroup memory, workgroup buffers as SLM variables, sub-group size fixed by
/// intel_reqd_sub_group_size. `resources` receives each kernel's threads and SLM bytes.
mlir::LogicalResult lowerToXeVM(mlir::ModuleOp module, const TargetOptions &options,
                                std::vector<target::KernelResources> &resources);

/// Serialises a module produced by lowerToXeVM: `assembly` true gives SPIR-V assembly
/// text, false a SPIR-V binary module (OpenCL flavour, for Level Zero).
mlir::FailureOr<std::string> serialize(mlir::ModuleOp module, const TargetOptions &options,
                                       bool assembly);

/// Registers `kiln-intel-pipeline{chip=...}` (kiln-opt): tile IR to the LLVM dialect for
/// SPIR-V, and `kiln-prepare-for-spirv{subgroup-size=16}`, its SPIR-V-specific rewrites.
void registerIntelPipeline();

} // namespace kiln::intel

#endif // KILN_TARGET_INTEL_H
