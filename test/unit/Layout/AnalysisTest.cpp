//===- AnalysisTest.cpp - Bank conflicts, swizzle search, conversions -----===//

#include "kiln/Layout/Analysis.h"
#include "kiln/Layout/Atoms.h"
#include "kiln/Layout/LinearLayout.h"
#include "kiln/Layout/SubByte.h"

#include <gtest/gtest.h>

using namespace kiln::layout;

namespace {

Layout L(const char *s) { return parseLayout(s).value(); }

/// A 64x64 f16 tile indexed column-major (m + 64n), stored row-major.
const char *kRowMajor64 = "(64,64):(64,1)";

/// ldmatrix.x4 reading the 16x16 sub-tile at (0,0) of the 64x64 tile.
SharedMemoryAccess ldmatrixOn64x64() {
  CopyAtom ld = nvidiaLdmatrixX4();
  Layout embed = L("(16,16):(1,64)"); // 16x16 index -> 64x64 index
  return {composition(embed, ld.source).value(), ld.valuesPerAccess, 16};
}

TEST(BankConflicts, LdmatrixOnRowMajorIsEightWay) {
  auto r = analyzeBankConflicts(SwizzledLayout{Swizzle{}, 0, L(kRowMajor64)}, ldmatrixOn64x64());
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->requests, 1);
  EXPECT_EQ(r->ideal, 4);       // four 8-thread phases of 16 bytes
  EXPECT_EQ(r->wavefronts, 32); // each 8-way conflicted
  EXPECT_DOUBLE_EQ(r->conflictFactor(), 8.0);
}

TEST(BankConflicts, XorSwizzleOf16ByteChunksIsConflictFree) {
  SwizzledLayout swizzled{Swizzle::tryCreate(3, 3, 3).value(), 0, L(kRowMajor64)};
  auto r = analyzeBankConflicts(swizzled, ldmatrixOn64x64());
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->wavefronts, 4);
  EXPECT_DOUBLE_EQ(r->conflictFactor(), 1.0);
}

TEST(BankConflicts, BroadcastAndNarrowAccesses) {
  // 32 threads reading the same f32 word: one wavefront (broadcast).
  auto same = analyzeBankConflicts(SwizzledLayout{Swizzle{}, 0, L("32:1")},
                                   {L("(32,1):(0,0)"), 1, 32});
  ASSERT_TRUE(same) << same.error();
  EXPECT_EQ(same->wavefronts, 1);
  // Column of a 32x32 f32 row-major tile: stride 32 words, 32-way conflict.
  auto column = analyzeBankConflicts(SwizzledLayout{Swizzle{}, 0, L("(32,32):(32,1)")},
                                     {L("(32,1):(1,0)"), 1, 32});
  ASSERT_TRUE(column);
  EXPECT_EQ(column->wavefronts, 32);
  // A swizzle that breaks a vector access is reported.
  auto broken = analyzeBankConflicts(
      SwizzledLayout{Swizzle::tryCreate(2, 0, 6).value(), 0, L(kRowMajor64)},
      ldmatrixOn64x64());
  EXPECT_FALSE(broken);
}

TEST(SwizzleSearch, FindsTheLdmatrixSwizzle) {
  // Writer: each thread stores 16 contiguous bytes of a row (cp.async-like).
  SharedMemoryAccess writer{L("((8,4),(8,16)):((512,1),(64,4))"), 8, 16};
  auto choice = swizzleSearch(L(kRowMajor64), writer, ldmatrixOn64x64());
  ASSERT_TRUE(choice) << choice.error();
  EXPECT_GT(choice->unswizzled, choice->wavefronts);
  SwizzledLayout chosen{choice->swizzle, 0, L(kRowMajor64)};
  auto reader = analyzeBankConflicts(chosen, ldmatrixOn64x64()).value();
  auto written = analyzeBankConflicts(chosen, writer).value();
  EXPECT_DOUBLE_EQ(reader.conflictFactor(), 1.0) << choice->swizzle.str();
  EXPECT_DOUBLE_EQ(written.conflictFactor(), 1.0) << choice->swizzle.str();
  EXPECT_EQ(choice->swizzle.base, 3) << "XOR must act on whole 16-byte chunks";
}

