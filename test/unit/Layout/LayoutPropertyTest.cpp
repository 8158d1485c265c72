//===- LayoutPropertyTest.cpp - Defining identities at every coordinate ---===//
//
// Each operation is checked against the identity that defines it, at every
// index, on seeded random layouts (CuTe test/unit/cute/core style).
//
//===----------------------------------------------------------------------===//

#include "LayoutTestUtil.h"

#include "kiln/Layout/Layout.h"
#include "kiln/Layout/Swizzle.h"

#include <gtest/gtest.h>

#include <set>

using namespace kiln::layout;
using kiln::layout::testing::isInjective;
using kiln::layout::testing::LayoutGenerator;

namespace {

constexpr int kTrials = 2000;

Layout L(const char *s) { return parseLayout(s).value(); }

TEST(IntTuple, ParsePrintRoundTrip) {
  for (const char *s : {"8", "(4,8)", "((2,4),8)", "(5)", "()", "(_,2)", "((1),(2,(3)))"}) {
    auto t = parseIntTuple(s);
    ASSERT_TRUE(t) << t.error();
    EXPECT_EQ(t->str(), s);
  }
  EXPECT_NE(parseIntTuple("(5)").value(), parseIntTuple("5").value());
  EXPECT_FALSE(parseIntTuple("(4,"));
  EXPECT_FALSE(parseIntTuple("4)"));
  EXPECT_FALSE(parseIntTuple("a"));
}

TEST(Layout, BasicQueries) {
  Layout l = L("((2,4),8):((1,2),8)");
  EXPECT_EQ(l.rank(), 2u);
  EXPECT_EQ(l.depth(), 2);
  EXPECT_EQ(l.size(), 64);
  EXPECT_EQ(l.cosize(), 64);
  EXPECT_EQ(l(9), 9);
  EXPECT_EQ(l.evaluate(parseIntTuple("((1,2),3)").value()).value(), 1 + 4 + 24);
  EXPECT_EQ(l.evaluate(parseIntTuple("(5,3)").value()).value(), 5 + 24);
  EXPECT_FALSE(l.evaluate(parseIntTuple("(1,2,3)").value()));
  EXPECT_EQ(L("(4,8)").str(), "(4,8):(1,4)");
  EXPECT_EQ(L("8:1").rank(), 1u);
  EXPECT_EQ(L("(5):(1)").str(), "(5):(1)");
  EXPECT_FALSE(parseLayout("(4,8):(1)"));
  EXPECT_FALSE(parseLayout("(4,8):(1,2):3"));
  EXPECT_FALSE(parseLayout("(-4):(1)"));
}

TEST(Layout, Slice) {
  Layout l = L("(4,8):(1,4)");
  auto s = sliceAndOffset(parseIntTuple("(_,2)").value(), l);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->first.str(), "(4):(1)");
  EXPECT_EQ(s->second, 8);
  auto t = sliceAndOffset(parseIntTuple("(1,_)").value(), l);
  EXPECT_EQ(t->first.str(), "(8):(4)");
  EXPECT_EQ(t->second, 1);
  Layout h = L("((2,4),8):((1,2),8)");
  auto u = slice(parseIntTuple("((_,1),_)").value(), h);
  EXPECT_EQ(u->str(), "(2,8):(1,8)");
  EXPECT_FALSE(slice(parseIntTuple("(_,_,_)").value(), l));
  // Slicing property: slice(c)(i) + offset == L(c with i in the _ modes).
  for (int64_t j = 0; j < 8; ++j) {
    auto sj = sliceAndOffset(IntTuple::tuple({IntTuple::underscore(), IntTuple(j)}), l).value();
    for (int64_t i = 0; i < 4; ++i)
      EXPECT_EQ(sj.first(i) + sj.second, l(i + 4 * j));
  }
}

TEST(LayoutProperty, CoalesceKeepsTheFunction) {
  LayoutGenerator gen(1);
  for (int t = 0; t < kTrials; ++t) {
    Layout a = gen.layout();
    Layout c = coalesce(a);
    ASSERT_EQ(c.size(), a.size()) << a.str();
    EXPECT_LE(c.depth(), 1);
    for (int64_t i = 0; i < a.size(); ++i)
      ASSERT_EQ(c(i), a(i)) << a.str() << " -> " << c.str() << " at " << i;
  }
}

