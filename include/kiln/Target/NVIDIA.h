//===- NVIDIA.h - the NVIDIA targets (sm_80, sm_90a): PTX and cubin --------===//
#ifndef KILN_TARGET_NVIDIA_H
#define KILN_TARGET_NVIDIA_H

#include "kiln/Target/GPU.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace kiln::nvidia {

/// What the NVIDIA pipeline needs to know about the chip.
struct TargetOptions {
  std::string chip = "sm_90a"; ///< sm_80 or sm_90a
  int64_t threads = 128;       ///< threads per program instance (a thread block)
  std::string toolkit;         ///< CUDA toolkit root for ptxas; empty: $CUDA_HOME or /usr/local/cuda
  target::LoweringKnobs knobs; ///< TMA, warpgroup MMA turns (sm_90a)
};

/// Launch facts of one compiled kernel (shared by every GPU target).
using KernelResources = target::KernelResources;

/// Lowers specialised tile IR in `module` to NVVM inside a gpu.module (in place), with
/// the target attached; `resources` receives each kernel's threads and shared memory.
/// Diagnostics go to the context.
mlir::LogicalResult lowerToNVVM(mlir::ModuleOp module, const TargetOptions &options,
                                std::vector<KernelResources> &resources);

/// Serialises a module produced by lowerToNVVM: `ptx` true gives PTX text, false a cubin
/// (assembled by the toolkit's ptxas). Fails with a diagnostic.
mlir::FailureOr<std::string> serialize(mlir::ModuleOp module, const TargetOptions &options,
                                       bool ptx);

/// Registers `kiln-nvidia-pipeline` (kiln-opt): tile IR to NVVM for sm_90a.
void registerNVIDIAPipeline();

/// The CUDA toolkit root used when none is given.
std::string defaultToolkitPath();

} // namespace kiln::nvidia

#endif
