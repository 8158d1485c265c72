// attention_family_host.cpp: runs the attention family kernel (bench/nvidia/kernels/
// attention.mlir.in at D = 64, 64x64 blocks) on the host, full and causal, with grouped
// key/value heads, against float64 on the same bf16 inputs: O (bf16) and each row's
// log-sum-exp of the scaled scores (f32).
#include "attention_family.h"

#include "reference.h"

#include <array>
#include <cmath>
#include <cstdlib>

int main(int argc, char **argv) {
  // (n, heads, group, causal)
  std::vector<std::array<int, 4>> cases;
  for (int i = 1; i + 3 < argc; i += 4)
    cases.push_back({std::atoi(argv[i]), std::atoi(argv[i + 1]), std::atoi(argv[i + 2]),
                     std::atoi(argv[i + 3])});
  if (cases.empty())
    cases = {{1, 1, 1, 0}, {63, 2, 1, 1}, {65, 4, 2, 1}, {130, 2, 2, 0}, {130, 3, 3, 1}};
  const int D = 64;
  bool ok = true;
  for (auto [n, heads, group, causal] : cases) {
    int kvHeads = heads / group;
    size_t qCount = (size_t)heads * n * D, kvCount = (size_t)kvHeads * n * D;
    auto qf = example::randomFloats(qCount, 41), kf = example::randomFloats(kvCount, 42),
         vf = example::randomFloats(kvCount, 43);
    std::vector<uint16_t> q(qCount), k(kvCount), v(kvCount), o(qCount, 0x7fc1);
    std::vector<float> lse((size_t)heads * n, NAN);
    for (size_t i = 0; i < qCount; ++i)
      q[i] = example::toBF16(qf[i]);
    for (size_t i = 0; i < kvCount; ++i) {
      k[i] = example::toBF16(kf[i]);
      v[i] = example::toBF16(vf[i]);
    }
    float scale = 1.0f / std::sqrt((float)D);
    if (kiln_attention_family_launch(q.data(), k.data(), v.data(), o.data(), lse.data(), n,
                                     heads, group, scale, causal) != KILN_SUCCESS) {
      std::fprintf(stderr, "launch failed: %s\n", kiln_host_last_error());
      return 1;
    }
    auto want = example::attentionReference(q, k, v, n, heads, group, causal, D, scale);
    char what[96];
    std::snprintf(what, sizeof what, "attention family n=%d heads=%d group=%d%s", n, heads, group,
                  causal ? " causal" : "");
    ok &= example::checkClose(what, example::fromBF16(o), want.o, 8e-3);
    std::snprintf(what, sizeof what, "attention family lse n=%d heads=%d group=%d%s", n, heads,
                  group, causal ? " causal" : "");
    ok &= example::checkClose(what, lse, want.lse, 1e-5);
  }
  return ok ? 0 : 1;
}
