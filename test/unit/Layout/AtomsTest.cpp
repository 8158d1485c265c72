//===- AtomsTest.cpp - MMA atoms against the vendors' fragment tables -----===//
//
// For every atom: (1) the TV layout equals, at every (thread, value), the
// formula written out in the cited vendor document; (2) a host simulation
// loads random A and B through the documented fragments, reassembles the
// tiles through the TV layouts, multiplies, scatters D through the C layout
// and compares with the documented D fragments of a plain matmul.
//
//===----------------------------------------------------------------------===//

#include "kiln/Layout/Atoms.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>

using namespace kiln::layout;

namespace {

/// (row, col) of the operand element held by (thread, value), per document.
using Fragment = std::function<std::pair<int64_t, int64_t>(int64_t t, int64_t v)>;

struct DocumentedAtom {
  std::string name;
  Fragment a, b, c; // A: (m,k), B: (k,n), C: (m,n); b empty when from smem
};

std::pair<int64_t, int64_t> nvA16(int64_t t, int64_t i) {
  int64_t g = t >> 2, tig = t % 4;
  return {g + 8 * ((i >> 1) & 1), tig * 2 + (i & 1) + 8 * (i >> 2)};
}
std::pair<int64_t, int64_t> nvB16(int64_t t, int64_t i) {
  int64_t g = t >> 2, tig = t % 4;
  return {tig * 2 + (i & 1) + 8 * (i >> 1), g};
}
std::pair<int64_t, int64_t> nvC(int64_t t, int64_t i) {
  int64_t g = t >> 2, tig = t % 4;
  return {g + 8 * (i >> 1), tig * 2 + (i & 1)};
}
std::pair<int64_t, int64_t> nvA8(int64_t t, int64_t i) {
  int64_t g = t >> 2, tig = t % 4;
  return {g + 8 * (i >> 2), tig * 4 + (i & 3)};
}
std::pair<int64_t, int64_t> nvB8(int64_t t, int64_t i) {
  int64_t g = t >> 2, tig = t % 4;
  return {tig * 4 + i, g};
}

std::vector<DocumentedAtom> documented() {
  std::vector<DocumentedAtom> d;
  for (const char *n : {"mma.sync.aligned.m16n8k16.f32.f16.f16.f32",
                        "mma.sync.aligned.m16n8k16.f32.bf16.bf16.f32"})
    d.push_back({n, nvA16, nvB16, nvC});
  d.push_back({"mma.sync.aligned.m16n8k16.s32.s8.s8.s32", nvA8, nvB8, nvC});
  for (int64_t n : {8, 64, 256}) {
    (void)n;
    auto wgA = [](int64_t t, int64_t i) {
      int64_t w = t / 32, lane = t % 32, g = lane >> 2, tig = lane % 4;
      return std::make_pair(16 * w + g + 8 * ((i >> 1) & 1), 2 * tig + (i & 1) + 8 * (i >> 2));
    };
    auto wgD = [](int64_t t, int64_t i) {
      int64_t w = t / 32, lane = t % 32, g = lane >> 2, tig = lane % 4;
      return std::make_pair(16 * w + g + 8 * ((i >> 1) & 1), 8 * (i >> 2) + 2 * tig + (i & 1));
    };
    d.push_back({"wgmma.mma_async.sync.aligned.m64n" + std::to_string(n) + "k16.f32.f16.f16",
                 wgA, nullptr, wgD});
  }
  auto m32A = [](int64_t l, int64_t i) { return std::make_pair(l % 32, 4 * (l / 32) + i); };
  auto m32B = [](int64_t l, int64_t i) { return std::make_pair(4 * (l / 32) + i, l % 32); };
  auto m32D = [](int64_t l, int64_t i) {
    return std::make_pair(8 * (i / 4) + 4 * (l / 32) + i % 4, l % 32);
  };
  d.push_back({"v_mfma_f32_32x32x8_f16", m32A, m32B, m32D});
  d.push_back({"v_mfma_f32_32x32x8_bf16", m32A, m32B, m32D});
  auto m16A = [](int64_t l, int64_t i) { return std::make_pair(l % 16, 4 * (l / 16) + i); };
  auto m16B = [](int64_t l, int64_t i) { return std::make_pair(4 * (l / 16) + i, l % 16); };
  auto m16D = [](int64_t l, int64_t i) { return std::make_pair(4 * (l / 16) + i, l % 16); };
  d.push_back({"v_mfma_f32_16x16x16_f16", m16A, m16B, m16D});
  d.push_back({"v_mfma_f32_16x16x16_bf16", m16A, m16B, m16D});
  d.push_back({"v_wmma_f32_16x16x16_f16",
               [](int64_t l, int64_t i) { return std::make_pair(l % 16, i); },
               [](int64_t l, int64_t i) { return std::make_pair(i, l % 16); },
               [](int64_t l, int64_t i) { return std::make_pair(2 * i + l / 16, l % 16); }});
  auto dpasA = [](int64_t w, int64_t r) { return std::make_pair(r, w); };
  auto dpasB = [](int64_t w, int64_t k) { return std::make_pair(k, w); };
  auto dpasC = [](int64_t w, int64_t r) { return std::make_pair(r, w); };
  d.push_back({"dpas.8x16x16.f32.f16.f16", dpasA, dpasB, dpasC});
  d.push_back({"dpas.8x16x16.f32.bf16.bf16", dpasA, dpasB, dpasC});
  return d;
}

const DocumentedAtom *findDoc(const std::vector<DocumentedAtom> &docs, const std::string &name) {
  for (const auto &d : docs)
    if (d.name == name)
      return &d;
  return nullptr;
}

/// Checks tv(t, v) == rows/cols of `doc` with tile index row + rows*col
/// (swap: the tile is stored transposed, as B is NxK).
void expectMatches(const Layout &tv, const Fragment &doc, int64_t rows, bool swap,
                   const std::string &what) {
  int64_t threads = tv[0].size(), values = tv[1].size();
  for (int64_t t = 0; t < threads; ++t)
    for (int64_t v = 0; v < values; ++v) {
      auto [r, c] = doc(t, v);
      if (swap)
        std::swap(r, c);
      ASSERT_EQ(tv(t + threads * v), r + rows * c)
          << what << " " << tv.str() << " at thread " << t << " value " << v;
    }
}

TEST(MmaAtoms, MatchTheVendorFragmentTables) {
  auto docs = documented();
  auto atoms = allMmaAtoms();
  EXPECT_EQ(atoms.size(), docs.size());
  for (const MmaAtom &atom : atoms) {
    SCOPED_TRACE(atom.name + " (" + atom.reference + ")");
    const DocumentedAtom *doc = findDoc(docs, atom.name);
    ASSERT_NE(doc, nullptr) << "no documented formula for " << atom.name;
    EXPECT_EQ(atom.a[0].size(), atom.threads);
    EXPECT_EQ(atom.c[0].size(), atom.threads);
    EXPECT_EQ(atom.c.size(), atom.m * atom.n) << "C must cover the tile exactly";
    expectMatches(atom.a, doc->a, atom.m, false, "A");
    if (doc->b)
      expectMatches(atom.b, doc->b, atom.n, true, "B");
    expectMatches(atom.c, doc->c, atom.m, false, "C");
  }
}

TEST(MmaAtoms, SimulatedMatmulThroughFragments) {
  std::mt19937 rng(7);
  auto docs = documented();
  for (const MmaAtom &atom : allMmaAtoms()) {
    SCOPED_TRACE(atom.name);
    const DocumentedAtom *doc = findDoc(docs, atom.name);
    ASSERT_NE(doc, nullptr);
    int64_t M = atom.m, N = atom.n, K = atom.k, T = atom.threads;
    std::vector<int64_t> A(M * K), B(K * N), C(M * N);
    for (auto &x : A)
      x = int64_t(rng() % 7) - 3;
    for (auto &x : B)
      x = int64_t(rng() % 7) - 3;
    for (auto &x : C)
      x = int64_t(rng() % 7) - 3;
    // Hardware side: each thread's fragments as the document lays them out.
    // Kiln side: reassemble the tiles from those fragments via the TV layouts.
    std::vector<int64_t> At(M * K, INT64_MIN), Bt(N * K, INT64_MIN), Ct(M * N, INT64_MIN);
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t v = 0; v < atom.a[1].size(); ++v) {
        auto [m, k] = doc->a(t, v);
        At[atom.a(t + T * v)] = A[m * K + k];
      }
      for (int64_t v = 0; v < atom.c[1].size(); ++v) {
        auto [m, n] = doc->c(t, v);
        Ct[atom.c(t + T * v)] = C[m * N + n];
      }
      if (doc->b)
        for (int64_t v = 0; v < atom.b[1].size(); ++v) {
          auto [k, n] = doc->b(t, v);
          Bt[atom.b(t + T * v)] = B[k * N + n];
        }
    }
    if (!doc->b) // wgmma: B comes from shared memory in NxK order
      for (int64_t j = 0; j < N * K; ++j)
        Bt[atom.b(j)] = B[(j / N) * N + j % N];
    for (int64_t x : At)
      ASSERT_NE(x, INT64_MIN) << "A tile not covered";
    for (int64_t x : Bt)
      ASSERT_NE(x, INT64_MIN) << "B tile not covered";
    // D = A*B + C on the reassembled tiles, then scatter D to fragments.
    for (int64_t t = 0; t < T; ++t)
      for (int64_t v = 0; v < atom.c[1].size(); ++v) {
        int64_t idx = atom.c(t + T * v), m = idx % M, n = idx / M;
        int64_t d = Ct[idx];
        for (int64_t k = 0; k < K; ++k)
          d += At[m + M * k] * Bt[n + N * k];
        auto [dm, dn] = doc->c(t, v);
        int64_t want = C[dm * N + dn];
        for (int64_t k = 0; k < K; ++k)
          want += A[dm * K + k] * B[k * N + dn];
        ASSERT_EQ(d, want) << "thread " << t << " value " << v;
      }
  }
}

