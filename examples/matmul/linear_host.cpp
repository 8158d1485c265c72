// linear_host.cpp: runs the AOT-compiled fused linear layer Y = relu(A·B + bias) (bf16
// in and out, f32 accumulation) on the host for M N K triples given as arguments,
// against a float64 reference of the same bf16 inputs; the output's bf16 rounding
// bounds the error (relative 2^-9 per element).
#include "linear_relu.h"

#include "../common/check.h"

#include <algorithm>
#include <array>
#include <cstdlib>

int main(int argc, char **argv) {
  std::vector<std::array<int, 3>> shapes;
  for (int i = 1; i + 2 < argc; i += 3)
    shapes.push_back({std::atoi(argv[i]), std::atoi(argv[i + 1]), std::atoi(argv[i + 2])});
  if (shapes.empty())
    shapes = {{1, 1, 1}, {31, 33, 17}, {128, 128, 64}, {129, 257, 100}};
  bool ok = true;
  for (auto [M, N, K] : shapes) {
    auto af = example::randomFloats((size_t)M * K, 21), bf = example::randomFloats((size_t)K * N, 22);
    auto bias = example::randomFloats((size_t)N, 23);
    std::vector<uint16_t> a(af.size()), b(bf.size()), y((size_t)M * N, 0x7fc1);
    for (size_t i = 0; i < af.size(); ++i)
      a[i] = example::toBF16(af[i]);
    for (size_t i = 0; i < bf.size(); ++i)
      b[i] = example::toBF16(bf[i]);
    if (kiln_linear_relu_launch(a.data(), b.data(), bias.data(), y.data(), M, N, K, K, N, N) !=
        KILN_SUCCESS) {
      std::fprintf(stderr, "launch failed: %s\n", kiln_host_last_error());
      return 1;
    }
    std::vector<double> want((size_t)M * N);
    std::vector<float> got((size_t)M * N);
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        double s = bias[j];
        for (int k = 0; k < K; ++k)
          s += (double)example::fromBF16(a[(size_t)i * K + k]) *
               (double)example::fromBF16(b[(size_t)k * N + j]);
        want[(size_t)i * N + j] = std::max(s, 0.0);
        got[(size_t)i * N + j] = example::fromBF16(y[(size_t)i * N + j]);
      }
    char what[64];
    std::snprintf(what, sizeof what, "linear_relu %dx%dx%d", M, N, K);
    ok &= example::checkClose(what, got, want, 4e-3);
  }
  return ok ? 0 : 1;
}
