//===- GPU.h - the GPU chips Kiln compiles for, and steps every GPU pipeline shares -===//
//
// The chips and their facts are the one table of kiln/Target/Chips.h. The helpers below
// run the target-neutral part of a GPU pipeline: distribution over threads
// (kiln-lower-to-gpu) and serialisation of the gpu.module (gpu-module-to-binary).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TARGET_GPU_H
#define KILN_TARGET_GPU_H

#include "kiln/Target/Chips.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::target {

/// Launch and resource facts of one compiled kernel; -1 where the target does not say.
struct KernelResources {
  std::string name;
  int64_t threads = 0;
  int64_t sharedBytes = 0; ///< workgroup memory: declared (AMD, Intel) or passed at launch (NVIDIA)
  int registers = -1;            ///< vector registers per thread (NVIDIA: all registers)
  int scalarRegisters = -1;      ///< AMD SGPRs
  int spilledRegisters = -1;     ///< registers spilled to scratch (AMD)
  int scratchBytes = -1;         ///< private (scratch) memory per thread (AMD)
  int64_t globalScratchBytes = 0; ///< per program, passed as a trailing pointer (NVIDIA TMA)
  int64_t cluster = 1;            ///< thread blocks per program (a cluster along x)
};

/// Code-generation choices a user may turn off (for A/B measurements and tuning).
struct LoweringKnobs {
  bool tma = true;      ///< sm_90a: copy warpgroup-MMA operand tiles by TMA (else cp.async)
  bool pingPong = false; ///< sm_90a producer kernels: consumer warpgroups take MMA turns
  bool intraOverlap = true; ///< sm_90a producer kernels: a loop's last MMA
                            ///< group overlaps the next iteration's softmax
};

/// Appends kiln-lower-to-gpu configured for `target`: its warp size, shared-memory limit
/// and MMA atom, `threads` per program unless a kernel says otherwise.
void addDistribution(mlir::OpPassManager &pm, const GPUTarget &target, int64_t threads,
                     const LoweringKnobs &knobs = {});

/// Runs addDistribution's pass on `module` and records each kernel's threads and
/// workgroup bytes in `resources`. Diagnostics go to the context.
mlir::LogicalResult distributeOverThreads(mlir::ModuleOp module, const GPUTarget &target,
                                          int64_t threads,
                                          std::vector<KernelResources> &resources,
                                          const LoweringKnobs &knobs = {});

/// Runs gpu-module-to-binary on a copy of `module` (whose gpu.module has its target
/// attached) and returns the one object: `format` is "isa" (assembly text) or "bin".
mlir::FailureOr<std::string> serializeGPUModule(mlir::ModuleOp module, llvm::StringRef format,
                                                llvm::StringRef toolkit);

/// A pass that makes the pointers in gpu.modules point into global memory (LLVM address
/// space 1): kiln-lower-to-gpu emits generic pointers, which SPIR-V kernels cannot take as
/// arguments and which AMD reaches only through flat instructions unless LLVM infers more.
/// Fails on private arrays (llvm.alloca), which would wrongly become global too.
std::unique_ptr<mlir::Pass> createGlobalPointersPass();

/// Registers the GPU targets' own passes with kiln-opt: kiln-global-pointers here,
/// kiln-prepare-for-spirv from the Intel target.
void registerGPUTargetPasses();

} // namespace kiln::target

#endif // KILN_TARGET_GPU_H
