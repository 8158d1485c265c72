// vadd_host.cpp: runs the AOT-compiled vector add on the host for each size given on
// the command line and checks it against a float64 reference.
#include "vadd.h"

#include "../common/check.h"

#include <cstdlib>

int main(int argc, char **argv) {
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i)
    sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty())
    sizes = {1, 1023, 1024, 1025, 4099, 100000};
  bool ok = true;
  for (int n : sizes) {
    auto x = example::randomFloats(n, 1), y = example::randomFloats(n, 2);
    // One canary element past the end must survive the masked tail.
    std::vector<float> out(n + 1, example::poison());
    out[n] = 12345.f;
    kiln_status st = kiln_vadd_launch(x.data(), y.data(), out.data(), n);
    if (st != KILN_SUCCESS) {
      std::fprintf(stderr, "launch failed: %s\n", kiln_host_last_error());
      return 1;
    }
    std::vector<double> want(n);
    for (int i = 0; i < n; ++i)
      want[i] = (double)x[i] + (double)y[i];
    char what[64];
    std::snprintf(what, sizeof what, "vadd n=%d", n);
    ok &= example::checkClose(what, std::vector<float>(out.begin(), out.begin() + n), want, 1e-6);
    if (out[n] != 12345.f) {
      std::fprintf(stderr, "vadd n=%d: canary past the end was overwritten\n", n);
      ok = false;
    }
  }
  return ok ? 0 : 1;
}
