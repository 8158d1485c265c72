// softmax_host.cpp: runs the AOT-compiled row softmax on the host for ROWSxCOLS shapes
// given as arguments and checks it against a float64 reference; without arguments it
// also runs the one-pass kernels (a row held whole; the longest spread over a cluster
// of thread blocks on GPUs, one program here) on rows up to their limit.
#include "softmax.h"
#include "softmax_row131072.h"
#include "softmax_row262144.h"
#include "softmax_row32768.h"
#include "softmax_row4096.h"

#include "../common/check.h"

#include <cstdlib>
#include <utility>

using Launch = kiln_status (*)(float *, float *, int32_t, int32_t, int32_t);

struct Kernel {
  const char *name;
  Launch launch;
  std::vector<std::pair<int, int>> shapes;
};

int main(int argc, char **argv) {
  std::vector<std::pair<int, int>> shapes;
  for (int i = 1; i + 1 < argc; i += 2)
    shapes.push_back({std::atoi(argv[i]), std::atoi(argv[i + 1])});
  std::vector<Kernel> kernels{{"softmax", kiln_softmax_launch, shapes}};
  if (shapes.empty()) {
    kernels[0].shapes = {{1, 1}, {3, 255}, {4, 256}, {5, 257}, {7, 1021}, {2, 4096}};
    // Full rows and rows the mask cuts short (the tile's tail reads -inf).
    kernels.push_back({"softmax_row4096", kiln_softmax_row4096_launch, {{3, 4096}, {2, 1000}}});
    kernels.push_back({"softmax_row32768", kiln_softmax_row32768_launch, {{2, 32768}, {1, 5001}}});
    kernels.push_back({"softmax_row131072", kiln_softmax_row131072_launch, {{1, 131072}, {2, 70001}}});
    kernels.push_back({"softmax_row262144", kiln_softmax_row262144_launch, {{1, 262144}, {1, 131075}}});
  }
  bool ok = true;
  for (const Kernel &kernel : kernels)
  for (auto [rows, cols] : kernel.shapes) {
    int stride = cols + 3; // padded rows: the kernel must respect the stride
    auto x = example::randomFloats((size_t)rows * stride, 7, -8.f, 8.f);
    std::vector<float> y((size_t)rows * stride, example::poison());
    if (kernel.launch(x.data(), y.data(), rows, cols, stride) != KILN_SUCCESS) {
      std::fprintf(stderr, "launch failed: %s\n", kiln_host_last_error());
      return 1;
    }
    std::vector<float> got;
    std::vector<double> want;
    for (int r = 0; r < rows; ++r) {
      double m = -INFINITY, s = 0;
      for (int c = 0; c < cols; ++c)
        m = std::max(m, (double)x[(size_t)r * stride + c]);
      for (int c = 0; c < cols; ++c)
        s += std::exp((double)x[(size_t)r * stride + c] - m);
      for (int c = 0; c < cols; ++c) {
        want.push_back(std::exp((double)x[(size_t)r * stride + c] - m) / s);
        got.push_back(y[(size_t)r * stride + c]);
      }
      for (int c = cols; c < stride; ++c)
        if (!std::isnan(y[(size_t)r * stride + c])) {
          std::fprintf(stderr, "%s %dx%d: padding column %d of row %d was written\n",
                       kernel.name, rows, cols, c, r);
          ok = false;
        }
    }
    char what[96];
    std::snprintf(what, sizeof what, "%s %dx%d", kernel.name, rows, cols);
    ok &= example::checkClose(what, got, want, 1e-5);
  }
  return ok ? 0 : 1;
}
