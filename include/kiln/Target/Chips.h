//===- Chips.h - the one table of GPU chip facts ---------------------------===//
//
// What each GPU chip offers a kernel (threads per warp/wavefront/sub-group, workgroup
// memory, banks, threads per workgroup, its MMA, clusters) and, for the chips the cost
// models are calibrated on, what they need besides (shared memory and registers per
// multiprocessor, L2 bandwidth, the MMA rate). The lowering, the target pipelines and the
// schedule models read it; a fact is written once. Plain C++: no MLIR, no LLVM.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TARGET_CHIPS_H
#define KILN_TARGET_CHIPS_H

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace kiln::target {

enum class Vendor { NVIDIA, AMD, Intel };
const char *vendorName(Vendor vendor);

/// What the schedule models need of a chip beyond what a kernel may use.
struct ScheduleFacts {
  int64_t sharedPerSM;      ///< bytes of shared memory per multiprocessor
  int64_t registersPerSM;   ///< 32-bit registers
  int64_t threadsPerSM;
  double l2BytesPerSecond;
  double mmaFlopsPerSecond; ///< dense bf16 rate the MMAs reach
  int64_t rowsToSaturate;   ///< query rows in flight per SM that keep the MMAs busy
  int64_t registerBase;     ///< registers a thread needs besides its S, P and O tiles
  bool producerWarpgroup;   ///< TMA + setmaxnreg: copies can go to a warpgroup of their own
  bool warpgroupMma;        ///< wgmma: P·V reads P from registers (else P is staged in
                            ///< shared memory for mma.sync's operand layout)
};

/// What one chip offers a kernel.
struct GPUTarget {
  const char *chip;          ///< LLVM's name: sm_90a, gfx942, pvc, ...
  Vendor vendor;
  const char *family;        ///< for people: "Hopper (H100)", "CDNA3 (MI300)", ...
  int subgroupSize;          ///< threads per warp / wavefront / sub-group
  int64_t sharedMemoryBytes; ///< workgroup memory (shared/LDS/SLM) one kernel may use
  int sharedMemoryBanks;     ///< 4-byte banks
  int maxThreads;            ///< threads per workgroup
  const char *mma;           ///< kiln-lower-to-gpu's `mma` for kiln.dot; "" = FMA loop
  int maxCluster = 1;        ///< thread blocks one program may span (a cluster); 1 = none
  /// Set for the chips the schedule models are calibrated on.
  std::optional<ScheduleFacts> schedule = std::nullopt;
};

/// Every GPU chip, NVIDIA first.
const std::vector<GPUTarget> &gpuTargets();
/// The chip named `chip`, or null.
const GPUTarget *lookupGPUTarget(std::string_view chip);

} // namespace kiln::target

#endif // KILN_TARGET_CHIPS_H
