//===- LinearLayoutTest.cpp - GF(2) layouts and their agreement with CuTe -===//
//
// Algebraic laws (inverse o L == id, Triton LinearLayoutTest style) and
// agreement with the CuTe algebra wherever both apply.
//
//===----------------------------------------------------------------------===//

#include "LayoutTestUtil.h"

#include "kiln/Layout/Atoms.h"
#include "kiln/Layout/LinearLayout.h"

#include <gtest/gtest.h>

using namespace kiln::layout;
using kiln::layout::testing::isInjective;
using kiln::layout::testing::LayoutGenerator;

namespace {

Layout L(const char *s) { return parseLayout(s).value(); }

int64_t nextPow2(int64_t x) {
  int64_t p = 1;
  while (p < x)
    p <<= 1;
  return p;
}

TEST(LinearLayout, FromTheTutorial) {
  auto l = toLinearLayout(L("(32,4):(4,1)"), {{"lane", 32}, {"register", 4}}, {{"offset", 128}});
  ASSERT_TRUE(l) << l.error();
  auto out = l->apply({{"lane", 1}, {"register", 2}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], NamedValue("offset", 6));
  EXPECT_EQ(l->str(), "lane:[[4],[8],[16],[32],[64]] register:[[1],[2]] -> [offset:128]");
}

TEST(LinearLayout, RejectsNonLinearLayouts) {
  auto a = toLinearLayout(L("4:3"), {{"x", 4}}, {{"offset", 16}});
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().find("not linear over GF(2)"), std::string::npos) << a.error();
  EXPECT_FALSE(toLinearLayout(L("(2,2):(1,1)"), {{"x", 4}}, {{"offset", 4}}));
  EXPECT_FALSE(toLinearLayout(L("6:1"), {{"x", 6}}, {{"offset", 8}}));
  EXPECT_FALSE(toLinearLayout(L("8:1"), {{"x", 8}}, {{"offset", 4}}));
  EXPECT_FALSE(LinearLayout::tryCreate({{"x", {{3}}}}, {{"y", 2}}));
  EXPECT_FALSE(LinearLayout::tryCreate({{"x", {{1}}}, {"x", {{1}}}}, {{"y", 2}}));
}

TEST(LinearLayout, SwizzledLayoutIsLinear) {
  auto s = parseSwizzledLayout("Sw<3,3,3>o(8,64):(64,1)").value();
  auto l = toLinearLayout(s, {{"row", 8}, {"col", 64}}, {{"offset", 512}});
  ASSERT_TRUE(l) << l.error();
  for (int64_t i = 0; i < 512; ++i)
    EXPECT_EQ(l->applyFlat(i), s(i));
  // A swizzle is its own inverse: Sw o Sw == id.
  auto sw = toLinearLayout(SwizzledLayout{s.swizzle, 0, L("512:1")}, {{"offset", 512}},
                           {{"offset", 512}}).value();
  EXPECT_EQ(sw.compose(sw).value(), LinearLayout::identity1D(512, "offset", "offset"));
}

TEST(LinearLayout, InverseLaws) {
  LayoutGenerator gen(11);
  int checked = 0;
  for (int t = 0; t < 2000; ++t) {
    Layout a = gen.layout(1024, /*powerOfTwo=*/true);
    auto ll = toLinearLayout(a, {{"x", a.size()}}, {{"y", nextPow2(std::max<int64_t>(1, a.cosize()))}});
    if (!ll)
      continue;
    auto inv = ll->invert();
    bool bijective = isInjective(a) && a.cosize() == a.size();
    ASSERT_EQ(bool(inv), bijective) << a.str() << " " << inv.error();
    if (!inv)
      continue;
    ++checked;
    EXPECT_EQ(ll->compose(*inv).value(), LinearLayout::identity1D(a.size(), "x", "x"));
    EXPECT_EQ(inv->compose(*ll).value(), LinearLayout::identity1D(a.size(), "y", "y"));
    // Agrees with CuTe: the right inverse of a bijection is its inverse.
    Layout r = rightInverse(a);
    auto lr = toLinearLayout(r, {{"y", a.size()}}, {{"x", a.size()}});
    ASSERT_TRUE(lr) << r.str() << " " << lr.error();
    EXPECT_EQ(*lr, *inv) << a.str();
    // And invertAndCompose against the identity is invert.
    EXPECT_EQ(LinearLayout::identity1D(a.size(), "y", "y").invertAndCompose(*ll).value(), *inv);
  }
  EXPECT_GT(checked, 100);
}