TEST(CopyAtoms, LdmatrixX4MatchesPtxAndFeedsMmaA) {
  CopyAtom ld = nvidiaLdmatrixX4();
  // PTX: lane t receives, for matrix j, row t/4 and columns 2*(t%4)+e.
  for (int64_t t = 0; t < 32; ++t)
    for (int64_t j = 0; j < 4; ++j)
      for (int64_t e = 0; e < 2; ++e) {
        int64_t row = t / 4 + 8 * (j & 1), col = 2 * (t % 4) + e + 8 * (j >> 1);
        EXPECT_EQ(ld.destination(t + 32 * (e + 2 * j)), row + 16 * col);
      }
  // Thread t supplies the address of row t%8 of matrix t/8.
  for (int64_t t = 0; t < 32; ++t)
    for (int64_t c = 0; c < 8; ++c) {
      int64_t j = t / 8, row = t % 8 + 8 * (j & 1), col = c + 8 * (j >> 1);
      EXPECT_EQ(ld.source(t + 32 * c), row + 16 * col);
    }
  // ldmatrix.x4 delivers exactly the mma.m16n8k16 A fragment.
  EXPECT_TRUE(sameFunction(ld.destination, nvidiaMmaAtoms()[0].a));
}

TEST(MmaAtoms, WgmmaRejectsBadN) {
  EXPECT_FALSE(nvidiaWgmmaAtom(12));
  EXPECT_FALSE(nvidiaWgmmaAtom(264));
  EXPECT_TRUE(nvidiaWgmmaAtom(128));
}

} // namespace
