// reference.h: float64 attention of bf16 [heads, n, D] tensors for the attention examples:
// O = softmax(Q·Kᵀ·scale)·V per query head, key/value head h / group, keys after the query
// masked when causal; also each row's log-sum-exp of the scaled scores.
#ifndef KILN_EXAMPLES_ATTENTION_REFERENCE_H
#define KILN_EXAMPLES_ATTENTION_REFERENCE_H

#include "../common/check.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace example {

struct AttentionReference {
  std::vector<double> o, lse;
};

inline AttentionReference attentionReference(const std::vector<uint16_t> &q,
                                             const std::vector<uint16_t> &k,
                                             const std::vector<uint16_t> &v, int n, int heads,
                                             int group, bool causal, int d, double scale) {
  AttentionReference r{std::vector<double>((size_t)heads * n * d),
                       std::vector<double>((size_t)heads * n)};
  auto at = [&](const std::vector<uint16_t> &t, int h, int row, int c) {
    return (double)fromBF16(t[((size_t)h * n + row) * d + c]);
  };
  for (int h = 0; h < heads; ++h)
    for (int i = 0; i < n; ++i) {
      int keys = causal ? i + 1 : n, kv = h / group;
      std::vector<double> s(keys);
      double m = -INFINITY, l = 0;
      for (int j = 0; j < keys; ++j) {
        double dot = 0;
        for (int c = 0; c < d; ++c)
          dot += at(q, h, i, c) * at(k, kv, j, c);
        s[j] = dot * scale;
        m = std::max(m, s[j]);
      }
      for (int j = 0; j < keys; ++j)
        l += (s[j] = std::exp(s[j] - m));
      r.lse[(size_t)h * n + i] = m + std::log(l);
      for (int c = 0; c < d; ++c) {
        double acc = 0;
        for (int j = 0; j < keys; ++j)
          acc += s[j] * at(v, kv, j, c);
        r.o[((size_t)h * n + i) * d + c] = acc / l;
      }
    }
  return r;
}

/// bf16 bits as floats, for checkClose.
inline std::vector<float> fromBF16(const std::vector<uint16_t> &t) {
  std::vector<float> out(t.size());
  for (size_t i = 0; i < t.size(); ++i)
    out[i] = fromBF16(t[i]);
  return out;
}

} // namespace example

#endif
