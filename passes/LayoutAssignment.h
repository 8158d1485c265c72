//===- LayoutAssignment.h - which layout each tile of a kernel lives in ---===//
//
// The GPU lowering holds a tile in one of three places:
//  - Blocked: registers, row-major runs per thread (coalesced global access);
//  - MmaAccumulator: registers in the C fragment of the target's MMA atom, over a grid
//    of warps, so a dot's accumulator never leaves registers across a K loop;
//  - Shared: a swizzled shared-memory tile (a load whose only users are dot operands:
//    copied global -> shared directly, asynchronously where the target can);
//  - BlockIO: a dot-only load nothing materialises; each dot reads its operand fragments
//    straight from global memory (Intel 2D block reads);
//  - MmaRows: a row vector of an NVIDIA MMA accumulator (its row reduction, [M] or
//    [M, 1]): each thread holds the rows it owns in the parent layout (whose warp grid
//    the warpsM/warpsN/warpgroup fields keep), so reducing a row and broadcasting it back
//    (softmax's max and sum) stay in registers.
// Anchors: dot results (MMA) and dot-only loads (Shared or BlockIO). Elementwise ops and loop-carried
// values propagate the anchor's layout; everything else works on Blocked tiles. Where a
// consumer needs another layout the lowering converts (through shared memory).
// Splat tiles have no layout: every thread holds the same scalar.
//
#ifndef KILN_PASSES_LAYOUTASSIGNMENT_H
#define KILN_PASSES_LAYOUTASSIGNMENT_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

#include <optional>

namespace mlir::kiln {
class FuncOp;
class DotOp;
} // namespace mlir::kiln

namespace mlir::kiln::lowering {

enum class TileLayoutKind : uint8_t { Blocked, MmaAccumulator, Shared, BlockIO, MmaRows };

struct TileLayout {
  TileLayoutKind kind = TileLayoutKind::Blocked;
  /// MmaAccumulator: warps along rows and columns; each warp owns a
  /// (M / warpsM) x (N / warpsN) block of m16n8 atoms.
  int64_t warpsM = 1, warpsN = 1;
  /// MmaAccumulator: computed by warpgroup MMAs (wgmma m64nNk16: each warp 16 rows, all
  /// N columns, the same fragments). Shared: stored for wgmma (64-column blocks, 128-byte
  /// swizzle) rather than for ldmatrix.
  bool warpgroup = false;
  /// MmaAccumulator: the atom whose C fragments tile each warp's block: 0 NVIDIA
  /// mma.sync m16n8k16, else a MatrixAtom.
  int64_t atom = 0;

  static TileLayout blocked() { return {}; }
  bool operator==(const TileLayout &o) const {
    return kind == o.kind && warpsM == o.warpsM && warpsN == o.warpsN &&
           warpgroup == o.warpgroup && atom == o.atom;
  }
  bool operator!=(const TileLayout &o) const { return !(*this == o); }
  /// A small integer naming the layout (for caches).
  int64_t key() const {
    return (atom << 44) | (int64_t(warpgroup) << 40) | (int64_t(kind) << 32) | (warpsM << 16) |
           warpsN;
  }
};

/// Matrix atoms other than NVIDIA's (TileLayout::atom): their fragments come from the
/// layout library's TV tables.
enum MatrixAtom : int64_t {
  kAmdMfma32x32x8 = 1,   ///< CDNA v_mfma_f32_32x32x8 (wave64)
  kAmdWmma16x16x16 = 2,  ///< RDNA3 v_wmma_f32_16x16x16 (wave32)
  kIntelDpas8x16x16 = 3, ///< Xe DPAS 8x16x16 (sub-group 16)
};

/// The thread-block shape and MMA atom the lowering distributes over.
struct DistributionTarget {
  int64_t threads = 128, warpSize = 32;
  bool nvidiaMma = false;   ///< mma.sync m16n8k16, ldmatrix and cp.async (sm_80 and up)
  bool nvidiaWgmma = false; ///< wgmma.mma_async from shared memory (sm_90a)
  int64_t atom = 0;         ///< a MatrixAtom (AMD, Intel); 0 = none
  int64_t cluster = 1;      ///< thread blocks one program spans (NVIDIA clusters)
};

/// M, N and K of a MatrixAtom.
struct AtomShape {
  int64_t m, n, k;
};
AtomShape matrixAtomShape(int64_t atom);

/// Whether a load's padding attribute is +0 (what 2D block reads and TMA fill outside the
/// tensor).
bool isZeroPadding(TypedAttr padding);

/// The MMA layout for an accumulator of type `c` (rank 2, f32) with operands of `in`
/// elements: warpgroup MMAs where the target has them and the tile is one m64 row block
/// per warpgroup with 64-multiple N <= 256 and K; else a warp grid of m16n16 blocks;
/// none when neither fits (then the dot falls back to CUDA-core FMAs).
std::optional<TileLayout> mmaAccumulatorLayout(const DistributionTarget &target,
                                               RankedTensorType c, Type in, int64_t kDim);

/// Layouts for the tiles of one kernel.
class LayoutAssignment {
public:
  LayoutAssignment(FuncOp kernel, const DistributionTarget &target);

  /// The layout of tile `v` (Blocked unless an anchor says otherwise).
  TileLayout layoutOf(Value v) const;
  /// Whether `v` holds one value in every element (splat, or elementwise on splats).
  bool isSplat(Value v) const { return splats.contains(v); }
  /// The MMA layout chosen for a dot, if it runs on MMA atoms.
  std::optional<TileLayout> dotLayout(DotOp dot) const;

private:
  void visitBlock(Block &block);
  void visitOp(Operation *op);
  std::optional<TileLayout> known(Value v) const;

  DistributionTarget target;
  DenseMap<Value, TileLayout> layouts;
  DenseSet<Value> splats;
  /// Loop-carried values whose layout is still open (initialised by a splat).
  DenseSet<Value> open;
};

} // namespace mlir::kiln::lowering

#endif
