//===- LinearLayout.cpp - Layouts as linear maps over GF(2) ---------------===//

#include "kiln/Layout/LinearLayout.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace kiln::layout {

namespace {

bool isPow2(int64_t x) { return x > 0 && (x & (x - 1)) == 0; }

int log2Exact(int64_t x) {
  int b = 0;
  while ((int64_t(1) << b) < x)
    ++b;
  return b;
}

/// Splits a flat value over dims (first dim in the low bits).
std::vector<int64_t> splitFlat(int64_t flat, const std::vector<NamedDim> &dims) {
  std::vector<int64_t> out;
  for (const auto &[name, size] : dims) {
    out.push_back(flat & (size - 1));
    flat >>= log2Exact(size);
  }
  return out;
}

int64_t joinFlat(const std::vector<int64_t> &values, const std::vector<NamedDim> &dims) {
  int64_t flat = 0;
  int shift = 0;
  for (size_t i = 0; i < dims.size(); ++i) {
    flat |= values[i] << shift;
    shift += log2Exact(dims[i].second);
  }
  return flat;
}

/// Re-expresses a flat value of `from` dims in the order of `to` dims, which
/// hold the same names and sizes.
int64_t reorderFlat(int64_t flat, const std::vector<NamedDim> &from,
                    const std::vector<NamedDim> &to) {
  std::vector<int64_t> v = splitFlat(flat, from), w(to.size(), 0);
  for (size_t i = 0; i < from.size(); ++i)
    for (size_t j = 0; j < to.size(); ++j)
      if (to[j].first == from[i].first)
        w[j] = v[i];
  return joinFlat(w, to);
}

bool sameDimSet(const std::vector<NamedDim> &a, const std::vector<NamedDim> &b) {
  std::vector<NamedDim> x = a, y = b;
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  return x == y;
}

std::string dimsStr(const std::vector<NamedDim> &dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? "," : "") + dims[i].first + ":" + std::to_string(dims[i].second);
  return s + "]";
}

/// Row-echelon basis of GF(2) vectors that remembers how each pivot is made
/// from the original columns, to solve A y = t.
class Eliminator {
public:
  /// Adds column `index` with value v; returns false if it is dependent.
  bool add(uint64_t v, int index) {
    uint64_t comb = uint64_t(1) << index;
    reduce(v, comb);
    if (v == 0)
      return false;
    int lead = 63 - __builtin_clzll(v);
    pivots_[lead] = {v, comb};
    return true;
  }
  /// A combination y of columns with A y == t, if any.
  bool solve(uint64_t t, uint64_t &y) const {
    y = 0;
    reduce(t, y);
    return t == 0;
  }

private:
  void reduce(uint64_t &v, uint64_t &comb) const {
    for (auto it = pivots_.rbegin(); it != pivots_.rend(); ++it)
      if (v >> it->first & 1) {
        v ^= it->second.first;
        comb ^= it->second.second;
      }
  }
  std::map<int, std::pair<uint64_t, uint64_t>> pivots_;
};

} // namespace

Result<LinearLayout> LinearLayout::tryCreate(BasesPerInput bases, std::vector<NamedDim> outDims) {
  using R = Result<LinearLayout>;
  LinearLayout l;
  std::vector<std::string> names;
  int totalOut = 0;
  for (const auto &[name, size] : outDims) {
    if (!isPow2(size))
      return R::failure("linear layout: output dim " + name + " has size " +
                        std::to_string(size) + ", not a power of two");
    names.push_back(name);
    totalOut += log2Exact(size);
  }
  if (std::set<std::string>(names.begin(), names.end()).size() != names.size())
    return R::failure("linear layout: an output dim name appears twice");
  std::set<std::string> inNames;
  int totalIn = 0;
  for (const auto &[name, dimBases] : bases) {
    if (!inNames.insert(name).second)
      return R::failure("linear layout: input dim " + name + " appears twice");
    for (const auto &b : dimBases) {
      if (b.size() != outDims.size())
        return R::failure("linear layout: a basis of input dim " + name + " has " +
                          std::to_string(b.size()) + " values for " +
                          std::to_string(outDims.size()) + " output dims");
      for (size_t j = 0; j < b.size(); ++j)
        if (b[j] < 0 || b[j] >= outDims[j].second)
          return R::failure("linear layout: basis value " + std::to_string(b[j]) +
                            " of input dim " + name + " is outside output dim " +
                            outDims[j].first + " of size " +
                            std::to_string(outDims[j].second));
    }
    totalIn += int(dimBases.size());
    l.inDims_.push_back({name, int64_t(1) << dimBases.size()});
    l.bases_.push_back(dimBases);
  }
  if (totalIn > 62 || totalOut > 62)
    return R::failure("linear layout: more than 62 bits");
  l.outDims_ = std::move(outDims);
  return l;
}

LinearLayout LinearLayout::identity1D(int64_t size, const std::string &inDim,
                                      const std::string &outDim) {
  std::vector<std::vector<int64_t>> b;
  for (int64_t v = 1; v < size; v <<= 1)
    b.push_back({v});
  // A size that is not a power of two is rounded up (the contract asks for one).
  return tryCreate({{inDim, b}}, {{outDim, int64_t(1) << b.size()}}).value();
}

