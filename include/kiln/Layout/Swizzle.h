//===- Swizzle.h - XOR swizzles and swizzled (composed) layouts -----------===//
//
// Swizzle<B,M,S> XORs B bits taken S positions above bit M into bits
// [M, M+B) of an offset: with M=3 (8-element chunks), B=3 and S=3 the chunk
// index within a row of 8 chunks is XORed with the row index mod 8, which
// spreads the rows of a 128-byte-strided f16 tile over all shared-memory banks.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LAYOUT_SWIZZLE_H
#define KILN_LAYOUT_SWIZZLE_H

#include "kiln/Layout/Layout.h"

#include <string>
#include <string_view>

namespace kiln::layout {

/// CuTe's Swizzle<B,M,S>: offset ^ ((offset & yyyMask) >> S) for S > 0
/// (shifted left for S < 0). Invariants: B >= 0, M >= 0, |S| >= B.
/// Example: Swizzle<3,3,3>(64*r + c) == 64*r + (c ^ ((r & 7) << 3)).
struct Swizzle {
  int bits = 0;
  int base = 0;
  int shift = 0;

  /// The swizzle, or an error when |shift| < bits or an argument is negative.
  static Result<Swizzle> tryCreate(int bits, int base, int shift);

  /// The identity swizzle Swizzle<0,0,0>? (any with bits == 0).
  bool isIdentity() const { return bits == 0; }

  /// The mask of the B source bits (above the target bits).
  int64_t yyyMask() const;
  /// The mask of the B target bits.
  int64_t zzzMask() const;

  /// The swizzled offset. A bijection on every aligned block of size().
  int64_t operator()(int64_t offset) const;

  /// 2^(B+M+|S|): the period of the swizzle pattern.
  int64_t size() const { return int64_t(1) << (bits + base + (shift < 0 ? -shift : shift)); }

  bool operator==(const Swizzle &o) const {
    return bits == o.bits && base == o.base && shift == o.shift;
  }

  /// `Sw<B,M,S>`.
  std::string str() const;
};

/// A swizzled layout: swizzle(offset + layout(c)), CuTe's
/// ComposedLayout<Swizzle, offset, Layout>.
struct SwizzledLayout {
  Swizzle swizzle;
  int64_t offset = 0;
  Layout layout;

  /// size() of the inner layout.
  int64_t size() const { return layout.size(); }
  /// One past the largest swizzled offset over the domain.
  int64_t cosize() const;
  /// swizzle(offset + layout(index)).
  int64_t operator()(int64_t index) const { return swizzle(offset + layout(index)); }

  /// `Sw<B,M,S>o(shape):(stride)`, with `oK` before the layout for an offset K.
  std::string str() const;
};

/// Parses `Sw<B,M,S>oL` or `Sw<B,M,S>oKoL` (K an offset), or a plain layout
/// (then the swizzle is the identity).
Result<SwizzledLayout> parseSwizzledLayout(std::string_view text);

/// S o B: the swizzled layout composed with a layout on the right (the
/// swizzle stays outermost). Fails when composition(S.layout, B) does.
Result<SwizzledLayout> composition(const SwizzledLayout &s, const Layout &b);

} // namespace kiln::layout

#endif // KILN_LAYOUT_SWIZZLE_H