TEST(LayoutProperty, FilterKeepsTheImage) {
  LayoutGenerator gen(2);
  for (int t = 0; t < kTrials; ++t) {
    Layout a = gen.layout();
    Layout f = filter(a);
    std::set<int64_t> ia, iff;
    for (int64_t i = 0; i < a.size(); ++i)
      ia.insert(a(i));
    for (int64_t i = 0; i < f.size(); ++i)
      iff.insert(f(i));
    if (a.size() > 0) {
      EXPECT_EQ(ia, iff) << a.str() << " -> " << f.str();
    }
  }
}

TEST(LayoutProperty, CompositionIsFunctionComposition) {
  LayoutGenerator gen(3);
  int checked = 0;
  for (int t = 0; t < kTrials; ++t) {
    Layout a = gen.layout();
    Layout b = gen.layout(std::max<int64_t>(1, a.size()));
    auto r = composition(a, b);
    if (!r)
      continue;
    // Defined on B's domain whenever B stays inside A's domain.
    bool inside = true;
    for (int64_t i = 0; i < b.size() && inside; ++i)
      inside = b(i) >= 0 && b(i) < a.size();
    if (!inside)
      continue;
    if (b.shape().isTuple()) {
      // Right-distributive: mode i of the result is A o B_i.
      ASSERT_EQ(r->rank(), b.rank());
      for (size_t m = 0; m < b.rank(); ++m)
        ASSERT_EQ((*r)[m], composition(a, b[m]).value()) << a.str() << " o " << b.str();
      while (b.shape().isTuple()) // check the identity on one leaf mode below
        b = b[0];
      r = composition(a, b);
    }
    // Like CuTe, the result may be smaller than B where shapes do not divide;
    // where it has B's size it must be A after B.
    if (r->size() != b.size())
      continue;
    ++checked;
    for (int64_t i = 0; i < r->size(); ++i)
      ASSERT_EQ((*r)(i), a(b(i))) << a.str() << " o " << b.str() << " = " << r->str()
                                  << " at " << i;
  }
  EXPECT_GT(checked, kTrials / 4);
}

TEST(LayoutProperty, CompositionByModeTiler) {
  Layout a = L("(8,16):(16,1)");
  Tiler t = parseTiler("(2:4,(4,2):(1,8))").value();
  auto r = composition(a, t);
  ASSERT_TRUE(r) << r.error();
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 8; ++j) {
      int64_t m = L("2:4")(i), n = L("(4,2):(1,8)")(j);
      EXPECT_EQ(r->evaluate(IntTuple::tuple({i, j})).value(), a(m + 8 * n));
    }
  EXPECT_FALSE(composition(L("8:1"), parseTiler("(2:1,2:1)").value()));
}

TEST(LayoutProperty, ComplementFillsTheCodomain) {
  LayoutGenerator gen(4);
  int checked = 0;
  for (int t = 0; t < kTrials; ++t) {
    Layout a = gen.layout(256);
    if (!isInjective(a) || a.size() == 0)
      continue;
    int64_t cotarget = gen.pick({1, 16, 64, 256, 1024});
    auto c = complement(a, cotarget);
    if (!c || c->size() == 0)
      continue; // interleaved modes have no complement; pycute gives size 0 for gaps
    ++checked;
    // (A, C) is injective and C is ordered (strictly increasing).
    Layout ac = makeLayout({a, *c});
    EXPECT_TRUE(isInjective(ac)) << a.str() << " complement " << c->str();
    for (int64_t i = 1; i < c->size(); ++i)
      ASSERT_LT((*c)(i - 1), (*c)(i)) << c->str();
    EXPECT_GE(ac.cosize(), std::min<int64_t>(cotarget, a.cosize()));
  }
  EXPECT_GT(checked, kTrials / 4);
  EXPECT_FALSE(complement(L("(8,2):(1,2)"), 16));
  EXPECT_EQ(complement(L("(2,2):(1,6)"), 24)->str(), "(3,2):(2,12)");
}

