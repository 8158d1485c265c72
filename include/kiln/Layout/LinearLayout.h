//===- LinearLayout.h - Layouts as linear maps over GF(2) -----------------===//
//
// A linear layout maps named input dimensions (register, lane, warp, block)
// to named output dimensions (dim0, dim1, offset...), every size a power of
// two, by a matrix over GF(2): the image of an input is the XOR of the images
// ("bases") of its set bits. Power-of-two CuTe layouts whose strides are
// powers of two, with or without an XOR swizzle, are exactly such maps, and
// then compose/invert become Gaussian elimination:
//
//   // lane -> offset for 32 lanes reading 4 contiguous f32 each
//   LinearLayout l = toLinearLayout(parseLayout("(32,4):(4,1)").value(),
//                                   {{"lane", 32}, {"register", 4}},
//                                   {{"offset", 128}}).value();
//   l.apply({{"lane", 1}, {"register", 2}}) == {{"offset", 6}}
//
// Use these for conversion planning and conflict analysis on power-of-two
// tiles; use Layout for everything else (padded, non-power-of-two shapes).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LAYOUT_LINEARLAYOUT_H
#define KILN_LAYOUT_LINEARLAYOUT_H

#include "kiln/Layout/Swizzle.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kiln::layout {

/// A named dimension and its size (a power of two).
using NamedDim = std::pair<std::string, int64_t>;
/// A named coordinate value.
using NamedValue = std::pair<std::string, int64_t>;

/// A linear map over GF(2) between named, power-of-two-sized dimensions.
/// Invariants (checked by tryCreate): sizes are powers of two; dimension
/// names are unique; every basis has one value per output dimension, each
/// below that dimension's size.
class LinearLayout {
public:
  /// bases[i] = (input name, images of its bits, low bit first); each image
  /// has one value per output dimension, in the order of `outDims`. The
  /// input's size is 2^(number of bases).
  using BasesPerInput = std::vector<std::pair<std::string, std::vector<std::vector<int64_t>>>>;

  /// The layout, or the broken invariant.
  static Result<LinearLayout> tryCreate(BasesPerInput bases, std::vector<NamedDim> outDims);

  /// The identity from `inDim` to `outDim`, both of `size` (a power of two).
  static LinearLayout identity1D(int64_t size, const std::string &inDim,
                                 const std::string &outDim);
  /// Broadcast: every value of `inDim` maps to 0 of `outDim` (size 1 there).
  static LinearLayout zeros1D(int64_t size, const std::string &inDim, const std::string &outDim);

  const std::vector<NamedDim> &inDims() const { return inDims_; }
  const std::vector<NamedDim> &outDims() const { return outDims_; }
  /// Total number of input (output) bits.
  int inBits() const;
  int outBits() const;

  /// The image of one input: values for every input dim (missing ones are 0).
  /// Requires known names and values within the dimension sizes.
  std::vector<NamedValue> apply(const std::vector<NamedValue> &in) const;
  /// The image of a flat input index (input dims concatenated, first dim in
  /// the low bits) as a flat output index (same convention).
  int64_t applyFlat(int64_t in) const;

  /// `outer o this`: requires this->outDims() to equal outer.inDims() by name
  /// and size (order may differ).
  Result<LinearLayout> compose(const LinearLayout &outer) const;

  /// The inverse map; requires a bijection (square and invertible).
  Result<LinearLayout> invert() const;

  /// C with outer(C(x)) == this(x) for every x: how to find, in `outer`'s
  /// coordinates, the element this layout holds (e.g. which register of
  /// the destination holds each source register). Requires the same output
  /// dims (by name and size) and this's image within outer's; picks the
  /// solution with free variables 0 when outer is not injective.
  Result<LinearLayout> invertAndCompose(const LinearLayout &outer) const;

  /// Triton's product: inputs and outputs are unions; a shared input's bits
  /// of `other` come after this's; a shared output's values of `other` are
  /// shifted above this's. Fails on the same name as input of one and output
  /// of the other only if sizes are not powers of two (never, by invariant).
  LinearLayout operator*(const LinearLayout &other) const;

  /// Same dims (in order) and same bases.
  bool operator==(const LinearLayout &o) const;
  bool operator!=(const LinearLayout &o) const { return !(*this == o); }

  /// `lane:[[1],[2]] register:[[4]] -> offset:8`: bases per input dim.
  std::string str() const;

  /// The basis (image) of bit `bit` of input dim `i`, one value per out dim.
  const std::vector<int64_t> &basis(size_t inDim, int bit) const { return bases_[inDim][bit]; }

private:
  int64_t flatOut(const std::vector<int64_t> &perDim) const;
  std::vector<NamedDim> inDims_, outDims_;
  std::vector<std::vector<std::vector<int64_t>>> bases_; // [inDim][bit][outDim]
};

/// The exact linear layout of `l`: the flat index of `l` is split over
/// `inDims` (first dim in the low bits), the offset over `outDims` (first dim
/// in the low bits). Fails unless every size is a power of two,
/// product(inDims) == size(l), the offsets fit product(outDims), and
/// l(i) == XOR of l(2^k) over the set bits k of i at every index (checked
/// exhaustively up to 2^22 elements).
Result<LinearLayout> toLinearLayout(const SwizzledLayout &l, const std::vector<NamedDim> &inDims,
                                    const std::vector<NamedDim> &outDims);
Result<LinearLayout> toLinearLayout(const Layout &l, const std::vector<NamedDim> &inDims,
                                    const std::vector<NamedDim> &outDims);

} // namespace kiln::layout

#endif // KILN_LAYOUT_LINEARLAYOUT_H
