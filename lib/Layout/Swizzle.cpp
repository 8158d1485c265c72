//===- Swizzle.cpp - XOR swizzles and swizzled layouts --------------------===//

#include "kiln/Layout/Swizzle.h"

#include <algorithm>
#include <cctype>

namespace kiln::layout {

Result<Swizzle> Swizzle::tryCreate(int bits, int base, int shift) {
  if (bits < 0 || base < 0)
    return Result<Swizzle>::failure("Swizzle<" + std::to_string(bits) + "," +
                                    std::to_string(base) + "," + std::to_string(shift) +
                                    ">: bits and base must be non-negative");
  if ((shift < 0 ? -shift : shift) < bits)
    return Result<Swizzle>::failure(
        "Swizzle<" + std::to_string(bits) + "," + std::to_string(base) + "," +
        std::to_string(shift) + ">: |shift| must be at least bits, else the "
        "source and target bits overlap and the swizzle is not a bijection");
  if (bits + base + (shift < 0 ? -shift : shift) > 40)
    return Result<Swizzle>::failure("Swizzle: too many bits");
  return Swizzle{bits, base, shift};
}

int64_t Swizzle::yyyMask() const {
  int64_t bitMask = (int64_t(1) << bits) - 1;
  return bitMask << (base + std::max(0, shift));
}

int64_t Swizzle::zzzMask() const {
  int64_t bitMask = (int64_t(1) << bits) - 1;
  return bitMask << (base - std::min(0, shift));
}

int64_t Swizzle::operator()(int64_t offset) const {
  int64_t y = offset & yyyMask();
  return offset ^ (shift >= 0 ? (y >> shift) : (y << -shift));
}

std::string Swizzle::str() const {
  return "Sw<" + std::to_string(bits) + "," + std::to_string(base) + "," +
         std::to_string(shift) + ">";
}

int64_t SwizzledLayout::cosize() const {
  if (swizzle.isIdentity())
    return offset + layout.cosize();
  int64_t m = -1;
  for (int64_t i = 0; i < size(); ++i)
    m = std::max(m, (*this)(i));
  return m + 1;
}

std::string SwizzledLayout::str() const {
  std::string s = swizzle.str() + "o";
  if (offset != 0)
    s += std::to_string(offset) + "o";
  return s + layout.str();
}

Result<SwizzledLayout> parseSwizzledLayout(std::string_view text) {
  std::string s;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c)))
      s += c;
  if (s.rfind("Sw<", 0) != 0) {
    auto l = parseLayout(s);
    if (!l)
      return Result<SwizzledLayout>::failure(l.error());
    return SwizzledLayout{Swizzle{}, 0, *l};
  }
  size_t close = s.find('>');
  if (close == std::string::npos)
    return Result<SwizzledLayout>::failure("missing '>' in '" + s + "'");
  auto params = parseIntTuple("(" + s.substr(3, close - 3) + ")");
  if (!params || params->rank() != 3 || !(*params)[0].isInt() ||
      !(*params)[1].isInt() || !(*params)[2].isInt())
    return Result<SwizzledLayout>::failure("expected Sw<B,M,S> in '" + s + "'");
  auto sw = Swizzle::tryCreate(int((*params)[0].value()), int((*params)[1].value()),
                               int((*params)[2].value()));
  if (!sw)
    return Result<SwizzledLayout>::failure(sw.error());
  std::string rest = s.substr(close + 1);
  if (rest.empty() || rest[0] != 'o')
    return Result<SwizzledLayout>::failure("expected 'o' after " + sw->str());
  rest = rest.substr(1);
  int64_t offset = 0;
  size_t secondO = rest.find('o');
  if (secondO != std::string::npos) {
    auto off = parseIntTuple(rest.substr(0, secondO));
    if (!off || !off->isInt())
      return Result<SwizzledLayout>::failure("bad offset in '" + s + "'");
    offset = off->value();
    rest = rest.substr(secondO + 1);
  }
  auto l = parseLayout(rest);
  if (!l)
    return Result<SwizzledLayout>::failure(l.error());
  return SwizzledLayout{*sw, offset, *l};
}

Result<SwizzledLayout> composition(const SwizzledLayout &s, const Layout &b) {
  auto inner = composition(s.layout, b);
  if (!inner)
    return Result<SwizzledLayout>::failure(inner.error());
  return SwizzledLayout{s.swizzle, s.offset, *inner};
}

} // namespace kiln::layout
