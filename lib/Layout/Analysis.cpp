//===- Analysis.cpp - Bank conflicts, swizzle search, conversion plans ----===//

#include "kiln/Layout/Analysis.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

namespace kiln::layout {

Result<BankConflictReport> analyzeBankConflicts(const SwizzledLayout &smem,
                                                const SharedMemoryAccess &access,
                                                int64_t threadsPerWarp) {
  using R = Result<BankConflictReport>;
  const Layout &tv = access.threadValue;
  if (tv.rank() != 2)
    return R::failure("bank conflicts: the access layout " + tv.str() +
                      " must be (threads, values)");
  int64_t threads = tv[0].size(), values = tv[1].size();
  int64_t vpa = access.valuesPerAccess;
  if (vpa <= 0 || values % vpa != 0)
    return R::failure("bank conflicts: " + std::to_string(values) +
                      " values per thread are not a multiple of " + std::to_string(vpa));
  int64_t accessBits = vpa * access.elementBits;
  if (accessBits % 8 != 0 || (accessBits / 8 & (accessBits / 8 - 1)) != 0 || accessBits > 128)
    return R::failure("bank conflicts: a " + std::to_string(accessBits) +
                      "-bit access is not 1, 2, 4, 8 or 16 bytes");
  int64_t accessBytes = accessBits / 8;
  int64_t perPhase = accessBytes == 16 ? 8 : accessBytes == 8 ? 16 : 32;
  perPhase = std::min(perPhase, threadsPerWarp);

  BankConflictReport report;
  for (int64_t warp = 0; warp * threadsPerWarp < threads; ++warp)
    for (int64_t a = 0; a < values / vpa; ++a) {
      ++report.requests;
      for (int64_t p0 = warp * threadsPerWarp;
           p0 < std::min(threads, (warp + 1) * threadsPerWarp); p0 += perPhase) {
        std::map<int64_t, std::set<int64_t>> wordsPerBank;
        for (int64_t t = p0; t < std::min({threads, p0 + perPhase, (warp + 1) * threadsPerWarp});
             ++t) {
          int64_t first = smem(tv(t + threads * (a * vpa)));
          for (int64_t j = 1; j < vpa; ++j) {
            int64_t off = smem(tv(t + threads * (a * vpa + j)));
            if (off != first + j)
              return R::failure("bank conflicts: thread " + std::to_string(t) +
                                "'s vector access " + std::to_string(a) +
                                " is not contiguous in " + smem.str());
          }
          int64_t byte = first * access.elementBits / 8;
          for (int64_t w = byte / 4; w <= (byte + std::max<int64_t>(accessBytes, 1) - 1) / 4; ++w)
            wordsPerBank[w % 32].insert(w);
        }
        int64_t worst = 1;
        for (const auto &[bank, words] : wordsPerBank)
          worst = std::max<int64_t>(worst, int64_t(words.size()));
        report.wavefronts += worst;
        report.ideal += 1;
      }
    }
  return report;
}

Result<SwizzleChoice> swizzleSearch(const Layout &smem, const SharedMemoryAccess &writer,
                                    const SharedMemoryAccess &reader) {
  using R = Result<SwizzleChoice>;
  auto cost = [&](const Swizzle &s) -> Result<int64_t> {
    SwizzledLayout l{s, 0, smem};
    auto w = analyzeBankConflicts(l, writer);
    if (!w)
      return Result<int64_t>::failure(w.error());
    auto r = analyzeBankConflicts(l, reader);
    if (!r)
      return Result<int64_t>::failure(r.error());
    return w->wavefronts + r->wavefronts;
  };
  auto base = cost(Swizzle{});
  if (!base)
    return R::failure(base.error());
  SwizzleChoice best{Swizzle{}, *base, *base};
  int64_t span = smem.cosize();
  for (int b = 1; b <= 4; ++b)
    for (int m = 0; m <= 6; ++m)
      for (int s = b; s <= 7; ++s) {
        Swizzle sw{b, m, s};
        if (sw.size() > 2 * std::max<int64_t>(span, 1))
          continue; // the swizzle would move elements outside the buffer
        auto c = cost(sw);
        if (!c)
          continue;
        if (*c < best.wavefronts)
          best = SwizzleChoice{sw, *c, *base};
      }
  return best;
}

const char *toString(ConversionKind kind) {
  switch (kind) {
  case ConversionKind::None:
    return "none";
  case ConversionKind::RegisterPermutation:
    return "register permutation";
  case ConversionKind::WarpShuffle:
    return "warp shuffle";
  case ConversionKind::SharedMemory:
    return "shared memory";
  }
  return "?";
}

Result<ConversionPlan> planConversion(const Layout &src, const Layout &dst,
                                      int64_t threadsPerWarp) {
  using R = Result<ConversionPlan>;
  if (src.rank() != 2 || dst.rank() != 2)
    return R::failure("planConversion: layouts must be (threads, values), got " + src.str() +
                      " and " + dst.str());
  int64_t st = src[0].size(), sv = src[1].size();
  int64_t dt = dst[0].size(), dv = dst[1].size();
  // Who holds each tile element in src: (thread, value) pairs.
  std::unordered_map<int64_t, std::vector<std::pair<int64_t, int64_t>>> holders;
  for (int64_t v = 0; v < sv; ++v)
    for (int64_t t = 0; t < st; ++t)
      holders[src(t + st * v)].push_back({t, v});

  ConversionPlan plan;
  bool sameThread = true, sameWarp = true, identical = st == dt && sv == dv;
  plan.sourceValue.assign(dt, std::vector<int64_t>(dv, -1));
  for (int64_t t = 0; t < dt; ++t)
    for (int64_t v = 0; v < dv; ++v) {
      int64_t e = dst(t + dt * v);
      auto it = holders.find(e);
      if (it == holders.end())
        return R::failure("planConversion: element " + std::to_string(e) + " needed by (" +
                          std::to_string(t) + "," + std::to_string(v) +
                          ") of the destination is held by no thread of the source");
      const auto &hs = it->second;
      bool inPlace = std::any_of(hs.begin(), hs.end(),
                                 [&](auto &h) { return h.first == t && h.second == v; });
      auto own = std::find_if(hs.begin(), hs.end(), [&](auto &h) { return h.first == t; });
      bool inWarp = std::any_of(hs.begin(), hs.end(), [&](auto &h) {
        return h.first / threadsPerWarp == t / threadsPerWarp;
      });
      identical = identical && inPlace;
      if (!inPlace)
        ++plan.elementsMoved;
      if (own != hs.end())
        plan.sourceValue[t][v] = inPlace ? v : own->second;
      else
        sameThread = false;
      sameWarp = sameWarp && inWarp;
    }
  if (identical)
    plan.kind = ConversionKind::None;
  else if (sameThread)
    plan.kind = ConversionKind::RegisterPermutation;
  else if (sameWarp)
    plan.kind = ConversionKind::WarpShuffle;
  else
    plan.kind = ConversionKind::SharedMemory;
  if (plan.kind != ConversionKind::RegisterPermutation && plan.kind != ConversionKind::None)
    plan.sourceValue.clear();
  plan.summary = std::string(toString(plan.kind)) + ": " + std::to_string(plan.elementsMoved) +
                 " of " + std::to_string(dt * dv) + " (thread, value) pairs move";
  return plan;
}

} // namespace kiln::layout
