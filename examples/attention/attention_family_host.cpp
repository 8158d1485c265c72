// attention_family_host.cpp: runs the attention family (bench/nvidia/kernels/
// attention.mlir.in, naive over all keys, 64 query rows per program) on the host, full
// and causal, with grouped key/value heads, against float64 on the same bf16 inputs: O
// (bf16) and each row's log-sum-exp of the scaled scores (f32). At D = 64 two instances
// of the template: kiln-stream-fusion's recurrence over 64-key blocks, and one 256-key
// block, which for n <= 256 is the naive softmax itself; before vs after the fusion, they
// must also agree with each other. At D = 256 the recurrence over 64-key blocks.
#include "attention_family.h"
#include "attention_family_d256.h"
#include "attention_whole.h"

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
  using Launch = kiln_status (*)(uint16_t *, uint16_t *, uint16_t *, uint16_t *, float *,
                                 int32_t, int32_t, int32_t, float, int32_t);
  struct Family {
    int d;
    Launch launch;
    const char *name;
  };
  bool ok = true;
  for (Family family : {Family{64, kiln_attention_family_launch, "attention family"},
                        Family{256, kiln_attention_family_d256_launch, "attention family D256"}})
  for (auto [n, heads, group, causal] : cases) {
    const int D = family.d;
    int kvHeads = heads / group;
    size_t qCount = (size_t)heads * n * D, kvCount = (size_t)kvHeads * n * D;
    auto q = example::randomBF16(qCount, 41), k = example::randomBF16(kvCount, 42),
         v = example::randomBF16(kvCount, 43);
    std::vector<uint16_t> o(qCount, 0x7fc1);
    std::vector<float> lse((size_t)heads * n, NAN);
    float scale = 1.0f / std::sqrt((float)D);
    if (family.launch(q.data(), k.data(), v.data(), o.data(), lse.data(), n, heads, group, scale,
                      causal) != KILN_SUCCESS) {
      std::fprintf(stderr, "launch failed: %s\n", kiln_host_last_error());
      return 1;
    }
    auto want = example::attentionReference(q, k, v, n, heads, group, causal, D, scale);
    char what[128];
    std::snprintf(what, sizeof what, "%s n=%d heads=%d group=%d%s", family.name, n, heads, group,
                  causal ? " causal" : "");
    ok &= example::checkClose(what, example::fromBF16(o), want.o, 8e-3);
    std::snprintf(what, sizeof what, "%s lse n=%d heads=%d group=%d%s", family.name, n, heads,
                  group, causal ? " causal" : "");
    ok &= example::checkClose(what, lse, want.lse, 1e-5);
    if (n > 256 || D != 64)
      continue;
    std::vector<uint16_t> o1(qCount, 0x7fc1);
    std::vector<float> lse1((size_t)heads * n, NAN);
    if (kiln_attention_whole_launch(q.data(), k.data(), v.data(), o1.data(), lse1.data(), n,
                                    heads, group, scale, causal) != KILN_SUCCESS) {
      std::fprintf(stderr, "launch failed: %s\n", kiln_host_last_error());
      return 1;
    }
    std::snprintf(what, sizeof what, "one key block n=%d heads=%d group=%d%s", n, heads, group,
                  causal ? " causal" : "");
    ok &= example::checkClose(what, example::fromBF16(o1), want.o, 8e-3);
    // Blocked vs whole: the same math up to f32 rounding and P's bf16 rounding.
    std::snprintf(what, sizeof what, "64-key blocks vs one block n=%d heads=%d group=%d%s", n,
                  heads, group, causal ? " causal" : "");
    std::vector<float> whole = example::fromBF16(o1);
    ok &= example::checkClose(what, example::fromBF16(o),
                              std::vector<double>(whole.begin(), whole.end()), 8e-3);
    std::snprintf(what, sizeof what, "64-key blocks vs one block lse n=%d heads=%d group=%d%s",
                  n, heads, group, causal ? " causal" : "");
    ok &= example::checkClose(what, lse, std::vector<double>(lse1.begin(), lse1.end()), 1e-6);
  }
  return ok ? 0 : 1;
}
