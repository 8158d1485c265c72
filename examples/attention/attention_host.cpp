// attention_host.cpp: runs the AOT-compiled attention (tiled, online softmax) on the host
// for (n, heads) pairs given as arguments, against a float64 softmax(Q·Kᵀ·scale)·V of the
// same bf16 inputs; the bf16 output rounding bounds the error.
#include "attention.h"

#include "reference.h"

#include <array>
#include <cmath>
#include <cstdlib>

int main(int argc, char **argv) {
  std::vector<std::array<int, 2>> cases;
  for (int i = 1; i + 1 < argc; i += 2)
    cases.push_back({std::atoi(argv[i]), std::atoi(argv[i + 1])});
  if (cases.empty())
    cases = {{1, 1}, {63, 2}, {64, 1}, {130, 2}};
  const int D = 64;
  bool ok = true;
  for (auto [n, heads] : cases) {
    size_t count = (size_t)heads * n * D;
    auto q = example::randomBF16(count, 31), k = example::randomBF16(count, 32),
         v = example::randomBF16(count, 33);
    std::vector<uint16_t> o(count, 0x7fc1);
    float scale = 1.0f / std::sqrt((float)D);
    if (kiln_attention_launch(q.data(), k.data(), v.data(), o.data(), n, heads, scale) !=
        KILN_SUCCESS) {
      std::fprintf(stderr, "launch failed: %s\n", kiln_host_last_error());
      return 1;
    }
    auto want = example::attentionReference(q, k, v, n, heads, 1, false, D, scale);
    char what[64];
    std::snprintf(what, sizeof what, "attention n=%d heads=%d", n, heads);
    // P is rounded to bf16 before P·V, and O to bf16: about 2^-8 relative.
    ok &= example::checkClose(what, example::fromBF16(o), want.o, 8e-3);
  }
  return ok ? 0 : 1;
}
