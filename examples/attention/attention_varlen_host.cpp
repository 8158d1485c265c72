// attention_varlen_host.cpp: runs the variable-length attention (attention_varlen.mlir:
// sequences of different lengths packed token-major, cumulative offsets) on the host,
// full and causal, multi-head and grouped, against float64 per sequence: O (bf16) and
// each row's log-sum-exp. Arguments: heads group causal len0 len1 ... (several batches
// separated by "/"); without them a fixed set.
#include "attention_varlen.h"

#include "reference.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace {

struct Batch {
  int heads, group, causal;
  std::vector<int> lens;
};

/// Sequence s of a token-major [total, heads, D] tensor as head-major [heads, n, D].
std::vector<uint16_t> headMajor(const std::vector<uint16_t> &t, int start, int n, int heads,
                                int d) {
  std::vector<uint16_t> out((size_t)heads * n * d);
  for (int h = 0; h < heads; ++h)
    for (int i = 0; i < n; ++i)
      for (int c = 0; c < d; ++c)
        out[((size_t)h * n + i) * d + c] = t[(((size_t)start + i) * heads + h) * d + c];
  return out;
}

bool run(const Batch &b) {
  const int D = 64;
  int kvHeads = b.heads / b.group, batch = (int)b.lens.size();
  std::vector<int32_t> cu{0};
  int maxN = 0;
  for (int n : b.lens) {
    cu.push_back(cu.back() + n);
    maxN = std::max(maxN, n);
  }
  int total = cu.back();
  size_t qCount = (size_t)total * b.heads * D, kvCount = (size_t)total * kvHeads * D;
  auto q = example::randomBF16(qCount, 51), k = example::randomBF16(kvCount, 52),
       v = example::randomBF16(kvCount, 53);
  std::vector<uint16_t> o(qCount, 0x7fc1);
  std::vector<float> lse((size_t)b.heads * total, NAN);
  float scale = 1.0f / std::sqrt((float)D);
  if (kiln_attention_varlen_launch(q.data(), k.data(), v.data(), o.data(), lse.data(), cu.data(),
                                   total, maxN, batch, b.heads, b.group, scale,
                                   b.causal) != KILN_SUCCESS) {
    std::fprintf(stderr, "launch failed: %s\n", kiln_host_last_error());
    return false;
  }
  bool ok = true;
  for (int s = 0; s < batch; ++s) {
    int n = b.lens[s], start = cu[s];
    auto want = example::attentionReference(headMajor(q, start, n, b.heads, D),
                                            headMajor(k, start, n, kvHeads, D),
                                            headMajor(v, start, n, kvHeads, D), n, b.heads,
                                            b.group, b.causal, D, scale);
    std::vector<float> got, gotLse;
    auto out = example::fromBF16(headMajor(o, start, n, b.heads, D));
    for (int h = 0; h < b.heads; ++h)
      for (int i = 0; i < n; ++i)
        gotLse.push_back(lse[(size_t)h * total + start + i]);
    char what[160];
    std::snprintf(what, sizeof what, "varlen heads=%d group=%d%s sequence %d of %d (n=%d)",
                  b.heads, b.group, b.causal ? " causal" : "", s, batch, n);
    ok &= example::checkClose(what, out, want.o, 8e-3);
    std::snprintf(what, sizeof what, "varlen lse heads=%d group=%d%s sequence %d of %d (n=%d)",
                  b.heads, b.group, b.causal ? " causal" : "", s, batch, n);
    ok &= example::checkClose(what, gotLse, want.lse, 1e-5);
  }
  return ok;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<Batch> batches;
  for (int i = 1; i + 3 < argc;) {
    Batch b{std::atoi(argv[i]), std::atoi(argv[i + 1]), std::atoi(argv[i + 2]), {}};
    for (i += 3; i < argc && std::string(argv[i]) != "/"; ++i)
      b.lens.push_back(std::atoi(argv[i]));
    ++i;
    batches.push_back(b);
  }
  if (batches.empty())
    batches = {{1, 1, 0, {1}}, {2, 1, 1, {63, 130, 64, 1}}, {4, 2, 0, {65, 7, 129}},
               {3, 3, 1, {200, 64}}};
  bool ok = true;
  for (const Batch &b : batches)
    ok &= run(b);
  return ok ? 0 : 1;
}
