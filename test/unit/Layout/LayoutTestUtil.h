//===- LayoutTestUtil.h - Random layouts for property tests ---------------===//
#ifndef KILN_TEST_UNIT_LAYOUT_LAYOUTTESTUTIL_H
#define KILN_TEST_UNIT_LAYOUT_LAYOUTTESTUTIL_H

#include "kiln/Layout/Layout.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace kiln::layout::testing {

/// Seeded generator of small random layouts (hierarchical, any strides).
class LayoutGenerator {
public:
  explicit LayoutGenerator(unsigned seed) : rng_(seed) {}

  int64_t pick(std::initializer_list<int64_t> values) {
    std::vector<int64_t> v(values);
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng_)];
  }
  bool chance(double p) { return std::uniform_real_distribution<>(0, 1)(rng_) < p; }

  IntTuple shape(int depth, bool powerOfTwo) {
    if (depth == 0 || chance(0.35))
      return powerOfTwo ? pick({1, 2, 4, 8, 16}) : pick({1, 2, 3, 4, 5, 6, 8, 12, 16});
    int n = int(pick({1, 2, 2, 3}));
    std::vector<IntTuple> e;
    for (int i = 0; i < n; ++i)
      e.push_back(shape(depth - 1, powerOfTwo));
    return IntTuple::tuple(e);
  }

  /// A layout of size <= maxSize: compact, permuted-compact or arbitrary.
  Layout layout(int64_t maxSize = 4096, bool powerOfTwo = false) {
    IntTuple s;
    do
      s = shape(2, powerOfTwo);
    while (product(s) > maxSize);
    std::vector<int64_t> flat = flattenToVector(s);
    std::vector<int64_t> strides(flat.size());
    double kind = std::uniform_real_distribution<>(0, 1)(rng_);
    if (kind < 0.6) {
      std::vector<size_t> order(flat.size());
      std::iota(order.begin(), order.end(), 0);
      if (kind >= 0.3)
        std::shuffle(order.begin(), order.end(), rng_);
      int64_t acc = 1;
      for (size_t i : order) {
        strides[i] = acc;
        acc *= flat[i];
      }
    } else {
      for (auto &d : strides)
        d = powerOfTwo ? pick({0, 1, 2, 4, 8, 16, 32, 64}) : pick({0, 1, 1, 2, 3, 4, 8, 16, 32});
    }
    size_t k = 0;
    return Layout::tryCreate(s, rebuild(s, strides, k)).value();
  }

  std::mt19937 &rng() { return rng_; }

private:
  static IntTuple rebuild(const IntTuple &shape, const std::vector<int64_t> &v, size_t &k) {
    if (!shape.isTuple())
      return IntTuple(v[k++]);
    std::vector<IntTuple> e;
    for (const IntTuple &m : shape.elements())
      e.push_back(rebuild(m, v, k));
    return IntTuple::tuple(e);
  }
  std::mt19937 rng_;
};

/// True when l maps distinct indices to distinct offsets.
inline bool isInjective(const Layout &l) {
  std::vector<int64_t> seen;
  for (int64_t i = 0; i < l.size(); ++i)
    seen.push_back(l(i));
  std::sort(seen.begin(), seen.end());
  return std::adjacent_find(seen.begin(), seen.end()) == seen.end();
}

} // namespace kiln::layout::testing

#endif
