//===- Passes.h - Kiln's passes: declarations and registration -------------===//
#ifndef KILN_PASSES_PASSES_H
#define KILN_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class ModuleOp;
namespace arith { class ArithDialect; }
namespace func { class FuncDialect; }
namespace gpu { class GPUDialect; }
namespace memref { class MemRefDialect; }
namespace linalg { class LinalgDialect; }
namespace LLVM { class LLVMDialect; }
namespace NVVM { class NVVMDialect; }
namespace ROCDL { class ROCDLDialect; }
namespace xevm { class XeVMDialect; }
namespace math { class MathDialect; }
namespace scf { class SCFDialect; }
namespace tensor { class TensorDialect; }
} // namespace mlir

namespace mlir::gpu {
class GPUFuncOp;
}

namespace mlir::kiln {

/// The shared memory a kernel kiln-lower-to-gpu made uses (its kiln.shared_memory_bytes).
int64_t sharedMemoryBytes(gpu::GPUFuncOp func);
/// Bytes of global scratch each program of such a kernel needs (TMA tensor maps; its
/// kiln.global_scratch_bytes); when non-zero the kernel takes one more, trailing pointer
/// parameter to programs x that many bytes.
int64_t globalScratchBytes(gpu::GPUFuncOp func);
/// Thread blocks each program of such a kernel spans (a cluster; 1 without one).
int64_t clusterBlocks(gpu::GPUFuncOp func);

/// Fails with a diagnostic at the first op producing a streamed ('?') tile: code
/// generation needs kiln-stream-fusion to have tiled the streamed axis first.
LogicalResult checkStaticTiles(ModuleOp module);

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace mlir::kiln

#endif
