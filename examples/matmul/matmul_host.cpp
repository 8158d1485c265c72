// matmul_host.cpp: runs the AOT-compiled bf16 matmuls (f32 accumulation; 32x32 and
// 128x128 output tiles) on the host for M N K triples given as arguments; the reference
// multiplies the same bf16-rounded inputs in float64.
#include "matmul.h"
#include "matmul_128x128.h"

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
    std::vector<double> want((size_t)M * N);
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        double s = 0;
        for (int k = 0; k < K; ++k)
          s += (double)example::fromBF16(a[(size_t)i * K + k]) *
               (double)example::fromBF16(b[(size_t)k * N + j]);
        want[(size_t)i * N + j] = s;
      }
    struct Variant {
      const char *name;
      kiln_status (*launch)(uint16_t *, uint16_t *, float *, int32_t, int32_t, int32_t, int32_t,
                            int32_t, int32_t);
    };
    for (Variant v : {Variant{"matmul", kiln_matmul_launch},
                      Variant{"matmul_128x128", kiln_matmul_128x128_launch}}) {
      std::vector<float> c((size_t)M * N, example::poison());
      if (v.launch(a.data(), b.data(), c.data(), M, N, K, K, N, N) != KILN_SUCCESS) {
        std::fprintf(stderr, "%s: launch failed: %s\n", v.name, kiln_host_last_error());
        return 1;
      }
      char what[96];
      std::snprintf(what, sizeof what, "%s %dx%dx%d", v.name, M, N, K);
      // Inputs are exactly bf16; only the f32 accumulation rounds.
      ok &= example::checkClose(what, c, want, 1e-5);
    }
  }
  return ok ? 0 : 1;
}