LinearLayout LinearLayout::zeros1D(int64_t size, const std::string &inDim,
                                   const std::string &outDim) {
  std::vector<std::vector<int64_t>> b;
  for (int64_t v = 1; v < size; v <<= 1)
    b.push_back({0});
  return tryCreate({{inDim, b}}, {{outDim, 1}}).value();
}

int LinearLayout::inBits() const {
  int b = 0;
  for (const auto &d : inDims_)
    b += log2Exact(d.second);
  return b;
}

int LinearLayout::outBits() const {
  int b = 0;
  for (const auto &d : outDims_)
    b += log2Exact(d.second);
  return b;
}

int64_t LinearLayout::flatOut(const std::vector<int64_t> &perDim) const {
  return joinFlat(perDim, outDims_);
}

int64_t LinearLayout::applyFlat(int64_t in) const {
  int64_t out = 0;
  for (size_t i = 0; i < inDims_.size(); ++i)
    for (size_t k = 0; k < bases_[i].size(); ++k) {
      if (in & 1)
        out ^= flatOut(bases_[i][k]);
      in >>= 1;
    }
  return out;
}

std::vector<NamedValue> LinearLayout::apply(const std::vector<NamedValue> &in) const {
  std::vector<int64_t> values(inDims_.size(), 0);
  for (const auto &[name, v] : in)
    for (size_t i = 0; i < inDims_.size(); ++i)
      if (inDims_[i].first == name)
        values[i] = v;
  std::vector<int64_t> out = splitFlat(applyFlat(joinFlat(values, inDims_)), outDims_);
  std::vector<NamedValue> result;
  for (size_t j = 0; j < outDims_.size(); ++j)
    result.push_back({outDims_[j].first, out[j]});
  return result;
}

/// A layout from flat column images (one per input bit, in `outDims` order).
static LinearLayout fromColumns(const std::vector<NamedDim> &inDims,
                                const std::vector<int64_t> &columns,
                                const std::vector<NamedDim> &outDims) {
  LinearLayout::BasesPerInput bases;
  size_t k = 0;
  for (const auto &[name, size] : inDims) {
    std::vector<std::vector<int64_t>> b;
    for (int64_t v = 1; v < size; v <<= 1)
      b.push_back(splitFlat(columns[k++], outDims));
    bases.push_back({name, b});
  }
  return LinearLayout::tryCreate(bases, outDims).value();
}

Result<LinearLayout> LinearLayout::compose(const LinearLayout &outer) const {
  if (!sameDimSet(outDims_, outer.inDims_))
    return Result<LinearLayout>::failure("compose: output dims " + dimsStr(outDims_) +
                                         " do not match the input dims " +
                                         dimsStr(outer.inDims_) + " of the outer layout");
  std::vector<int64_t> columns;
  for (int k = 0; k < inBits(); ++k)
    columns.push_back(
        outer.applyFlat(reorderFlat(applyFlat(int64_t(1) << k), outDims_, outer.inDims_)));
  return fromColumns(inDims_, columns, outer.outDims_);
}

Result<LinearLayout> LinearLayout::invert() const {
  using R = Result<LinearLayout>;
  if (inBits() != outBits())
    return R::failure("invert: " + dimsStr(inDims_) + " -> " + dimsStr(outDims_) +
                      " is not square, so it has no inverse");
  Eliminator e;
  for (int k = 0; k < inBits(); ++k)
    if (!e.add(uint64_t(applyFlat(int64_t(1) << k)), k))
      return R::failure("invert: the layout is not injective (input bit " +
                        std::to_string(k) + " depends on lower ones)");
  std::vector<int64_t> columns;
  for (int j = 0; j < outBits(); ++j) {
    uint64_t y;
    e.solve(uint64_t(1) << j, y);
    columns.push_back(int64_t(y));
  }
  return fromColumns(outDims_, columns, inDims_);
}

Result<LinearLayout> LinearLayout::invertAndCompose(const LinearLayout &outer) const {
  using R = Result<LinearLayout>;
  if (!sameDimSet(outDims_, outer.outDims_))
    return R::failure("invertAndCompose: output dims " + dimsStr(outDims_) + " and " +
                      dimsStr(outer.outDims_) + " differ");
  Eliminator e;
  for (int k = 0; k < outer.inBits(); ++k)
    e.add(uint64_t(outer.applyFlat(int64_t(1) << k)), k);
  std::vector<int64_t> columns;
  for (int k = 0; k < inBits(); ++k) {
    int64_t t = reorderFlat(applyFlat(int64_t(1) << k), outDims_, outer.outDims_);
    uint64_t y;
    if (!e.solve(uint64_t(t), y))
      return R::failure("invertAndCompose: element " + std::to_string(t) +
                        " (input bit " + std::to_string(k) +
                        ") is not held anywhere by the outer layout");
    columns.push_back(int64_t(y));
  }
  return fromColumns(inDims_, columns, outer.inDims_);
}

