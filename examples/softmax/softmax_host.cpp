// softmax_host.cpp: runs the AOT-compiled row softmax on the host for ROWSxCOLS shapes
// given as arguments and checks it against a float64 reference.
#include "softmax.h"

#include "../common/check.h"

#include <cstdlib>
#include <utility>

int main(int argc, char **argv) {
  std::vector<std::pair<int, int>> shapes;
  for (int i = 1; i + 1 < argc; i += 2)
    shapes.push_back({std::atoi(argv[i]), std::atoi(argv[i + 1])});
  if (shapes.empty())
    shapes = {{1, 1}, {3, 255}, {4, 256}, {5, 257}, {7, 1021}, {2, 4096}};
  bool ok = true;
  for (auto [rows, cols] : shapes) {
    int stride = cols + 3; // padded rows: the kernel must respect the stride
    auto x = example::randomFloats((size_t)rows * stride, 7, -8.f, 8.f);
    std::vector<float> y((size_t)rows * stride, example::poison());
    if (kiln_softmax_launch(x.data(), y.data(), rows, cols, stride) != KILN_SUCCESS) {
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
          std::fprintf(stderr, "softmax %dx%d: padding column %d of row %d was written\n",
                       rows, cols, c, r);
          ok = false;
        }
    }
    char what[64];
    std::snprintf(what, sizeof what, "softmax %dx%d", rows, cols);
    ok &= example::checkClose(what, got, want, 1e-5);
  }
  return ok ? 0 : 1;
}