TEST(SwizzleSearch, MmaAtomFragmentsFromSharedMemory) {
  // Each target's A fragment read element by element from a row-major f16
  // tile (no vector access): the search never makes things worse, and for
  // the NVIDIA atom it removes the conflicts of the 16-column tile.
  for (const MmaAtom &atom : allMmaAtoms()) {
    SCOPED_TRACE(atom.name);
    std::string smem = "(" + std::to_string(atom.m) + "," + std::to_string(atom.k) + "):(" +
                       std::to_string(atom.k) + ",1)";
    SharedMemoryAccess reader{atom.a, 1, atom.elementBits};
    SharedMemoryAccess writer{makeLayout({Layout(atom.threads, 1),
                                          Layout(atom.m * atom.k / atom.threads, atom.threads)}),
                              1, atom.elementBits};
    auto base = analyzeBankConflicts(SwizzledLayout{Swizzle{}, 0, L(smem.c_str())}, reader);
    ASSERT_TRUE(base) << base.error();
    auto choice = swizzleSearch(L(smem.c_str()), writer, reader);
    ASSERT_TRUE(choice) << choice.error();
    EXPECT_LE(choice->wavefronts, choice->unswizzled);
  }
}

TEST(ConversionPlan, Kinds) {
  auto atoms = nvidiaMmaAtoms();
  const Layout &c = atoms[0].c;
  // Same layout: nothing to do.
  EXPECT_EQ(planConversion(c, c)->kind, ConversionKind::None);
  // Swapping the two value modes of C: same thread, other registers.
  Layout swapped = makeLayout({c[0], makeLayout({c[1][1], c[1][0]})});
  auto perm = planConversion(c, swapped);
  ASSERT_TRUE(perm) << perm.error();
  EXPECT_EQ(perm->kind, ConversionKind::RegisterPermutation);
  EXPECT_EQ(perm->sourceValue[0][1], 2);
  // mma C (16x8 f32) to a row-per-lane-group layout: other lanes, same warp.
  Layout lanesByRow = L("((16,2),4):((1,64),16)"); // lane%16 -> row, values -> columns
  auto shuffle = planConversion(c, lanesByRow);
  ASSERT_TRUE(shuffle) << shuffle.error();
  EXPECT_EQ(shuffle->kind, ConversionKind::WarpShuffle);
  // Two warps exchanging halves: shared memory.
  Layout twoWarps = L("(64,2):(1,64)"), swappedWarps = L("(64,2):(1,64)");
  Layout crossed = L("((32,2),2):((1,64),32)");
  EXPECT_EQ(planConversion(twoWarps, swappedWarps)->kind, ConversionKind::None);
  EXPECT_EQ(planConversion(twoWarps, crossed)->kind, ConversionKind::SharedMemory);
  // An element nobody holds.
  EXPECT_FALSE(planConversion(L("(32,2):(1,32)"), L("(32,4):(1,32)")));
}

TEST(ConversionPlan, AgreesWithLinearLayouts) {
  // For power-of-two layouts the GF(2) view gives the same answer: the
  // conversion is intra-thread iff invertAndCompose keeps the lane bits.
  auto atoms = nvidiaMmaAtoms();
  const Layout &c = atoms[0].c;
  Layout swapped = makeLayout({c[0], makeLayout({c[1][1], c[1][0]})});
  std::vector<NamedDim> in{{"lane", 32}, {"register", 4}}, out{{"offset", 128}};
  auto src = toLinearLayout(c, in, out).value(), dst = toLinearLayout(swapped, in, out).value();
  auto map = dst.invertAndCompose(src).value(); // dst (lane,reg) -> src (lane,reg)
  for (int64_t lane = 0; lane < 32; ++lane)
    for (int64_t reg = 0; reg < 4; ++reg) {
      auto v = map.apply({{"lane", lane}, {"register", reg}});
      EXPECT_EQ(v[0].second, lane);
      EXPECT_EQ(v[1].second, planConversion(c, swapped)->sourceValue[lane][reg]);
    }
}

TEST(SubByte, ElementTypes) {
  for (int b : {1, 2, 3, 4, 5, 6, 7, 8, 16, 32})
    EXPECT_TRUE(ElementType::tryCreate(b)) << b;
  for (int b : {0, 9, 12, 64})
    EXPECT_FALSE(ElementType::tryCreate(b)) << b;
}

