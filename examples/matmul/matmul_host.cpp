// matmul_host.cpp: runs the AOT-compiled bf16 matmul (f32 accumulation) on the host for
// M N K triples given as arguments; the reference multiplies the same bf16-rounded
// inputs in float64.
#include "matmul.h"

#include "../common/check.h"

#include <array>
#include <cstdlib>

int main(int argc, char **argv) {
  std::vector<std::array<int, 3>> shapes;
  for (int i = 1; i + 2 < argc; i += 3)
    shapes.push_back({std::atoi(argv[i]), std::atoi(argv[i + 1]), std::atoi(argv[i + 2])});
  if (shapes.empty())
    shapes = {{1, 1, 1}, {31, 33, 17}, {32, 32, 32}, {33, 31, 65}, {67, 61, 97}};
  bool ok = true;
  for (auto [M, N, K] : shapes) {
    auto af = example::randomFloats((size_t)M * K, 11), bf = example::randomFloats((size_t)K * N, 12);
    std::vector<uint16_t> a(af.size()), b(bf.size());
    for (size_t i = 0; i < af.size(); ++i)
      a[i] = example::toBF16(af[i]);
    for (size_t i = 0; i < bf.size(); ++i)
      b[i] = example::toBF16(bf[i]);
    std::vector<float> c((size_t)M * N, example::poison());
    if (kiln_matmul_launch(a.data(), b.data(), c.data(), M, N, K, K, N, N) != KILN_SUCCESS) {
      std::fprintf(stderr, "launch failed: %s\n", kiln_host_last_error());
      return 1;
    }
    std::vector<double> want((size_t)M * N);
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        double s = 0;
        for (int k = 0; k < K; ++k)
          s += (double)example::fromBF16(a[(size_t)i * K + k]) *
               (double)example::fromBF16(b[(size_t)k * N + j]);
        want[(size_t)i * N + j] = s;
      }
    char what[64];
    std::snprintf(what, sizeof what, "matmul %dx%dx%d", M, N, K);
    // Inputs are exactly bf16; only the f32 accumulation rounds.
    ok &= example::checkClose(what, c, want, 1e-5);
  }
  return ok ? 0 : 1;
}
