//===- SubByte.h - Bit-granular elements: packing and vector width --------===//
//
// Elements of 1-8, 16 or 32 bits are first-class. Offsets in layouts count
// elements; these helpers turn them into bits to answer "how wide can this
// thread's access be?" and "where does element i sit in 32-bit registers?"
// for any width, including the ones that straddle registers (3, 5, 6, 7).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LAYOUT_SUBBYTE_H
#define KILN_LAYOUT_SUBBYTE_H

#include "kiln/Layout/Layout.h"

#include <string>

namespace kiln::layout {

/// An element type by bit width. Invariant: bits in 1..8, 16 or 32.
struct ElementType {
  int bits = 16;
  /// The type, or an error for an unsupported width.
  static Result<ElementType> tryCreate(int bits);
  /// True when elements never straddle a 32-bit register (bits divides 32).
  bool packsEvenly() const { return 32 % bits == 0; }
  /// Whole elements per 32-bit register (32 / bits, rounded down).
  int elementsPerRegister() const { return 32 / bits; }
  /// `i4`, `i16`, ...
  std::string str() const { return "i" + std::to_string(bits); }
};

/// Where packed element `index` of a dense bit stream lies in 32-bit
/// registers: element i occupies bits [i*bits, (i+1)*bits) of the stream
/// (Tilus' layout for arbitrary widths).
struct RegisterSlot {
  int64_t reg = 0;    ///< register holding the element's low bit
  int bitOffset = 0;   ///< position of the low bit in that register
  int bitsInFirst = 0; ///< bits in `reg`; the rest are the low bits of reg+1
  int bitsTotal = 0;   ///< the element width
  bool straddles() const { return bitsInFirst < bitsTotal; }
};

/// The slot of element `index`. Example: for 3-bit elements, element 10
/// starts at bit 30 of register 0 and spills 1 bit into register 1.
RegisterSlot locateInRegisters(ElementType type, int64_t index);

/// For widths dividing 32, the packing as a CuTe layout from element index
/// to bit position in the register file (reg*32 + bit): for 4-bit elements,
/// (8,n/8):(4,32). Fails for widths that straddle registers.
Result<Layout> registerPackingLayout(ElementType type, int64_t elements);

/// The widest access one thread can make to its own elements.
struct VectorAccess {
  int64_t bits = 0;     ///< width of one access: 8..maxBytes*8, a power of two
  int64_t accesses = 0; ///< accesses needed to cover all the thread's values
  int64_t bytes() const { return bits / 8; }
};

/// The widest legal vector access for a thread whose values live at element
/// offsets values(0..size-1) of a buffer aligned to `baseAlignBytes`: the
/// largest power-of-two width W (8 <= W <= maxBytes*8 bits) such that the
/// bits the thread owns are a union of W-aligned W-bit chunks. Fails when no
/// whole byte is owned (a read-modify-write would be needed).
/// Example: 8 contiguous f16 -> 128 bits, 1 access; (4,2):(1,64) i4 values
/// -> 16 bits, 2 accesses.
Result<VectorAccess> widestVectorAccess(const Layout &values, ElementType type,
                                        int64_t maxBytes = 16, int64_t baseAlignBytes = 16);

/// A layout that knows its element width: offsets count elements, and
/// bitOffset() places them in memory (dense, no padding between elements).
struct TypedLayout {
  Layout layout;
  ElementType element;

  /// Bit address of element `index`: layout(index) * bits.
  int64_t bitOffset(int64_t index) const { return layout(index) * element.bits; }
  /// Bytes spanned by the codomain, rounded up to whole bytes.
  int64_t bytes() const { return (layout.cosize() * element.bits + 7) / 8; }
  /// widestVectorAccess() of this layout as one thread's values.
  Result<VectorAccess> widestAccess(int64_t maxBytes = 16) const {
    return widestVectorAccess(layout, element, maxBytes);
  }
  /// `i4 (8,4):(1,8)`.
  std::string str() const { return element.str() + " " + layout.str(); }
};

} // namespace kiln::layout

#endif // KILN_LAYOUT_SUBBYTE_H
