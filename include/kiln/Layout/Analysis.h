//===- Analysis.h - Bank conflicts, swizzle search, conversion plans ------===//
//
// Questions the compiler asks of layouts: how many shared-memory wavefronts
// does this access take, which Swizzle<B,M,S> removes the conflicts of the
// layouts that write and read a buffer, and what does it cost to move a tile
// from one thread-value layout to another.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LAYOUT_ANALYSIS_H
#define KILN_LAYOUT_ANALYSIS_H

#include "kiln/Layout/Swizzle.h"

#include <string>
#include <vector>

namespace kiln::layout {

/// A warp's access to a shared-memory tile: thread t touches, in access a,
/// the `valuesPerAccess` elements threadValue(t, a*valuesPerAccess + j),
/// which must be contiguous in memory (one vector instruction).
struct SharedMemoryAccess {
  Layout threadValue;          ///< (thread, value) -> logical tile index
  int64_t valuesPerAccess = 1; ///< elements per vector access
  int elementBits = 16;
};

/// Shared memory as 32 banks of 4 bytes. A request of 16-byte accesses is
/// served 8 threads per phase, 8-byte accesses 16 per phase, narrower ones
/// 32 per phase; a phase takes as many wavefronts as the most distinct
/// 4-byte words any one bank must deliver (same word = broadcast).
struct BankConflictReport {
  int64_t requests = 0;   ///< warp-wide access instructions
  int64_t wavefronts = 0; ///< wavefronts for all of them
  int64_t ideal = 0;      ///< wavefronts with no conflict (one per phase)
  /// wavefronts / ideal: 1 when conflict-free, 8 for an 8-way conflict.
  double conflictFactor() const { return ideal ? double(wavefronts) / double(ideal) : 0.0; }
};

/// Counts wavefronts of `access` on the tile stored as `smem` (tile index ->
/// element offset, possibly swizzled). Fails when a vector access is not
/// contiguous in memory or its width is not 1, 2, 4, 8 or 16 bytes.
/// Example: ldmatrix.x4 on a row-major 64x64 f16 tile: 8 wavefronts per
/// phase (8-way); with Sw<3,3,3>: 1 per phase.
Result<BankConflictReport> analyzeBankConflicts(const SwizzledLayout &smem,
                                                const SharedMemoryAccess &access,
                                                int64_t threadsPerWarp = 32);

/// The result of swizzleSearch.
struct SwizzleChoice {
  Swizzle swizzle;
  int64_t wavefronts = 0; ///< writer + reader with the chosen swizzle
  int64_t unswizzled = 0; ///< writer + reader without a swizzle
};

/// Tries every Swizzle<B,M,S> (B <= 4, M <= 6, B <= S <= 7) on `smem` and
/// returns the one with the fewest wavefronts over the writer and the
/// reader; ties go to fewer bits. Swizzles that break a vector access are
/// skipped. Fails only if the unswizzled layout itself is invalid.
Result<SwizzleChoice> swizzleSearch(const Layout &smem, const SharedMemoryAccess &writer,
                                    const SharedMemoryAccess &reader);

/// How a tile moves from one thread-value layout to another.
enum class ConversionKind {
  None,                ///< every thread already holds what it needs where it needs it
  RegisterPermutation, ///< each thread holds its elements, in other registers
  WarpShuffle,         ///< elements come from other lanes of the same warp
  SharedMemory,        ///< elements cross warps: store and reload
};

struct ConversionPlan {
  ConversionKind kind = ConversionKind::None;
  /// For RegisterPermutation: sourceValue[t][v] = value index of thread t in
  /// the source layout that becomes value v of thread t.
  std::vector<std::vector<int64_t>> sourceValue;
  int64_t elementsMoved = 0; ///< (thread, value) pairs that change place
  std::string summary;       ///< one line for diagnostics
};

/// Plans the conversion from `src` to `dst`, both (thread, value) -> tile
/// index layouts of rank 2 over the same tile. Fails when dst needs an
/// element that no thread of src holds.
Result<ConversionPlan> planConversion(const Layout &src, const Layout &dst,
                                      int64_t threadsPerWarp = 32);

const char *toString(ConversionKind kind);

} // namespace kiln::layout

#endif // KILN_LAYOUT_ANALYSIS_H
