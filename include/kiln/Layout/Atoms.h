//===- Atoms.h - Thread-value layouts of MMA and copy atoms, per target ---===//
//
// Each atom is a set of layout constants in CuTe's thread-value (TV) form: a
// rank-2 layout ((threads),(values)) -> column-major index into the operand
// tile: m + M*k for A (MxK), n + N*k for B (NxK), m + M*n for C/D (MxN).
// Every table cites the vendor document its fragments come from; the unit
// tests rebuild each fragment from that document's formula and simulate a
// matrix multiply through the fragments.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LAYOUT_ATOMS_H
#define KILN_LAYOUT_ATOMS_H

#include "kiln/Layout/Layout.h"

#include <string>
#include <vector>

namespace kiln::layout {

/// An MMA instruction as three TV layouts.
struct MmaAtom {
  std::string name;      ///< e.g. "mma.sync.m16n8k16.f16"
  std::string reference; ///< the vendor document section for the fragments
  int64_t m = 0, n = 0, k = 0;
  int64_t threads = 0;   ///< threads that cooperate (warp, wave, sub-group)
  int elementBits = 16;  ///< A/B element width
  Layout a, b, c;        ///< TV layouts of A (MxK), B (NxK), C/D (MxN)
  bool bFromSharedMemory = false; ///< true for wgmma: b is the NxK smem order, not a fragment
};

/// A copy instruction's TV layouts: which thread supplies which row address
/// (source) and which tile element each (thread, value) receives.
struct CopyAtom {
  std::string name;
  std::string reference;
  int64_t rows = 0, cols = 0; ///< tile, column-major index r + rows*c
  int64_t threads = 0;
  int elementBits = 16;
  int64_t valuesPerAccess = 0; ///< contiguous elements per thread per access
  Layout source;      ///< (thread, value) -> tile index each thread reads
  Layout destination; ///< (thread, value) -> tile index each thread receives
};

/// NVIDIA (PTX ISA 8.x, "Warp-level matrix fragments" and "Asynchronous
/// warpgroup matrix multiply"): mma.sync m16n8k16 f16/bf16 and s8/u8.
std::vector<MmaAtom> nvidiaMmaAtoms();
/// wgmma.mma_async m64nNk16 (f16/bf16), N a multiple of 8 in 8..256: A from
/// registers, D accumulator; B comes from shared memory (b is its NxK
/// element order, not a register fragment). Fails for other N.
Result<MmaAtom> nvidiaWgmmaAtom(int64_t n);
/// ldmatrix.sync.aligned.m8n8.x4.b16: four 8x8 b16 matrices forming a 16x16
/// tile (matrix j at rows 8*(j%2), cols 8*(j/2)).
CopyAtom nvidiaLdmatrixX4();

/// AMD CDNA3 MFMA (wave64): v_mfma_f32_32x32x8_f16, v_mfma_f32_16x16x16_f16
/// (bf16 variants share the layouts); RDNA3 WMMA (wave32):
/// v_wmma_f32_16x16x16_f16.
std::vector<MmaAtom> amdMmaAtoms();

/// Intel Xe (PVC) DPAS 8x16x16 f16/bf16 with sub-group size 16.
std::vector<MmaAtom> intelMmaAtoms();

/// Every atom above (wgmma with N = 8, 64, 256).
std::vector<MmaAtom> allMmaAtoms();

} // namespace kiln::layout

#endif // KILN_LAYOUT_ATOMS_H