LinearLayout LinearLayout::operator*(const LinearLayout &other) const {
  // Output dims: ours, then new ones of `other`; shared ones grow.
  std::vector<NamedDim> outDims = outDims_;
  std::map<std::string, int> shiftOfOther;
  for (const auto &[name, size] : other.outDims_) {
    auto it = std::find_if(outDims.begin(), outDims.end(),
                           [&](const NamedDim &d) { return d.first == name; });
    if (it == outDims.end()) {
      outDims.push_back({name, size});
      shiftOfOther[name] = 0;
    } else {
      shiftOfOther[name] = log2Exact(it->second);
      it->second *= size;
    }
  }
  auto expand = [&](const std::vector<int64_t> &b, const std::vector<NamedDim> &dims,
                    bool isOther) {
    std::vector<int64_t> v(outDims.size(), 0);
    for (size_t j = 0; j < dims.size(); ++j)
      for (size_t k = 0; k < outDims.size(); ++k)
        if (outDims[k].first == dims[j].first)
          v[k] = isOther ? b[j] << shiftOfOther[dims[j].first] : b[j];
    return v;
  };
  BasesPerInput bases;
  for (size_t i = 0; i < inDims_.size(); ++i) {
    std::vector<std::vector<int64_t>> b;
    for (const auto &x : bases_[i])
      b.push_back(expand(x, outDims_, false));
    bases.push_back({inDims_[i].first, b});
  }
  for (size_t i = 0; i < other.inDims_.size(); ++i) {
    auto it = std::find_if(bases.begin(), bases.end(),
                           [&](auto &p) { return p.first == other.inDims_[i].first; });
    if (it == bases.end()) {
      bases.push_back({other.inDims_[i].first, {}});
      it = bases.end() - 1;
    }
    for (const auto &x : other.bases_[i])
      it->second.push_back(expand(x, other.outDims_, true));
  }
  return tryCreate(bases, outDims).value();
}

bool LinearLayout::operator==(const LinearLayout &o) const {
  return inDims_ == o.inDims_ && outDims_ == o.outDims_ && bases_ == o.bases_;
}

std::string LinearLayout::str() const {
  std::ostringstream os;
  for (size_t i = 0; i < inDims_.size(); ++i) {
    os << (i ? " " : "") << inDims_[i].first << ":[";
    for (size_t k = 0; k < bases_[i].size(); ++k) {
      os << (k ? "," : "") << "[";
      for (size_t j = 0; j < bases_[i][k].size(); ++j)
        os << (j ? "," : "") << bases_[i][k][j];
      os << "]";
    }
    os << "]";
  }
  os << " -> " << dimsStr(outDims_);
  return os.str();
}

Result<LinearLayout> toLinearLayout(const SwizzledLayout &l, const std::vector<NamedDim> &inDims,
                                    const std::vector<NamedDim> &outDims) {
  using R = Result<LinearLayout>;
  int64_t inSize = 1, outSize = 1;
  for (const auto &[name, size] : inDims) {
    if (!isPow2(size))
      return R::failure("toLinearLayout: input dim " + name + " of size " +
                        std::to_string(size) + " is not a power of two");
    inSize *= size;
  }
  for (const auto &[name, size] : outDims) {
    if (!isPow2(size))
      return R::failure("toLinearLayout: output dim " + name + " of size " +
                        std::to_string(size) + " is not a power of two");
    outSize *= size;
  }
  if (inSize != l.size())
    return R::failure("toLinearLayout: input dims " + dimsStr(inDims) + " hold " +
                      std::to_string(inSize) + " indices but " + l.str() + " has size " +
                      std::to_string(l.size()));
  if (l.size() > (int64_t(1) << 22))
    return R::failure("toLinearLayout: layout too large to check exhaustively");
  std::vector<int64_t> columns;
  for (int64_t k = 1; k < inSize; k <<= 1)
    columns.push_back(l(k));
  for (int64_t i = 0; i < inSize; ++i) {
    int64_t want = 0;
    for (size_t k = 0; k < columns.size(); ++k)
      if (i >> k & 1)
        want ^= columns[k];
    int64_t got = l(i);
    if (got < 0 || got >= outSize)
      return R::failure("toLinearLayout: " + l.str() + " maps " + std::to_string(i) + " to " +
                        std::to_string(got) + ", outside the output dims " +
                        dimsStr(outDims));
    if (got != want)
      return R::failure("toLinearLayout: " + l.str() + " is not linear over GF(2): L(" +
                        std::to_string(i) + ") = " + std::to_string(got) +
                        " but the XOR of its bits' images is " + std::to_string(want));
  }
  return fromColumns(inDims, columns, outDims);
}

Result<LinearLayout> toLinearLayout(const Layout &l, const std::vector<NamedDim> &inDims,
                                    const std::vector<NamedDim> &outDims) {
  return toLinearLayout(SwizzledLayout{Swizzle{}, 0, l}, inDims, outDims);
}

} // namespace kiln::layout