TEST(LinearLayout, CompositionAgreesWithCute) {
  LayoutGenerator gen(12);
  int checked = 0;
  for (int t = 0; t < 3000; ++t) {
    Layout a = gen.layout(1024, true);
    Layout b = gen.layout(a.size(), true);
    auto r = composition(a, b);
    if (!r || r->size() != b.size())
      continue;
    int64_t aOut = nextPow2(std::max<int64_t>(1, a.cosize()));
    auto la = toLinearLayout(a, {{"x", a.size()}}, {{"offset", aOut}});
    auto lb = toLinearLayout(b, {{"y", b.size()}}, {{"x", a.size()}});
    if (!la || !lb)
      continue;
    auto lr = toLinearLayout(*r, {{"y", b.size()}}, {{"offset", aOut}});
    ASSERT_TRUE(lr) << r->str() << ": " << lr.error();
    ++checked;
    EXPECT_EQ(lb->compose(*la).value(), *lr) << a.str() << " o " << b.str();
  }
  EXPECT_GT(checked, 100);
}

TEST(LinearLayout, InvertAndComposeFindsTheHolder) {
  // Source: 32 lanes x 4 registers over a 128-element vector, lane-major;
  // destination: register-major. invertAndCompose says, for each source
  // (lane, register), which destination (lane, register) holds the element.
  auto src = toLinearLayout(L("(32,4):(4,1)"), {{"lane", 32}, {"register", 4}},
                            {{"offset", 128}}).value();
  auto dst = toLinearLayout(L("(32,4):(1,32)"), {{"lane", 32}, {"register", 4}},
                            {{"offset", 128}}).value();
  auto c = src.invertAndCompose(dst);
  ASSERT_TRUE(c) << c.error();
  for (int64_t i = 0; i < 128; ++i)
    EXPECT_EQ(dst.applyFlat(c->applyFlat(i)), src.applyFlat(i));
  // A broadcast outer layout still works (free variables pick zero).
  auto bcast = LinearLayout::zeros1D(4, "warp", "offset") * LinearLayout::identity1D(1, "x", "y");
  EXPECT_EQ(bcast.inBits(), 2);
  auto fromWarp = LinearLayout::tryCreate({{"lane", {{1}, {2}}}, {"warp", {{0}, {0}}}},
                                          {{"offset", 4}}).value();
  auto only = LinearLayout::identity1D(4, "lane", "offset");
  auto d = only.invertAndCompose(fromWarp);
  ASSERT_TRUE(d) << d.error();
  for (int64_t i = 0; i < 4; ++i)
    EXPECT_EQ(fromWarp.applyFlat(d->applyFlat(i)), i);
  EXPECT_FALSE(LinearLayout::identity1D(8, "lane", "offset")
                   .invertAndCompose(LinearLayout::identity1D(8, "lane", "other")));
}

TEST(LinearLayout, ProductConcatenatesDims) {
  auto lane = LinearLayout::identity1D(32, "lane", "dim0");
  auto reg = LinearLayout::identity1D(4, "register", "dim1");
  auto p = lane * reg;
  EXPECT_EQ(p.inDims().size(), 2u);
  EXPECT_EQ(p.outDims(), (std::vector<NamedDim>{{"dim0", 32}, {"dim1", 4}}));
  // Shared output dim: the second factor's values land above the first's.
  auto q = LinearLayout::identity1D(4, "register", "dim0") * LinearLayout::identity1D(32, "lane", "dim0");
  EXPECT_EQ(q.outDims(), (std::vector<NamedDim>{{"dim0", 128}}));
  EXPECT_EQ(q.apply({{"lane", 1}})[0].second, 4);
  // Agrees with CuTe's logical product for identity layouts: 4:1 x 32:1.
  Layout cute = logicalProduct(L("4:1"), L("32:1")).value();
  auto lc = toLinearLayout(cute, {{"register", 4}, {"lane", 32}}, {{"dim0", 128}}).value();
  EXPECT_EQ(lc, q);
  EXPECT_NE(p, q);
}

TEST(LinearLayout, EveryAtomFragmentIsLinear) {
  // Each TV layout of every atom converts exactly to (lane, register) ->
  // (row, col) over GF(2), and agrees with the CuTe layout everywhere.
  for (const MmaAtom &atom : allMmaAtoms()) {
    SCOPED_TRACE(atom.name);
    struct Operand {
      const Layout *tv;
      int64_t rows, cols;
    } ops[] = {{&atom.a, atom.m, atom.k}, {&atom.b, atom.n, atom.k}, {&atom.c, atom.m, atom.n}};
    for (const Operand &op : ops) {
      const Layout &tv = *op.tv;
      auto ll = toLinearLayout(tv, {{"lane", tv[0].size()}, {"register", tv[1].size()}},
                               {{"row", op.rows}, {"col", op.cols}});
      ASSERT_TRUE(ll) << tv.str() << ": " << ll.error();
      for (int64_t i = 0; i < tv.size(); ++i) {
        auto out = ll->apply({{"lane", i % tv[0].size()}, {"register", i / tv[0].size()}});
        EXPECT_EQ(out[0].second + op.rows * out[1].second, tv(i));
      }
    }
  }
}

} // namespace
