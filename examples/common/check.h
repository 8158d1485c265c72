// check.h: shared helpers of the example host programs: seeded random inputs, bf16
// rounding, poisoned outputs and relative-error checks against a float64 reference.
#ifndef KILN_EXAMPLES_CHECK_H
#define KILN_EXAMPLES_CHECK_H

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

namespace example {

inline std::vector<float> randomFloats(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto &x : v)
    x = dist(rng);
  return v;
}

/// float -> bf16 bits, rounding to nearest even (NaN stays NaN).
inline uint16_t toBF16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffff) > 0x7f800000)
    return (uint16_t)((u >> 16) | 0x40);
  u += 0x7fff + ((u >> 16) & 1);
  return (uint16_t)(u >> 16);
}

inline float fromBF16(uint16_t b) {
  uint32_t u = (uint32_t)b << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// n random bf16 values in [-1, 1) (as bits).
inline std::vector<uint16_t> randomBF16(size_t n, uint32_t seed) {
  std::vector<uint16_t> out(n);
  std::vector<float> f = randomFloats(n, seed);
  for (size_t i = 0; i < n; ++i)
    out[i] = toBF16(f[i]);
  return out;
}

/// A NaN pattern written into outputs before a run, so unwritten elements show.
inline float poison() { return std::nanf("0x7a"); }

/// Relative L2 error of `got` against `want` over the finite reference values; NaN and
/// infinity positions (and signs) must match exactly.
inline bool checkClose(const char *what, const std::vector<float> &got,
                       const std::vector<double> &want, double tolerance) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i]) != std::isnan(got[i])) {
      std::fprintf(stderr, "%s: NaN mismatch at %zu (got %g, want %g)\n", what, i,
                   (double)got[i], want[i]);
      return false;
    }
    if (std::isnan(want[i]))
      continue;
    if (std::isinf(want[i]) || std::isinf(got[i])) {
      if ((double)got[i] != want[i]) {
        std::fprintf(stderr, "%s: infinity mismatch at %zu (got %g, want %g)\n", what, i,
                     (double)got[i], want[i]);
        return false;
      }
      continue;
    }
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  double rel = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  bool ok = rel <= tolerance;
  std::printf("%s: rel_err=%.3g (tolerance %.1g) %s\n", what, rel, tolerance, ok ? "ok" : "FAIL");
  return ok;
}

} // namespace example

#endif
