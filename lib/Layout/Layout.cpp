//===- Layout.cpp - The CuTe layout algebra -------------------------------===//
//
// Each algorithm mirrors CuTe's reference implementation step for step
// (including Python's floor arithmetic), so results match pycute exactly.
//
//===----------------------------------------------------------------------===//

#include "kiln/Layout/Layout.h"

#include "Detail.h"

#include <algorithm>
#include <climits>
#include <tuple>

namespace kiln::layout {
using namespace detail;

//===----------------------------------------------------------------------===//
// Layout basics
//===----------------------------------------------------------------------===//

/// The one door to the unchecked constructor, for algorithms that keep the
/// invariant by construction.
struct LayoutAccess {
  static Layout make(IntTuple shape, IntTuple stride) {
    return Layout(std::move(shape), std::move(stride), 0);
  }
};

Layout detail::makeUnchecked(IntTuple shape, IntTuple stride) {
  return LayoutAccess::make(std::move(shape), std::move(stride));
}

Layout::Layout(IntTuple shape) : shape_(shape), stride_(prefixProduct(shape)) {}

static std::string verifyRec(const IntTuple &shape, const IntTuple &stride) {
  if (shape.isUnderscore() || stride.isUnderscore())
    return "'_' is only allowed in slicing coordinates";
  if (shape.isTuple() != stride.isTuple())
    return "shape " + shape.str() + " and stride " + stride.str() +
           " are not congruent";
  if (!shape.isTuple()) {
    if (shape.value() < 0)
      return "shape " + shape.str() + " is negative";
    return "";
  }
  if (shape.rank() != stride.rank())
    return "shape " + shape.str() + " and stride " + stride.str() +
           " have different ranks";
  for (size_t i = 0; i < shape.rank(); ++i) {
    std::string e = verifyRec(shape[i], stride[i]);
    if (!e.empty())
      return e;
  }
  return "";
}

std::string Layout::verify(const IntTuple &shape, const IntTuple &stride) {
  std::string e = verifyRec(shape, stride);
  if (!e.empty())
    return e;
  // Keep size and every offset below 2^62 so the algebra cannot overflow.
  const int64_t limit = int64_t(1) << 62;
  std::vector<int64_t> fs = flattenToVector(shape), fd = flattenToVector(stride);
  int64_t size = 1, extent = 0;
  for (size_t i = 0; i < fs.size(); ++i) {
    int64_t d = fd[i] < 0 ? -fd[i] : fd[i], term;
    if (fd[i] == INT64_MIN || __builtin_mul_overflow(size, fs[i], &size) || size > limit ||
        __builtin_mul_overflow(fs[i] > 0 ? fs[i] - 1 : 0, d, &term) ||
        __builtin_add_overflow(extent, term, &extent) || extent > limit)
      return "sizes or offsets of " + shape.str() + ":" + stride.str() +
             " do not fit in 62 bits";
  }
  return "";
}

Result<Layout> Layout::tryCreate(IntTuple shape, IntTuple stride) {
  std::string e = verify(shape, stride);
  if (!e.empty())
    return Result<Layout>::failure("invalid layout: " + e);
  return Layout(std::move(shape), std::move(stride), 0);
}

int64_t detail::indexToOffset(int64_t idx, const IntTuple &shape,
                              const IntTuple &stride) {
  if (!shape.isTuple())
    return mul(idx, stride.value(), "evaluation");
  if (shape.rank() == 0)
    fail("evaluation: empty shape ()");
  int64_t result = 0;
  for (size_t i = 0; i + 1 < shape.rank(); ++i) {
    int64_t p = product(shape[i]);
    result += indexToOffset(floorMod(idx, p, "evaluation"), shape[i], stride[i]);
    idx = floorDiv(idx, p, "evaluation");
  }
  return result + indexToOffset(idx, shape[shape.rank() - 1],
                                stride[shape.rank() - 1]);
}

int64_t detail::cosizeT(const Layout &l) {
  return indexToOffset(l.size() - 1, l.shape(), l.stride()) + 1;
}

int64_t Layout::cosize() const {
  if (size() <= 0)
    return 0;
  Result<int64_t> r = guard<int64_t>([&] { return cosizeT(*this); });
  return r ? *r : 0; // only on int64 overflow
}

int64_t Layout::operator()(int64_t index) const {
  Result<int64_t> r =
      guard<int64_t>([&] { return indexToOffset(index, shape_, stride_); });
  return r ? *r : 0;
}

static int64_t coordToOffset(const IntTuple &crd, const IntTuple &shape,
                             const IntTuple &stride) {
  if (crd.isUnderscore())
    fail("evaluation: '_' in a coordinate (use slice)");
  if (crd.isTuple()) {
    if (!shape.isTuple() || crd.rank() != shape.rank())
      fail("coordinate " + crd.str() + " does not match shape " + shape.str());
    int64_t r = 0;
    for (size_t i = 0; i < crd.rank(); ++i)
      r += coordToOffset(crd[i], shape[i], stride[i]);
    return r;
  }
  return indexToOffset(crd.value(), shape, stride);
}

Result<int64_t> Layout::evaluate(const IntTuple &coord) const {
  return guard<int64_t>([&] { return coordToOffset(coord, shape_, stride_); });
}

Layout makeLayout(const std::vector<Layout> &modes) {
  std::vector<IntTuple> shapes, strides;
  for (const Layout &m : modes) {
    shapes.push_back(m.shape());
    strides.push_back(m.stride());
  }
  return Layout(IntTuple::tuple(std::move(shapes)),
                IntTuple::tuple(std::move(strides)), 0);
}

bool sameFunction(const Layout &a, const Layout &b) {
  if (a.size() != b.size())
    return false;
  if (a.size() == 0)
    return true;
  // With equal flat shapes both are sum(c_i * stride_i) over independent
  // coordinates, so they agree iff the strides of non-trivial modes agree.
  std::vector<int64_t> as = flattenToVector(a.shape()), bs = flattenToVector(b.shape());
  if (as == bs) {
    std::vector<int64_t> ad = flattenToVector(a.stride()), bd = flattenToVector(b.stride());
    for (size_t i = 0; i < as.size(); ++i)
      if (as[i] != 1 && ad[i] != bd[i])
        return false;
    return true;
  }
  if (coalesce(a) == coalesce(b))
    return true;
  for (int64_t i = 0; i < a.size(); ++i)
    if (a(i) != b(i))
      return false;
  return true;
}

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

/// Position of the ':' at parenthesis depth 0, or npos.
static size_t topLevelColon(std::string_view s) {
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(')
      ++depth;
    else if (s[i] == ')')
      --depth;
    else if (s[i] == ':' && depth == 0)
      return i;
  }
  return std::string_view::npos;
}

static std::string stripSpaces(std::string_view text) {
  std::string s;
  for (char c : text)
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      s += c;
  return s;
}

Result<Layout> parseLayout(std::string_view text) {
  std::string s = stripSpaces(text);
  size_t colon = topLevelColon(s);
  auto shape = parseIntTuple(std::string_view(s).substr(0, colon));
  if (!shape)
    return Result<Layout>::failure(shape.error());
  if (colon == std::string::npos) {
    std::string e = Layout::verify(*shape, *shape);
    if (!e.empty())
      return Result<Layout>::failure("invalid layout '" + s + "': " + e);
    return Layout(*shape);
  }
  auto stride = parseIntTuple(std::string_view(s).substr(colon + 1));
  if (!stride)
    return Result<Layout>::failure(stride.error());
  std::string e = Layout::verify(*shape, *stride);
  if (!e.empty())
    return Result<Layout>::failure("invalid layout '" + s + "': " + e);
  return Layout::tryCreate(*shape, *stride);
}

Tiler Tiler::identity() { return Tiler(Kind::Identity); }

Tiler Tiler::byMode(std::vector<Tiler> modes) {
  Tiler t(Kind::ByMode);
  t.modes_ = std::move(modes);
  return t;
}

std::string Tiler::str() const {
  if (isIdentity())
    return "_";
  if (isLayout())
    return layout_.str();
  std::string s = "(";
  for (size_t i = 0; i < modes_.size(); ++i)
    s += (i ? "," : "") + modes_[i].str();
  return s + ")";
}

/// Splits "(a,b,(c,d))" into its top-level elements.
static std::vector<std::string> splitTopLevel(const std::string &inner) {
  std::vector<std::string> parts;
  int depth = 0;
  std::string cur;
  for (char c : inner) {
    if (c == '(')
      ++depth;
    else if (c == ')')
      --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

Result<Tiler> parseTiler(std::string_view text) {
  std::string s = stripSpaces(text);
  if (s == "_")
    return Tiler::identity();
  if (topLevelColon(s) != std::string::npos || s.empty() || s[0] != '(') {
    auto l = parseLayout(s);
    if (!l)
      return Result<Tiler>::failure(l.error());
    return Tiler(*l);
  }
  // A parenthesised tuple without a top-level colon: a by-mode tiler.
  if (s.back() != ')')
    return Result<Tiler>::failure("cannot parse tiler '" + s + "'");
  std::string inner = s.substr(1, s.size() - 2);
  if (inner.empty())
    return Result<Tiler>::failure("empty tiler '()'");
  std::vector<Tiler> modes;
  for (const std::string &part : splitTopLevel(inner)) {
    auto t = parseTiler(part);
    if (!t)
      return t;
    modes.push_back(*t);
  }
  return Tiler::byMode(std::move(modes));
}

//===----------------------------------------------------------------------===//
// coalesce, filter, slice
//===----------------------------------------------------------------------===//

static Layout fromFlat(const std::vector<int64_t> &shape,
                       const std::vector<int64_t> &stride) {
  if (shape.size() == 1)
    return Layout(shape[0], stride[0]);
  std::vector<IntTuple> s(shape.begin(), shape.end()), d(stride.begin(), stride.end());
  return makeUnchecked(IntTuple::tuple(std::move(s)), IntTuple::tuple(std::move(d)));
}

static Layout tupleLayout(const std::vector<int64_t> &shape,
                          const std::vector<int64_t> &stride) {
  std::vector<IntTuple> s(shape.begin(), shape.end()), d(stride.begin(), stride.end());
  return makeUnchecked(IntTuple::tuple(std::move(s)), IntTuple::tuple(std::move(d)));
}

Layout coalesce(const Layout &l) {
  std::vector<int64_t> rs{1}, rd{0};
  std::vector<int64_t> fs = flattenToVector(l.shape()), fd = flattenToVector(l.stride());
  for (size_t i = 0; i < fs.size(); ++i) {
    int64_t s = fs[i], d = fd[i];
    if (s == 1)
      continue; // size-1 modes do not affect the function
    if (rs.back() == 1) {
      rs.back() = s;
      rd.back() = d;
    } else if (wrapMul(rs.back(), rd.back()) == d) {
      rs.back() = wrapMul(rs.back(), s); // mode continues the previous one
    } else {
      rs.push_back(s);
      rd.push_back(d);
    }
  }
  return fromFlat(rs, rd);
}

Result<Layout> coalesce(const Layout &l, const IntTuple &profile) {
  if (!profile.isTuple())
    return coalesce(l);
  if (l.rank() < profile.rank())
    return Result<Layout>::failure("coalesce: profile " + profile.str() +
                                   " has more modes than layout " + l.str());
  std::vector<Layout> modes;
  for (size_t i = 0; i < l.rank(); ++i) {
    if (i < profile.rank()) {
      auto m = coalesce(l[i], profile[i]);
      if (!m)
        return m;
      modes.push_back(*m);
    } else {
      modes.push_back(l[i]);
    }
  }
  return makeLayout(modes);
}

Layout filter(const Layout &l) {
  std::vector<int64_t> fs = flattenToVector(l.shape()), fd = flattenToVector(l.stride());
  std::vector<int64_t> rs, rd;
  for (size_t i = 0; i < fs.size(); ++i) {
    if (fs[i] == 1 || fd[i] == 0)
      continue;
    rs.push_back(fs[i]);
    rd.push_back(fd[i]);
  }
  if (rs.empty())
    return Layout(1, 0);
  return coalesce(tupleLayout(rs, rd));
}

static IntTuple sliceTuple(const IntTuple &crd, const IntTuple &trg) {
  if (crd.isTuple()) {
    if (!trg.isTuple() || crd.rank() != trg.rank())
      fail("slice: coordinate " + crd.str() + " does not match " + trg.str());
    std::vector<IntTuple> out;
    for (size_t i = 0; i < crd.rank(); ++i) {
      IntTuple part = sliceTuple(crd[i], trg[i]);
      for (const IntTuple &e : part.elements())
        out.push_back(e);
    }
    return IntTuple::tuple(std::move(out));
  }
  if (crd.isUnderscore())
    return IntTuple::tuple({trg});
  return IntTuple::tuple({});
}

static int64_t sliceOffset(const IntTuple &crd, const IntTuple &shape,
                           const IntTuple &stride) {
  if (crd.isUnderscore())
    return 0;
  if (crd.isTuple()) {
    int64_t r = 0;
    for (size_t i = 0; i < crd.rank(); ++i)
      r += sliceOffset(crd[i], shape[i], stride[i]);
    return r;
  }
  return indexToOffset(crd.value(), shape, stride);
}

Result<std::pair<Layout, int64_t>> sliceAndOffset(const IntTuple &coord,
                                                   const Layout &l) {
  return guard<std::pair<Layout, int64_t>>([&] {
    Layout s = makeUnchecked(sliceTuple(coord, l.shape()), sliceTuple(coord, l.stride()));
    return std::make_pair(s, sliceOffset(coord, l.shape(), l.stride()));
  });
}

Result<Layout> slice(const IntTuple &coord, const Layout &l) {
  auto r = sliceAndOffset(coord, l);
  if (!r)
    return Result<Layout>::failure(r.error());
  return r->first;
}

//===----------------------------------------------------------------------===//
// composition
//===----------------------------------------------------------------------===//

/// CuTe's rule (pycute 4.2): coalesce the left layout first, then require only
/// that strides and shapes divide where the walk crosses a mode.
static Layout composeModes(const Layout &a, int64_t restShape, int64_t restStride,
                           const Layout &b) {
  std::vector<int64_t> rs, rd;
  Layout flatA = coalesce(a);
  std::vector<int64_t> fs = flattenToVector(flatA.shape());
  std::vector<int64_t> fd = flattenToVector(flatA.stride());
  for (size_t i = 0; i + 1 < fs.size(); ++i) {
    int64_t cs = fs[i], cd = fd[i];
    if (!(floorMod(cs, restStride, "composition") == 0 ||
          floorMod(restStride, cs, "composition") == 0))
      fail("composition of " + a.str() + " with " + b.str() + ": stride " +
           std::to_string(restStride) + " and shape " + std::to_string(cs) +
           " of the coalesced left layout " + flatA.str() +
           " do not divide each other (divisibility condition)");
    int64_t newShape =
        std::min(std::max<int64_t>(1, floorDiv(cs, restStride, "composition")), restShape);
    if (newShape != 1) {
      rs.push_back(newShape);
      rd.push_back(mul(restStride, cd, "composition"));
    }
    restShape = floorDiv(restShape, newShape, "composition");
    restStride = -floorDiv(-restStride, cs, "composition"); // ceil division
  }
  if (restShape != 1 || rs.empty()) {
    rs.push_back(restShape);
    rd.push_back(mul(restStride, fd.back(), "composition"));
  }
  return fromFlat(rs, rd);
}

Layout detail::compositionT(const Layout &a, const Layout &b) {
  if (b.shape().isTuple()) {
    std::vector<Layout> modes;
    for (size_t i = 0; i < b.rank(); ++i)
      modes.push_back(compositionT(a, b[i]));
    return makeLayout(modes);
  }
  if (b.stride().value() == 0)
    return Layout(b.shape().value(), 0);
  return composeModes(a, b.shape().value(), b.stride().value(), b);
}

static void checkModeCount(const Layout &a, const Tiler &b, const char *op) {
  if (a.rank() < b.modes().size())
    fail(std::string(op) + ": tiler " + b.str() + " has " +
         std::to_string(b.modes().size()) + " modes but layout " + a.str() +
         " only " + std::to_string(a.rank()));
  if (b.modes().empty())
    fail(std::string(op) + ": empty tiler");
}

Layout detail::compositionT(const Layout &a, const Tiler &b) {
  if (b.isIdentity())
    return a;
  if (b.isLayout())
    return compositionT(a, b.layout());
  checkModeCount(a, b, "composition");
  std::vector<Layout> modes;
  for (size_t i = 0; i < a.rank(); ++i)
    modes.push_back(i < b.modes().size() ? compositionT(a[i], b.modes()[i]) : a[i]);
  return makeLayout(modes);
}

Result<Layout> composition(const Layout &a, const Layout &b) {
  return guard<Layout>([&] { return compositionT(a, b); });
}

Result<Layout> composition(const Layout &a, const Tiler &b) {
  return guard<Layout>([&] { return compositionT(a, b); });
}

//===----------------------------------------------------------------------===//
// complement and inverses
//===----------------------------------------------------------------------===//

Layout detail::complementT(const Layout &l, int64_t cotarget) {
  std::vector<int64_t> fs = flattenToVector(l.shape()), fd = flattenToVector(l.stride());
  std::vector<std::pair<int64_t, int64_t>> modes; // (stride, shape), sorted
  for (size_t i = 0; i < fs.size(); ++i)
    modes.emplace_back(fd[i], fs[i]);
  std::sort(modes.begin(), modes.end());
  std::vector<int64_t> rs, rd;
  int64_t current = 1;
  for (auto [stride, shape] : modes) {
    if (stride == 0 || shape == 1)
      continue;
    if (!(current <= mul(shape, stride, "complement")))
      fail("complement: layout " + l.str() + " has overlapping modes (sorted by "
           "stride, the mode of stride " + std::to_string(stride) +
           " starts inside the extent " + std::to_string(current) +
           " of the previous ones), so it has no complement");
    rs.push_back(floorDiv(stride, current, "complement"));
    rd.push_back(current);
    current = shape * stride;
  }
  int64_t roundedUp;
  if (__builtin_add_overflow(cotarget, current - 1, &roundedUp))
    fail("complement: cotarget " + std::to_string(cotarget) + " is too large");
  rs.push_back(floorDiv(roundedUp, current, "complement"));
  rd.push_back(current);
  return coalesce(tupleLayout(rs, rd));
}

Result<Layout> complement(const Layout &l, int64_t cotarget) {
  return guard<Layout>([&] { return complementT(l, cotarget); });
}

Layout rightInverse(const Layout &l) {
  std::vector<int64_t> fs = flattenToVector(l.shape()), fd = flattenToVector(l.stride());
  std::vector<std::tuple<int64_t, int64_t, int64_t>> modes; // (stride, shape, prefix)
  int64_t prefix = 1;
  for (size_t i = 0; i < fs.size(); ++i) {
    modes.emplace_back(fd[i], fs[i], prefix);
    prefix = wrapMul(prefix, fs[i]);
  }
  std::sort(modes.begin(), modes.end());
  std::vector<int64_t> rs, rd;
  int64_t current = 1;
  for (auto [stride, shape, pre] : modes) {
    if (shape == 1)
      continue;
    if (current != stride)
      break; // the contiguous image ends here
    rs.push_back(shape);
    rd.push_back(pre);
    current = wrapMul(shape, stride);
  }
  return coalesce(tupleLayout(rs, rd));
}

/// Prefixes the error of `r` with the operation the user asked for.
static Result<Layout> withContext(Result<Layout> r, const std::string &context) {
  if (r)
    return r;
  return Result<Layout>::failure(context + ": " + r.error());
}

Result<Layout> leftInverse(const Layout &l) {
  return withContext(guard<Layout>([&] {
    return rightInverse(makeLayout({l, complementT(l, 1)}));
  }), "left_inverse of " + l.str());
}

//===----------------------------------------------------------------------===//
// divides and products
//===----------------------------------------------------------------------===//

static Layout logicalDivideT(const Layout &a, const Tiler &b) {
  if (b.isIdentity())
    return a;
  if (b.isByMode()) {
    checkModeCount(a, b, "logical_divide");
    std::vector<Layout> modes;
    for (size_t i = 0; i < a.rank(); ++i)
      modes.push_back(i < b.modes().size() ? logicalDivideT(a[i], b.modes()[i]) : a[i]);
    return makeLayout(modes);
  }
  const Layout &t = b.layout();
  return compositionT(a, makeLayout({t, complementT(t, a.size())}));
}

static Layout logicalProductT(const Layout &a, const Tiler &b) {
  if (b.isIdentity())
    return a;
  if (b.isByMode()) {
    checkModeCount(a, b, "logical_product");
    std::vector<Layout> modes;
    for (size_t i = 0; i < a.rank(); ++i)
      modes.push_back(i < b.modes().size() ? logicalProductT(a[i], b.modes()[i]) : a[i]);
    return makeLayout(modes);
  }
  const Layout &t = b.layout();
  int64_t cot = mul(a.size(), cosizeT(t), "logical_product");
  return makeLayout({a, compositionT(complementT(a, cot), t)});
}

using Splitter = Layout (*)(const Layout &, const Tiler &);

/// Applies `split` by mode and gathers ((tiles...),(rests...)).
static Layout hierUnzip(Splitter split, const Layout &a, const Tiler &b) {
  if (b.isIdentity())
    return makeLayout({Layout(1, 0), a});
  if (b.isLayout())
    return split(a, b);
  checkModeCount(a, b, "divide/product");
  std::vector<Layout> parts;
  for (size_t i = 0; i < b.modes().size(); ++i)
    parts.push_back(hierUnzip(split, a[i], b.modes()[i]));
  std::vector<Layout> first, second;
  for (const Layout &p : parts)
    first.push_back(p[0]);
  for (const Layout &p : parts)
    second.push_back(p[1]);
  for (size_t i = b.modes().size(); i < a.rank(); ++i)
    second.push_back(a[i]);
  return makeLayout({makeLayout(first), makeLayout(second)});
}

static Layout tiledFrom(const Layout &zipped) {
  std::vector<Layout> modes{zipped[0]};
  Layout rest = zipped[1];
  for (size_t i = 0; i < rest.rank(); ++i)
    modes.push_back(rest[i]);
  return makeLayout(modes);
}

Result<Layout> logicalDivide(const Layout &a, const Tiler &b) {
  return withContext(
      guard<Layout>([&] { return logicalDivideT(a, b); }),
      "logical_divide of " + a.str() + " by " + b.str());
}
Result<Layout> zippedDivide(const Layout &a, const Tiler &b) {
  return withContext(
      guard<Layout>([&] { return hierUnzip(logicalDivideT, a, b); }),
      "zipped_divide of " + a.str() + " by " + b.str());
}
Result<Layout> tiledDivide(const Layout &a, const Tiler &b) {
  return withContext(
      guard<Layout>([&] { return tiledFrom(hierUnzip(logicalDivideT, a, b)); }),
      "tiled_divide of " + a.str() + " by " + b.str());
}
Result<Layout> logicalProduct(const Layout &a, const Tiler &b) {
  return withContext(
      guard<Layout>([&] { return logicalProductT(a, b); }),
      "logical_product of " + a.str() + " by " + b.str());
}
Result<Layout> zippedProduct(const Layout &a, const Tiler &b) {
  return withContext(
      guard<Layout>([&] { return hierUnzip(logicalProductT, a, b); }),
      "zipped_product of " + a.str() + " by " + b.str());
}
Result<Layout> tiledProduct(const Layout &a, const Tiler &b) {
  return withContext(
      guard<Layout>([&] { return tiledFrom(hierUnzip(logicalProductT, a, b)); }),
      "tiled_product of " + a.str() + " by " + b.str());
}

/// CuTe's append<R>: a leaf becomes a one-mode tuple, then 1:0 modes pad it.
static Layout appendToRank(const Layout &l, size_t r) {
  std::vector<Layout> modes;
  for (size_t i = 0; i < l.rank(); ++i)
    modes.push_back(l[i]);
  while (modes.size() < r)
    modes.push_back(Layout(1, 0));
  return makeLayout(modes);
}

static Layout zipProduct(const Layout &a, const Layout &b, bool raked) {
  size_t r = std::max(a.rank(), b.rank());
  Layout p = logicalProductT(appendToRank(a, r), Tiler(appendToRank(b, r)));
  std::vector<Layout> modes;
  for (size_t i = 0; i < r; ++i)
    modes.push_back(raked ? makeLayout({p[1][i], p[0][i]})
                          : makeLayout({p[0][i], p[1][i]}));
  return makeLayout(modes);
}

Result<Layout> blockedProduct(const Layout &a, const Layout &b) {
  return withContext(
      guard<Layout>([&] { return zipProduct(a, b, /*raked=*/false); }),
      "blocked_product of " + a.str() + " by " + b.str());
}
Result<Layout> rakedProduct(const Layout &a, const Layout &b) {
  return withContext(
      guard<Layout>([&] { return zipProduct(a, b, /*raked=*/true); }),
      "raked_product of " + a.str() + " by " + b.str());
}

} // namespace kiln::layout
