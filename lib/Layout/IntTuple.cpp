//===- IntTuple.cpp - Hierarchical integer tuples -------------------------===//

#include "kiln/Layout/IntTuple.h"

#include <algorithm>
#include <cctype>
#include <climits>

namespace kiln::layout {

IntTuple IntTuple::tuple(std::vector<IntTuple> elements) {
  IntTuple t;
  t.kind_ = Kind::Tuple;
  t.elements_ = std::move(elements);
  return t;
}

IntTuple IntTuple::underscore() {
  IntTuple t;
  t.kind_ = Kind::Underscore;
  return t;
}

int IntTuple::depth() const {
  if (!isTuple())
    return 0;
  int d = 0;
  for (const IntTuple &e : elements_)
    d = std::max(d, e.depth());
  return d + 1;
}

bool IntTuple::operator==(const IntTuple &o) const {
  if (kind_ != o.kind_)
    return false;
  if (kind_ == Kind::Int)
    return value_ == o.value_;
  return elements_ == o.elements_;
}

std::string IntTuple::str() const {
  switch (kind_) {
  case Kind::Int:
    return std::to_string(value_);
  case Kind::Underscore:
    return "_";
  case Kind::Tuple:
    break;
  }
  std::string s = "(";
  for (size_t i = 0; i < elements_.size(); ++i) {
    if (i)
      s += ',';
    s += elements_[i].str();
  }
  return s + ")";
}

bool IntTuple::hasUnderscore() const {
  if (isUnderscore())
    return true;
  if (isInt())
    return false;
  return std::any_of(elements_.begin(), elements_.end(),
                     [](const IntTuple &e) { return e.hasUnderscore(); });
}

namespace {
// Recursive-descent parser over the text with spaces removed.
struct TupleParser {
  std::string text;
  size_t pos = 0;
  std::string error;

  bool parse(IntTuple &out) {
    if (pos >= text.size())
      return setError("expected an integer, '_' or '(' at end of input");
    char c = text[pos];
    if (c == '(') {
      ++pos;
      std::vector<IntTuple> elems;
      if (pos < text.size() && text[pos] == ')') {
        ++pos;
        out = IntTuple::tuple({});
        return true;
      }
      while (true) {
        IntTuple e;
        if (!parse(e))
          return false;
        elems.push_back(std::move(e));
        if (pos >= text.size())
          return setError("missing ')'");
        if (text[pos] == ',') {
          ++pos;
          continue;
        }
        if (text[pos] == ')') {
          ++pos;
          break;
        }
        return setError(std::string("unexpected '") + text[pos] + "'");
      }
      out = IntTuple::tuple(std::move(elems));
      return true;
    }
    if (c == '_') {
      ++pos;
      out = IntTuple::underscore();
      return true;
    }
    bool negative = false;
    if (c == '-' || c == '+') {
      negative = c == '-';
      ++pos;
    }
    if (pos >= text.size() || !std::isdigit(static_cast<unsigned char>(text[pos])))
      return setError(pos < text.size()
                          ? std::string("unexpected '") + text[pos] + "'"
                          : std::string("expected a digit at end of input"));
    int64_t v = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      int d = text[pos] - '0';
      if (v > (INT64_MAX - d) / 10)
        return setError("integer too large");
      v = v * 10 + d;
      ++pos;
    }
    out = IntTuple(negative ? -v : v);
    return true;
  }

  bool setError(std::string msg) {
    if (error.empty())
      error = std::move(msg) + " at position " + std::to_string(pos);
    return false;
  }
};
} // namespace

Result<IntTuple> parseIntTuple(std::string_view text) {
  TupleParser p;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c)))
      p.text += c;
  IntTuple t;
  if (!p.parse(t))
    return Result<IntTuple>::failure("cannot parse '" + std::string(text) +
                                     "': " + p.error);
  if (p.pos != p.text.size())
    return Result<IntTuple>::failure("cannot parse '" + std::string(text) +
                                     "': trailing text '" + p.text.substr(p.pos) + "'");
  return t;
}

static void flattenInto(const IntTuple &t, std::vector<int64_t> &out) {
  if (t.isTuple()) {
    for (const IntTuple &e : t.elements())
      flattenInto(e, out);
  } else {
    out.push_back(t.value());
  }
}

std::vector<int64_t> flattenToVector(const IntTuple &t) {
  std::vector<int64_t> out;
  flattenInto(t, out);
  return out;
}

IntTuple flatten(const IntTuple &t) {
  std::vector<IntTuple> elems;
  for (int64_t v : flattenToVector(t))
    elems.emplace_back(v);
  return IntTuple::tuple(std::move(elems));
}

int64_t product(const IntTuple &t) {
  if (!t.isTuple())
    return t.value();
  int64_t p = 1;
  for (const IntTuple &e : t.elements())
    p = int64_t(uint64_t(p) * uint64_t(product(e))); // no UB past 2^63
  return p;
}

bool congruent(const IntTuple &a, const IntTuple &b) {
  if (a.isTuple() != b.isTuple())
    return false;
  if (!a.isTuple())
    return true;
  if (a.rank() != b.rank())
    return false;
  for (size_t i = 0; i < a.rank(); ++i)
    if (!congruent(a[i], b[i]))
      return false;
  return true;
}

IntTuple prefixProduct(const IntTuple &shape, int64_t init) {
  if (!shape.isTuple())
    return IntTuple(init);
  std::vector<IntTuple> out;
  for (const IntTuple &e : shape.elements()) {
    out.push_back(prefixProduct(e, init));
    init = int64_t(uint64_t(init) * uint64_t(product(e)));
  }
  return IntTuple::tuple(std::move(out));
}

} // namespace kiln::layout