TEST(LayoutProperty, RightInverse) {
  LayoutGenerator gen(5);
  for (int t = 0; t < kTrials; ++t) {
    Layout a = gen.layout();
    Layout r = rightInverse(a);
    for (int64_t i = 0; i < r.size(); ++i)
      ASSERT_EQ(a(r(i)), i) << a.str() << " right inverse " << r.str();
  }
  EXPECT_EQ(rightInverse(L("(4,8):(8,1)")).str(), "(8,4):(4,1)");
}

TEST(LayoutProperty, LeftInverse) {
  LayoutGenerator gen(6);
  int checked = 0;
  for (int t = 0; t < kTrials; ++t) {
    Layout a = gen.layout();
    if (!isInjective(a))
      continue;
    auto r = leftInverse(a);
    if (!r)
      continue;
    // The left inverse is exact when (A, complement(A)) is a bijection onto
    // 0..N-1, i.e. the complement fills every hole of A.
    Layout full = makeLayout({a, complement(a).value()});
    bool bijective =
        full.size() > 0 && isInjective(full) && full.cosize() == full.size();
    if (!bijective)
      continue;
    ++checked;
    for (int64_t i = 0; i < a.size(); ++i)
      ASSERT_EQ((*r)(a(i)), i) << a.str() << " left inverse " << r->str();
  }
  EXPECT_GT(checked, kTrials / 4);
  EXPECT_FALSE(leftInverse(L("(8,2):(1,2)")));
}

TEST(LayoutProperty, DividesSplitIntoTileAndRest) {
  LayoutGenerator gen(7);
  int checked = 0;
  for (int t = 0; t < kTrials; ++t) {
    Layout a = gen.layout();
    Layout b = gen.layout(a.size());
    auto ld = logicalDivide(a, b);
    if (!ld)
      continue;
    auto cb = complement(b, a.size()).value();
    Layout bc = makeLayout({b, cb});
    bool inside = true;
    for (int64_t i = 0; i < bc.size() && inside; ++i)
      inside = bc(i) < a.size();
    if (!inside)
      continue;
    ++checked;
    // logical_divide(A,B)(i) == A((B, B*)(i)); mode 0 is A o B.
    ASSERT_EQ(ld->size(), bc.size());
    for (int64_t i = 0; i < bc.size(); ++i)
      ASSERT_EQ((*ld)(i), a(bc(i))) << a.str() << " / " << b.str();
    ASSERT_EQ(ld->rank(), 2u);
    for (int64_t i = 0; i < b.size(); ++i)
      ASSERT_EQ((*ld)[0](i), a(b(i)));
    // zipped and tiled divides are the same function, regrouped.
    auto zd = zippedDivide(a, b).value(), td = tiledDivide(a, b).value();
    EXPECT_TRUE(sameFunction(*ld, zd));
    EXPECT_TRUE(sameFunction(*ld, td));
  }
  EXPECT_GT(checked, kTrials / 4);
}

TEST(LayoutProperty, ZippedDivideByMode) {
  Layout a = L("(8,16):(1,8)");
  Tiler t = parseTiler("(2,4)").value();
  EXPECT_EQ(zippedDivide(a, t)->str(), "((2,4),(4,4)):((1,8),(2,32))");
  EXPECT_EQ(tiledDivide(a, t)->str(), "((2,4),4,4):((1,8),2,32)");
  EXPECT_EQ(logicalDivide(a, t)->str(), "((2,4),(4,4)):((1,2),(8,32))");
  // Every element of A is visited exactly once.
  Layout z = zippedDivide(a, t).value();
  std::set<int64_t> image;
  for (int64_t i = 0; i < z.size(); ++i)
    image.insert(z(i));
  EXPECT_EQ(image.size(), 128u);
}

