//===- Layout.h - CuTe layouts and their algebra --------------------------===//
//
// The layout algebra of Kiln, with the semantics of CuTe's reference
// implementation (pycute). A short tutorial:
//
// A *layout* is a function from coordinates to offsets, written shape:stride.
//
//   (4,8):(1,4)     4x8, column-major: (i,j) -> i*1 + j*4
//   (4,8):(8,1)     4x8, row-major:    (i,j) -> i*8 + j*1
//   ((2,4),8):((1,2),8)  a hierarchical first mode of 2x4
//
// Every layout also maps a flat *index* 0..size-1: the index is split into a
// coordinate column-major (leftmost mode fastest), so (4,8):(8,1) maps
// index 5 = (1,1) to 9. size() is the product of the shape; cosize() is one
// past the largest offset.
//
// The algebra builds new layouts from old ones:
//
//   coalesce(L)           same function, fewest modes:  (2,4):(1,2) -> 8:1
//   composition(A, B)     R(c) = A(B(c)); B picks elements of A
//   complement(L, N)      the layout that "fills the holes" of L up to N:
//                         complement(4:2, 16) = (2,2):(1,8)
//   logicalDivide(A, B)   splits A into tiles of B: (tile, rest)
//   logicalProduct(A, B)  repeats A according to B: (A, rest)
//   rightInverse(L)       R with L(R(i)) == i for i < size(R)
//   leftInverse(L)        R with R(L(i)) == i for i < size(L)
//
// Fallible operations return Result<Layout>; nothing here asserts on bad
// input. A *tiler* (Tiler) is a layout, `_` (leave the mode alone) or a tuple
// of tilers applied mode by mode: logicalDivide((8,16):(1,8), (2:1,4:1)).
//
// Swizzles (Swizzle.h) compose with layouts to describe XOR-permuted shared
// memory; linear layouts (LinearLayout.h) answer GF(2) questions about
// power-of-two layouts; Atoms.h has the thread-value layouts of MMA atoms.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LAYOUT_LAYOUT_H
#define KILN_LAYOUT_LAYOUT_H

#include "kiln/Layout/IntTuple.h"
#include "kiln/Layout/Result.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::layout {

/// A shape:stride function from coordinates (or flat indices) to offsets.
/// Invariant (see verify()): shape and stride are congruent IntTuples with no
/// `_` and non-negative shape leaves.
class Layout {
public:
  /// The trivial layout 1:0.
  Layout() : shape_(1), stride_(0) {}

  /// A rank-1 layout shape:stride. Requires shape >= 0.
  Layout(int64_t shape, int64_t stride) : shape_(shape), stride_(stride) {}

  /// A compact column-major layout of `shape`: (4,8) -> (4,8):(1,4).
  /// Requires `shape` free of `_` and negative leaves.
  explicit Layout(IntTuple shape);

  /// The layout shape:stride, or an error when they are not congruent.
  /// Example: tryCreate((4,8), (1,4)) is (4,8):(1,4); tryCreate((4,8), 1)
  /// fails.
  static Result<Layout> tryCreate(IntTuple shape, IntTuple stride);

  /// Why shape:stride is not a valid layout, or "" when it is.
  static std::string verify(const IntTuple &shape, const IntTuple &stride);

  const IntTuple &shape() const { return shape_; }
  const IntTuple &stride() const { return stride_; }

  /// Number of top-level modes (1 for an integer shape).
  size_t rank() const { return shape_.rank(); }
  /// Nesting depth of the shape (0 for an integer shape).
  int depth() const { return shape_.depth(); }
  /// Size of the domain: the product of the shape.
  int64_t size() const { return product(shape_); }
  /// Size of the codomain: L(size-1)+1; 0 for an empty layout.
  int64_t cosize() const;

  /// Mode `i` as a layout. Requires i < rank().
  Layout operator[](size_t i) const { return Layout(shape_[i], stride_[i], 0); }

