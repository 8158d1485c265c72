//===- Detail.h - Private helpers of the layout library -------------------===//
//
// The algorithms follow pycute's Python arithmetic (floor division, floor
// modulo, errors on division by zero). Internally a failed precondition throws
// AlgebraError; every public entry point catches it and returns a Result, so
// no exception ever leaves the library.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LIB_LAYOUT_DETAIL_H
#define KILN_LIB_LAYOUT_DETAIL_H

#include "kiln/Layout/Layout.h"

#include <string>

namespace kiln::layout::detail {

struct AlgebraError {
  std::string message;
};

[[noreturn]] inline void fail(std::string message) {
  throw AlgebraError{std::move(message)};
}

/// Python's a // b.
inline int64_t floorDiv(int64_t a, int64_t b, const char *where) {
  if (b == 0)
    fail(std::string(where) + ": division by zero (a mode of size 0?)");
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    --q;
  return q;
}

/// Python's a % b.
inline int64_t floorMod(int64_t a, int64_t b, const char *where) {
  if (b == 0)
    fail(std::string(where) + ": modulo by zero (a mode of size 0?)");
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0)))
    r += b;
  return r;
}

inline int64_t mul(int64_t a, int64_t b, const char *where) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    fail(std::string(where) + ": integer overflow");
  return r;
}

/// a*b modulo 2^64: for steps that cannot fail; only reachable past the
/// 62-bit bound that Layout::verify keeps on user layouts.
inline int64_t wrapMul(int64_t a, int64_t b) {
  return int64_t(uint64_t(a) * uint64_t(b));
}

/// Runs `f`, turning an AlgebraError into a failed Result.
template <typename T, typename F> Result<T> guard(F &&f) {
  try {
    return Result<T>(f());
  } catch (const AlgebraError &e) {
    return Result<T>::failure(e.message);
  }
}

/// Unwraps a Result inside the throwing world.
template <typename T> T unwrap(Result<T> r) {
  if (!r)
    fail(r.error());
  return std::move(r).value();
}

/// Builds a layout without re-verifying (callers keep the invariant).
Layout makeUnchecked(IntTuple shape, IntTuple stride);

/// Python-faithful crd2idx for an integer coordinate.
int64_t indexToOffset(int64_t idx, const IntTuple &shape, const IntTuple &stride);

/// Throwing versions of the public algebra (same semantics).
Layout compositionT(const Layout &a, const Layout &b);
Layout compositionT(const Layout &a, const Tiler &b);
Layout complementT(const Layout &l, int64_t cotarget);
int64_t cosizeT(const Layout &l);

} // namespace kiln::layout::detail

#endif // KILN_LIB_LAYOUT_DETAIL_H