TEST(SubByte, RegisterPacking) {
  ElementType i4 = ElementType::tryCreate(4).value();
  Layout p = registerPackingLayout(i4, 32).value();
  EXPECT_EQ(p.str(), "(8,4):(4,32)");
  for (int64_t i = 0; i < 32; ++i) {
    RegisterSlot s = locateInRegisters(i4, i);
    EXPECT_EQ(p(i), s.reg * 32 + s.bitOffset);
    EXPECT_FALSE(s.straddles());
  }
  ElementType i3 = ElementType::tryCreate(3).value();
  EXPECT_FALSE(registerPackingLayout(i3, 32));
  RegisterSlot s = locateInRegisters(i3, 10);
  EXPECT_EQ(s.reg, 0);
  EXPECT_EQ(s.bitOffset, 30);
  EXPECT_EQ(s.bitsInFirst, 2);
  EXPECT_TRUE(s.straddles());
  // 32 three-bit elements fill exactly three registers.
  EXPECT_EQ(locateInRegisters(i3, 31).reg, 2);
  EXPECT_EQ(locateInRegisters(i3, 31).bitOffset, 29);
}

TEST(SubByte, TypedLayout) {
  TypedLayout t{L("(8,4):(1,8)"), ElementType::tryCreate(4).value()};
  EXPECT_EQ(t.bitOffset(9), 9 * 4);
  EXPECT_EQ(t.bytes(), 16);
  EXPECT_EQ(t.widestAccess()->bytes(), 16);
  EXPECT_EQ(t.str(), "i4 (8,4):(1,8)");
  TypedLayout odd{L("5:1"), ElementType::tryCreate(3).value()};
  EXPECT_EQ(odd.bytes(), 2); // 15 bits
}

TEST(SubByte, WidestVectorAccess) {
  ElementType f16 = ElementType::tryCreate(16).value();
  auto v = widestVectorAccess(L("8:1"), f16);
  ASSERT_TRUE(v) << v.error();
  EXPECT_EQ(v->bytes(), 16);
  EXPECT_EQ(v->accesses, 1);
  // Two runs of 4 f16: 8-byte accesses.
  EXPECT_EQ(widestVectorAccess(L("(4,2):(1,64)"), f16)->bytes(), 8);
  // A misaligned run of 8 f16 starting at element 4: 8 bytes, two accesses.
  EXPECT_EQ(widestVectorAccess(L("(4,2):(1,4)"), f16)->bytes(), 16);
  auto mis = widestVectorAccess(L("(8):(1)"), f16);
  EXPECT_EQ(mis->accesses, 1);
  // 32 contiguous i4 = 16 bytes; 4 i4 = 2 bytes; 1 i4 alone is not a byte.
  ElementType i4 = ElementType::tryCreate(4).value();
  EXPECT_EQ(widestVectorAccess(L("32:1"), i4)->bytes(), 16);
  EXPECT_EQ(widestVectorAccess(L("(4,2):(1,64)"), i4)->bytes(), 2);
  EXPECT_FALSE(widestVectorAccess(L("1:1"), i4));
  // 3-bit: 8 elements = 3 bytes -> byte accesses; 32 elements = 12 bytes -> 4-byte.
  ElementType i3 = ElementType::tryCreate(3).value();
  EXPECT_EQ(widestVectorAccess(L("8:1"), i3)->bytes(), 1);
  EXPECT_EQ(widestVectorAccess(L("32:1"), i3)->bytes(), 4);
  EXPECT_EQ(widestVectorAccess(L("32:1"), i3)->accesses, 3);
  // The mma A fragment per thread (values of thread 0): pairs of f16 -> 4 bytes.
  Layout a = nvidiaMmaAtoms()[0].a;
  Layout thread0 = a[1]; // offsets of thread 0's values in the column-major 16x16 tile
  EXPECT_EQ(widestVectorAccess(thread0, f16)->bytes(), 2);
  // In a row-major (K-contiguous) copy, the pairs (i&1 -> column+1) are adjacent.
  Layout rowMajorA = composition(L("(16,16):(16,1)"), a[1]).value();
  EXPECT_EQ(widestVectorAccess(rowMajorA, f16)->bytes(), 4);
}

} // namespace