TEST(LayoutProperty, ProductsRepeatTheBlock) {
  LayoutGenerator gen(8);
  int checked = 0;
  for (int t = 0; t < kTrials; ++t) {
    Layout a = gen.layout(64), b = gen.layout(32);
    auto lp = logicalProduct(a, b);
    if (!lp || !isInjective(b))
      continue; // (mode-wise composition adds up per mode; see docs)
    // Like CuTe, complement(A) o B may come out smaller than B where their shapes do not
    // divide; otherwise the product holds size(B) copies of A.
    if (lp->size() != a.size() * b.size())
      continue;
    ++checked;
    for (int64_t i = 0; i < a.size(); ++i)
      ASSERT_EQ((*lp)[0](i), a(i));
    // Mode 1 is complement(A, size(A)*cosize(B)) o B.
    auto ca = complement(a, a.size() * b.cosize()).value();
    for (int64_t j = 0; j < b.size(); ++j)
      ASSERT_EQ((*lp)[1](j), ca(b(j))) << a.str() << " x " << b.str();
    // Blocked and raked products are the same multiset of offsets.
    auto bp = blockedProduct(a, b), rp = rakedProduct(a, b);
    if (!bp || !rp)
      continue;
    std::multiset<int64_t> s1, s2, s3;
    for (int64_t i = 0; i < lp->size(); ++i) {
      s1.insert((*lp)(i));
      s2.insert((*bp)(i));
      s3.insert((*rp)(i));
    }
    EXPECT_EQ(s1, s2);
    EXPECT_EQ(s1, s3);
  }
  EXPECT_GT(checked, kTrials / 4);
}

TEST(LayoutProperty, BlockedAndRakedProductShapes) {
  // CuTe's 02_layout_algebra.md examples.
  Layout a = L("(2,5):(5,1)"), b = L("(3,4):(1,3)");
  EXPECT_EQ(blockedProduct(a, b)->str(), "((2,3),(5,4)):((5,10),(1,30))");
  EXPECT_EQ(rakedProduct(a, b)->str(), "((3,2),(4,5)):((10,5),(30,1))");
  // Blocked: coordinate ((i,p),(j,q)) is element (i,j) of block (p,q).
  Layout bp = blockedProduct(a, b).value();
  for (int64_t p = 0; p < 3; ++p)
    for (int64_t q = 0; q < 4; ++q)
      for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 5; ++j) {
          IntTuple c = IntTuple::tuple({IntTuple::tuple({i, p}), IntTuple::tuple({j, q})});
          EXPECT_EQ(bp.evaluate(c).value(), a(i + 2 * j) + 10 * b(p + 3 * q));
        }
}

TEST(Swizzle, IsABijectionAndAnInvolution) {
  for (int b = 0; b <= 3; ++b)
    for (int m = 0; m <= 4; ++m)
      for (int s = b; s <= 4; ++s) {
        Swizzle sw = Swizzle::tryCreate(b, m, s).value();
        std::set<int64_t> image;
        for (int64_t x = 0; x < sw.size(); ++x) {
          int64_t y = sw(x);
          ASSERT_GE(y, 0);
          ASSERT_LT(y, sw.size());
          ASSERT_EQ(sw(y), x) << sw.str();
          image.insert(y);
        }
        EXPECT_EQ(int64_t(image.size()), sw.size());
      }
  EXPECT_FALSE(Swizzle::tryCreate(3, 3, 2));
  EXPECT_FALSE(Swizzle::tryCreate(-1, 0, 0));
}

TEST(Swizzle, ComposedLayout) {
  // Sw<3,3,3> o (8,64):(64,1): the 16-byte chunk index XOR the row.
  auto s = parseSwizzledLayout("Sw<3,3,3>o(8,64):(64,1)");
  ASSERT_TRUE(s) << s.error();
  for (int64_t r = 0; r < 8; ++r)
    for (int64_t c = 0; c < 64; ++c)
      EXPECT_EQ((*s)(r + 8 * c), 64 * r + (c ^ (r << 3)));
  EXPECT_EQ(s->str(), "Sw<3,3,3>o(8,64):(64,1)");
  // (S o L) o B == S o (L o B) at every coordinate.
  Layout b = L("(8,8):(1,8)");
  auto sb = composition(*s, b);
  ASSERT_TRUE(sb);
  for (int64_t i = 0; i < b.size(); ++i)
    EXPECT_EQ((*sb)(i), (*s)(b(i)));
  EXPECT_FALSE(parseSwizzledLayout("Sw<3,3>o8:1"));
  EXPECT_EQ(parseSwizzledLayout("Sw<2,0,2>o4o16:1")->str(), "Sw<2,0,2>o4o16:1");
}

} // namespace