  /// L(index): splits `index` column-major over the shape and returns the
  /// offset. Requires 0 <= index < size() for a meaningful answer.
  /// Example: ((2,4),8):((1,2),8) maps 9 to 1 + 8 = 9.
  int64_t operator()(int64_t index) const;

  /// L(coord) for a coordinate congruent to (a prefix-compatible refinement
  /// of) the shape, as in CuTe: an integer in place of a tuple mode is split
  /// over that mode. Fails on a coordinate that does not match.
  Result<int64_t> evaluate(const IntTuple &coord) const;

  /// Identical shape and stride (not merely the same function).
  bool operator==(const Layout &o) const {
    return shape_ == o.shape_ && stride_ == o.stride_;
  }
  bool operator!=(const Layout &o) const { return !(*this == o); }

  /// CuTe notation without spaces: `((2,4),8):((1,2),8)`.
  std::string str() const { return shape_.str() + ":" + stride_.str(); }

private:
  Layout(IntTuple shape, IntTuple stride, int) // unchecked
      : shape_(std::move(shape)), stride_(std::move(stride)) {}
  friend Layout makeLayout(const std::vector<Layout> &modes);
  friend struct LayoutAccess;
  IntTuple shape_;
  IntTuple stride_;
};

/// Parses `shape:stride` (or a bare shape, giving compact column-major
/// strides). Examples: "(4,8):(1,4)", "8:1", "(5):(1)", "(4,8)".
Result<Layout> parseLayout(std::string_view text);

/// The layout whose i-th mode is modes[i] (always a tuple, even for one mode).
Layout makeLayout(const std::vector<Layout> &modes);

/// True when `a` and `b` have the same size and a(i) == b(i) for every index.
bool sameFunction(const Layout &a, const Layout &b);

/// A tiler: `_` (identity), a layout, or a tuple of tilers applied by mode.
class Tiler {
public:
  /// A whole-layout tiler.
  Tiler(Layout layout) : kind_(Kind::Layout), layout_(std::move(layout)) {}
  /// `_`: leaves the corresponding mode unchanged.
  static Tiler identity();
  /// A tuple of tilers, the i-th applied to mode i.
  static Tiler byMode(std::vector<Tiler> modes);

  bool isIdentity() const { return kind_ == Kind::Identity; }
  bool isLayout() const { return kind_ == Kind::Layout; }
  bool isByMode() const { return kind_ == Kind::ByMode; }
  /// Requires isLayout().
  const Layout &layout() const { return layout_; }
  /// Requires isByMode().
  const std::vector<Tiler> &modes() const { return modes_; }

  /// `_`, a layout, or `(t0,t1,...)`.
  std::string str() const;

private:
  enum class Kind { Identity, Layout, ByMode };
  explicit Tiler(Kind k) : kind_(k) {}
  Kind kind_;
  Layout layout_;
  std::vector<Tiler> modes_;
};

/// Parses a tiler: `_`, an integer n (the layout n:1), a layout `S:D`, or a
/// tuple of tilers `(T0,T1,...)` with no top-level colon. A tuple without any
/// colon, like `(2,4)`, is the by-mode tiler (2:1,4:1) as in CuTe.
Result<Tiler> parseTiler(std::string_view text);

/// Same function with the fewest modes, flattened; an integer shape when one
/// mode remains. coalesce(((2,4),8):((1,2),8)) == 64:1.
Layout coalesce(const Layout &l);

/// coalesce() applied to each of the first profile.rank() modes separately
/// (a leaf in `profile` coalesces that mode completely). Requires
/// profile.rank() <= l.rank().
Result<Layout> coalesce(const Layout &l, const IntTuple &profile);

/// Removes stride-0 and size-1 modes, then coalesces; 1:0 when nothing is left.
/// filter((4,2):(0,1)) == 2:1.
Layout filter(const Layout &l);

