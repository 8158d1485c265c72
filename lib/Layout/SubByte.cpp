//===- SubByte.cpp - Bit-granular elements --------------------------------===//

#include "kiln/Layout/SubByte.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace kiln::layout {

Result<ElementType> ElementType::tryCreate(int bits) {
  if ((bits >= 1 && bits <= 8) || bits == 16 || bits == 32)
    return ElementType{bits};
  return Result<ElementType>::failure("element width " + std::to_string(bits) +
                                      " bits is not supported (1-8, 16 or 32)");
}

RegisterSlot locateInRegisters(ElementType type, int64_t index) {
  int64_t bit = index * type.bits;
  RegisterSlot s;
  s.reg = bit / 32;
  s.bitOffset = int(bit % 32);
  s.bitsTotal = type.bits;
  s.bitsInFirst = std::min(type.bits, 32 - s.bitOffset);
  return s;
}

Result<Layout> registerPackingLayout(ElementType type, int64_t elements) {
  if (!type.packsEvenly())
    return Result<Layout>::failure(std::to_string(type.bits) +
                                   "-bit elements straddle 32-bit registers; use "
                                   "locateInRegisters");
  int64_t per = type.elementsPerRegister();
  if (elements % per != 0 && elements > per)
    return Result<Layout>::failure(std::to_string(elements) + " elements do not fill whole "
                                   "registers of " + std::to_string(per));
  if (elements <= per)
    return Layout(elements, type.bits);
  return makeLayout({Layout(per, type.bits), Layout(elements / per, 32)});
}

Result<VectorAccess> widestVectorAccess(const Layout &values, ElementType type,
                                        int64_t maxBytes, int64_t baseAlignBytes) {
  using R = Result<VectorAccess>;
  if (values.size() == 0)
    return R::failure("widestVectorAccess: the thread holds no values");
  // The owned bit intervals, merged.
  std::vector<std::pair<int64_t, int64_t>> spans;
  for (int64_t i = 0; i < values.size(); ++i) {
    int64_t b = values(i) * type.bits;
    spans.push_back({b, b + type.bits});
  }
  std::sort(spans.begin(), spans.end());
  std::vector<std::pair<int64_t, int64_t>> merged;
  for (const auto &s : spans) {
    if (!merged.empty() && s.first < merged.back().second)
      return R::failure("widestVectorAccess: the thread holds element offset " +
                        std::to_string(s.first / type.bits) + " twice");
    if (!merged.empty() && s.first == merged.back().second)
      merged.back().second = s.second;
    else
      merged.push_back(s);
  }
  int64_t totalBits = int64_t(values.size()) * type.bits;
  int64_t limit = std::min(maxBytes, baseAlignBytes) * 8;
  for (int64_t w = limit; w >= 8; w /= 2) {
    bool ok = std::all_of(merged.begin(), merged.end(), [&](const auto &m) {
      return m.first % w == 0 && m.second % w == 0;
    });
    if (ok)
      return VectorAccess{w, totalBits / w};
  }
  return R::failure("widestVectorAccess: the thread's " + std::to_string(type.bits) +
                    "-bit elements do not cover a whole byte; stores would need a "
                    "read-modify-write");
}

} // namespace kiln::layout
