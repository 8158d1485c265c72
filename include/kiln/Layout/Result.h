//===- Result.h - Value-or-error result of fallible layout operations -----===//
//
// Layout operations report user errors (a non-divisible composition, an
// out-of-range cotarget) as values, never by asserting, so that the IR can turn
// them into diagnostics with a location.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LAYOUT_RESULT_H
#define KILN_LAYOUT_RESULT_H

#include <optional>
#include <string>
#include <utility>

namespace kiln::layout {

/// Either a value of type T or a human-readable error message.
///
///   Result<Layout> r = composition(a, b);
///   if (!r) report(r.error());
///   else use(*r);
template <typename T> class Result {
public:
  /// A successful result holding `value`.
  Result(T value) : value_(std::move(value)) {}

  /// A failed result carrying `message` (should say what and why).
  static Result failure(std::string message) {
    Result r;
    r.error_ = std::move(message);
    return r;
  }

  /// True when a value is held.
  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }

  /// The value. Requires ok().
  const T &value() const & { return *value_; }
  T &value() & { return *value_; }
  T &&value() && { return std::move(*value_); }
  const T &operator*() const & { return *value_; }
  T &operator*() & { return *value_; }
  const T *operator->() const { return &*value_; }

  /// The error message; empty when ok().
  const std::string &error() const { return error_; }

private:
  Result() = default;
  std::optional<T> value_;
  std::string error_;
};

} // namespace kiln::layout

#endif // KILN_LAYOUT_RESULT_H