/// The sublayout of the modes marked `_` in `coord`: slice((_,2), (4,8):(1,4))
/// is (4):(1). Fails when `coord` does not match the shape.
Result<Layout> slice(const IntTuple &coord, const Layout &l);

/// slice() plus the offset of the fixed coordinates: for (_,2) and
/// (4,8):(1,4) that is ((4):(1), 8).
Result<std::pair<Layout, int64_t>> sliceAndOffset(const IntTuple &coord,
                                                   const Layout &l);

/// R = A o B with R(c) == A(B(c)) for every coordinate c of B, shaped like B.
/// CuTe's rule (pycute 4.2): A is coalesced first, and B's stride must divide
/// (or be divided by) each mode of coalesced A that it walks across; otherwise
/// an error says which numbers do not divide. Like CuTe, a B that runs past
/// A's last mode extends it, and where shapes do not divide the result may be
/// smaller than B.
/// Example: composition((4,8):(8,1), 8:4) == 8:1 (every 4th element of a
/// row-major 4x8 tile, walked column-major, is the contiguous 0..7).
Result<Layout> composition(const Layout &a, const Layout &b);
/// By-mode composition: mode i of A is composed with tiler mode i, remaining
/// modes of A are kept. Requires rank(A) >= rank(tiler).
Result<Layout> composition(const Layout &a, const Tiler &b);

/// The complement of L with respect to `cotarget`: a layout C, ordered by
/// stride, such that (L, C) covers 0..cotarget-1 without overlap when L is
/// injective. complement((2,2):(1,6), 24) == (3,2):(2,12).
/// Fails when the modes of L, sorted by stride, overlap (a mode starts inside
/// the extent of the smaller ones).
Result<Layout> complement(const Layout &l, int64_t cotarget = 1);

/// The largest R with L(R(i)) == i for i < size(R). Never fails;
/// rightInverse of a layout with no stride-1 mode is 1:0.
/// rightInverse((4,8):(8,1)) == (8,4):(4,1).
Layout rightInverse(const Layout &l);

/// rightInverse((L, complement(L))): R(L(i)) == i for every i < size(L)
/// whenever the complement fills every hole of L (e.g. compact layouts in any
/// mode order). Fails when complement(L) does.
Result<Layout> leftInverse(const Layout &l);

/// composition(A, (B, complement(B, size(A)))): mode 0 is the tile, mode 1
/// iterates over tiles. By mode for tuple tilers.
Result<Layout> logicalDivide(const Layout &a, const Tiler &b);
/// Like logicalDivide, but gathers all tile modes into mode 0 and all rest
/// modes into mode 1: ((tile...),(rest...)).
Result<Layout> zippedDivide(const Layout &a, const Tiler &b);
/// Like zippedDivide, but the rest modes become top-level modes:
/// ((tile...),rest0,rest1,...).
Result<Layout> tiledDivide(const Layout &a, const Tiler &b);

/// (A, complement(A, size(A)*cosize(B)) o B): B copies of A. By mode for
/// tuple tilers.
Result<Layout> logicalProduct(const Layout &a, const Tiler &b);
/// Like logicalProduct with tuple tilers, modes gathered as in zippedDivide.
Result<Layout> zippedProduct(const Layout &a, const Tiler &b);
/// Like zippedProduct with the rest modes at top level.
Result<Layout> tiledProduct(const Layout &a, const Tiler &b);
/// Mode-wise (A_i, B'_i) after a logical product of A and B padded to the
/// same rank: tiles of A laid out "blocked" by B. blockedProduct((2,2):(1,2),
/// (3,4):(1,3)) has shape ((2,3),(2,4)).
Result<Layout> blockedProduct(const Layout &a, const Layout &b);
/// Mode-wise (B'_i, A_i): elements of A "raked" (interleaved) across B.
Result<Layout> rakedProduct(const Layout &a, const Layout &b);

} // namespace kiln::layout

#endif // KILN_LAYOUT_LAYOUT_H
