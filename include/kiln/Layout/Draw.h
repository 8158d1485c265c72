//===- Draw.h - Text and SVG pictures of layouts --------------------------===//
//
// Pictures a person can check: a rank-2 layout as a grid of offsets, and a
// thread-value layout as the tile with the owner (thread, value) of each
// element. Used by `kiln-layout draw` and docs/layouts.md.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LAYOUT_DRAW_H
#define KILN_LAYOUT_DRAW_H

#include "kiln/Layout/Swizzle.h"

#include <string>

namespace kiln::layout {

/// A grid with mode 0 down and mode 1 across, cell (i,j) = L(i,j); a rank-1
/// layout is drawn as one row. Fails for rank > 2 (coalesce or slice first).
///
///   (2,3):(3,1)      0   1   2
///                +---+---+---+
///             0  | 0 | 1 | 2 |
///             1  | 3 | 4 | 5 |
Result<std::string> drawGrid(const SwizzledLayout &l);

/// The M x N tile (column-major index m + n*M) with each element labelled
/// by the `T<thread>V<value>` that holds it under the thread-value layout `tv`
/// (mode 0 threads, mode 1 values); elements held by several threads show
/// the first. Fails unless tv has rank 2 and maps into [0, M*N).
Result<std::string> drawThreadValue(const Layout &tv, int64_t rows, int64_t cols);

/// SVG versions of the two pictures: cells coloured by offset (grid) or by
/// thread (thread-value).
Result<std::string> drawGridSvg(const SwizzledLayout &l);
Result<std::string> drawThreadValueSvg(const Layout &tv, int64_t rows, int64_t cols);

} // namespace kiln::layout

#endif // KILN_LAYOUT_DRAW_H
