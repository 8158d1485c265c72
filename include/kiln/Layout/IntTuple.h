//===- IntTuple.h - Hierarchical integer tuples (CuTe shapes and strides) -===//
//
// An IntTuple is an integer or a (possibly empty, possibly nested) tuple of
// IntTuples: `8`, `(4,8)`, `((2,4),8)`, `(5)`. Shapes, strides and coordinates
// of layouts are IntTuples. A one-element tuple `(5)` is distinct from `5`.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LAYOUT_INTTUPLE_H
#define KILN_LAYOUT_INTTUPLE_H

#include "kiln/Layout/Result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::layout {

/// An integer, a tuple of IntTuples, or the slice marker `_` (only meaningful
/// inside coordinates passed to slice()).
class IntTuple {
public:
  /// The integer leaf `value`.
  IntTuple(int64_t value = 0) : kind_(Kind::Int), value_(value) {}

  /// The tuple of `elements` (any count, including zero and one).
  static IntTuple tuple(std::vector<IntTuple> elements);

  /// The slice marker `_`: "keep this mode" in a slicing coordinate.
  static IntTuple underscore();

  bool isInt() const { return kind_ == Kind::Int; }
  bool isTuple() const { return kind_ == Kind::Tuple; }
  bool isUnderscore() const { return kind_ == Kind::Underscore; }

  /// The integer value. Requires isInt().
  int64_t value() const { return value_; }

  /// Number of top-level modes: the element count of a tuple, 1 for a leaf.
  size_t rank() const { return isTuple() ? elements_.size() : 1; }

  /// Nesting depth: 0 for a leaf, 1 + max depth of the elements for a tuple.
  int depth() const;

  /// The elements. Requires isTuple().
  const std::vector<IntTuple> &elements() const { return elements_; }

  /// Mode `i`: element `i` of a tuple; the leaf itself when i == 0 on a leaf.
  /// Requires i < rank().
  const IntTuple &operator[](size_t i) const {
    return isTuple() ? elements_[i] : *this;
  }

  /// Structural equality (`5` != `(5)`).
  bool operator==(const IntTuple &other) const;
  bool operator!=(const IntTuple &other) const { return !(*this == other); }

  /// CuTe notation without spaces: `((2,4),8)`, `(5)`, `8`, `_`.
  std::string str() const;

  /// True when the tuple contains `_` anywhere.
  bool hasUnderscore() const;

private:
  enum class Kind { Int, Tuple, Underscore };
  Kind kind_;
  int64_t value_ = 0;
  std::vector<IntTuple> elements_;
};

/// Parses CuTe notation: integers, `(a,b,...)`, `()`, `_`. Spaces are ignored.
/// Example: parseIntTuple("((2,4),8)") has rank 2 and depth 2.
Result<IntTuple> parseIntTuple(std::string_view text);

/// The leaves in order: flatten(((2,4),8)) == (2,4,8). A leaf flattens to
/// itself wrapped in nothing: flattenToVector(5) == {5}.
std::vector<int64_t> flattenToVector(const IntTuple &t);

/// The tuple of the leaves of `t`, always a tuple (`5` becomes `(5)`).
IntTuple flatten(const IntTuple &t);

/// Product of the leaves (1 for an empty tuple).
int64_t product(const IntTuple &t);

/// True when `a` and `b` have the same tuple structure (leaves may differ).
bool congruent(const IntTuple &a, const IntTuple &b);

/// Exclusive prefix product congruent to `shape` (compact column-major
/// strides): prefixProduct((4,(2,3))) == (1,(4,8)).
IntTuple prefixProduct(const IntTuple &shape, int64_t init = 1);

} // namespace kiln::layout

#endif // KILN_LAYOUT_INTTUPLE_H
