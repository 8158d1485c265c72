//===- Atoms.cpp - Thread-value layouts of MMA and copy atoms -------------===//
//
// One table per target. In each TV layout the thread mode lists lane bits
// low to high (for NVIDIA: threadID_in_group = lane%4, then groupID =
// lane/4, then the warp of a warpgroup).
//
//===----------------------------------------------------------------------===//

#include "kiln/Layout/Atoms.h"

namespace kiln::layout {

static Layout tv(const char *text) { return parseLayout(text).value(); }

//===----------------------------------------------------------------------===//
// NVIDIA
//===----------------------------------------------------------------------===//

std::vector<MmaAtom> nvidiaMmaAtoms() {
  std::vector<MmaAtom> atoms;
  // PTX ISA, section 9.7.14.5.8 "Matrix Fragments for mma.m16n8k16 with
  // floating point type": groupID = lane>>2, threadID_in_group = lane%4;
  // A: row = groupID (+8 for a2,a3,a6,a7), col = 2*tig + (i&1) (+8 for i>=4);
  // B: row = 2*tig + (i&1) (+8 for i>=2), col = groupID;
  // C/D: row = groupID (+8 for c2,c3), col = 2*tig + (i&1).
  MmaAtom f16;
  f16.name = "mma.sync.aligned.m16n8k16.f32.f16.f16.f32";
  f16.reference = "PTX ISA 9.7.14.5.8, mma.m16n8k16 floating point fragments";
  f16.m = 16, f16.n = 8, f16.k = 16, f16.threads = 32, f16.elementBits = 16;
  f16.a = tv("((4,8),(2,2,2)):((32,1),(16,8,128))");
  f16.b = tv("((4,8),(2,2)):((16,1),(8,64))");
  f16.c = tv("((4,8),(2,2)):((32,1),(16,8))");
  atoms.push_back(f16);
  MmaAtom bf16 = f16;
  bf16.name = "mma.sync.aligned.m16n8k16.f32.bf16.bf16.f32";
  atoms.push_back(bf16);
  // PTX ISA, section 9.7.14.5.9 "Matrix Fragments for mma.m16n8k16 with
  // integer type" (.s8/.u8): A: row = groupID (+8 for a4..a7), col =
  // 4*tig + (i&3); B: row = 4*tig + i, col = groupID; C as above (.s32).
  MmaAtom s8;
  s8.name = "mma.sync.aligned.m16n8k16.s32.s8.s8.s32";
  s8.reference = "PTX ISA 9.7.14.5.9, mma.m16n8k16 integer fragments";
  s8.m = 16, s8.n = 8, s8.k = 16, s8.threads = 32, s8.elementBits = 8;
  s8.a = tv("((4,8),(4,2)):((64,1),(16,8))");
  s8.b = tv("((4,8),4):((32,1),8)");
  s8.c = f16.c;
  atoms.push_back(s8);
  return atoms;
}

Result<MmaAtom> nvidiaWgmmaAtom(int64_t n) {
  if (n < 8 || n > 256 || n % 8 != 0)
    return Result<MmaAtom>::failure("wgmma m64nNk16: N must be a multiple of 8 in 8..256, got " +
                                    std::to_string(n));
  // PTX ISA, section 9.7.15.5.1 "Register Fragments and Shared Memory Matrix
  // Layouts", m64nNk16: warp w of the warpgroup owns rows 16w..16w+15; within
  // it, the mma.m16n8k16 pattern: D row = 16w + groupID (+8 for d2,d3 of each
  // 4), col = 8*(i/4) + 2*tig + (i&1); A (registers) row as D, col = 2*tig +
  // (i&1) (+8 for i>=4).
  MmaAtom w;
  w.name = "wgmma.mma_async.sync.aligned.m64n" + std::to_string(n) + "k16.f32.f16.f16";
  w.reference = "PTX ISA 9.7.15.5.1, wgmma .m64nNk16 register fragments";
  w.m = 64, w.n = n, w.k = 16, w.threads = 128, w.elementBits = 16;
  w.a = tv("((4,8,4),(2,2,2)):((128,1,16),(64,8,512))");
  // B is read from shared memory: value j of "thread" 0 is element j (n + N*k).
  w.b = makeLayout({Layout(1, 0), Layout(n * 16, 1)});
  w.c = makeLayout({tv("(4,8,4):(128,1,16)"),
                    parseLayout("(2,2," + std::to_string(n / 8) + "):(64,8,512)").value()});
  w.bFromSharedMemory = true;
  return w;
}

CopyAtom nvidiaLdmatrixX4() {
  // PTX ISA, section 9.7.14.5.15 "ldmatrix": threads 8j..8j+7 give the row
  // addresses of matrix j; for .m8n8.b16, lane t receives in register j the
  // two elements at row t/4, columns 2*(t%4) and 2*(t%4)+1 of matrix j.
  CopyAtom c;
  c.name = "ldmatrix.sync.aligned.m8n8.x4.shared.b16";
  c.reference = "PTX ISA 9.7.14.5.15, ldmatrix";
  c.rows = 16, c.cols = 16, c.threads = 32, c.elementBits = 16, c.valuesPerAccess = 8;
  // Thread t reads row (t%8) + 8*((t/8)%2), columns 8*(t/16) .. +7.
  c.source = tv("((8,2,2),8):((1,8,128),16)");
  c.destination = tv("((4,8),(2,(2,2))):((32,1),(16,(8,128)))");
  return c;
}

//===----------------------------------------------------------------------===//
// AMD
//===----------------------------------------------------------------------===//

std::vector<MmaAtom> amdMmaAtoms() {
  std::vector<MmaAtom> atoms;
  // AMD Instinct MI300 (CDNA3) ISA, section 7.1 "Matrix fused-multiply-add
  // (MFMA)" and the AMD Matrix Instruction Calculator for
  // v_mfma_f32_32x32x8_f16: A[i][k]: lane = i + 32*(k/4), item = k%4;
  // B[k][j]: lane = j + 32*(k/4), item = k%4; D[i][j]: lane = j + 32*((i/4)%2),
  // item = i%4 + 4*(i/8).
  MmaAtom m32;
  m32.name = "v_mfma_f32_32x32x8_f16";
  m32.reference = "AMD CDNA3 ISA 7.1 / Matrix Instruction Calculator, 32x32x8 f16";
  m32.m = 32, m32.n = 32, m32.k = 8, m32.threads = 64, m32.elementBits = 16;
  m32.a = tv("((32,2),4):((1,128),32)");
  m32.b = tv("((32,2),4):((1,128),32)");
  m32.c = tv("((32,2),(4,4)):((32,4),(1,8))");
  atoms.push_back(m32);
  MmaAtom m32b = m32;
  m32b.name = "v_mfma_f32_32x32x8_bf16";
  atoms.push_back(m32b);
  // v_mfma_f32_16x16x16_f16: A[i][k]: lane = i + 16*(k/4), item = k%4;
  // B likewise with j; D[i][j]: lane = j + 16*(i/4), item = i%4.
  MmaAtom m16;
  m16.name = "v_mfma_f32_16x16x16_f16";
  m16.reference = "AMD CDNA3 ISA 7.1 / Matrix Instruction Calculator, 16x16x16 f16";
  m16.m = 16, m16.n = 16, m16.k = 16, m16.threads = 64, m16.elementBits = 16;
  m16.a = tv("((16,4),4):((1,64),16)");
  m16.b = tv("((16,4),4):((1,64),16)");
  m16.c = tv("((16,4),4):((16,4),1)");
  atoms.push_back(m16);
  MmaAtom m16b = m16;
  m16b.name = "v_mfma_f32_16x16x16_bf16";
  atoms.push_back(m16b);
  // AMD RDNA3 ISA, section 7.9 "Wave Matrix Multiply Accumulate (WMMA)",
  // wave32: lanes 0-15 and 16-31 both hold row i = lane%16 of A (all 16 k)
  // and column j = lane%16 of B; D (f32): lane = j + 16*(i%2), item = i/2.
  MmaAtom wmma;
  wmma.name = "v_wmma_f32_16x16x16_f16";
  wmma.reference = "AMD RDNA3 ISA 7.9, WMMA 16x16x16 (wave32)";
  wmma.m = 16, wmma.n = 16, wmma.k = 16, wmma.threads = 32, wmma.elementBits = 16;
  wmma.a = tv("((16,2),16):((1,0),16)");
  wmma.b = tv("((16,2),16):((1,0),16)");
  wmma.c = tv("((16,2),8):((16,1),2)");
  atoms.push_back(wmma);
  return atoms;
}

//===----------------------------------------------------------------------===//
// Intel
//===----------------------------------------------------------------------===//

std::vector<MmaAtom> intelMmaAtoms() {
  // Khronos SPV_INTEL_subgroup_matrix_multiply_accumulate and the OpenCL
  // cl_intel_subgroup_matrix_multiply_accumulate extension, sub-group size
  // 16, M=8, K=16 (16-bit): work-item w holds A[r][w] in component r,
  // B[k][w] in component k (packed in pairs per dword), C[r][w] in r.
  MmaAtom d;
  d.name = "dpas.8x16x16.f32.f16.f16";
  d.reference = "SPV_INTEL_subgroup_matrix_multiply_accumulate, M=8 N=16 K=16, sub-group 16";
  d.m = 8, d.n = 16, d.k = 16, d.threads = 16, d.elementBits = 16;
  d.a = tv("(16,8):(8,1)");
  d.b = tv("(16,16):(1,16)");
  d.c = tv("(16,8):(8,1)");
  MmaAtom b = d;
  b.name = "dpas.8x16x16.f32.bf16.bf16";
  return {d, b};
}

std::vector<MmaAtom> allMmaAtoms() {
  std::vector<MmaAtom> all = nvidiaMmaAtoms();
  for (int64_t n : {8, 64, 256})
    all.push_back(nvidiaWgmmaAtom(n).value());
  for (auto &a : amdMmaAtoms())
    all.push_back(a);
  for (auto &a : intelMmaAtoms())
    all.push_back(a);
  return all;
}

} // namespace kiln::layout
