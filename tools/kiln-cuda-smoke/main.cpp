// kiln-cuda-smoke: load a cubin through Kiln's CUDA runtime, launch its kernels, check them.
//
//   kiln-cuda-smoke --cubin kernels.sm_90a.cubin [--quick] [--json out.json]
//
// Runs vadd at edge sizes (1, 255, 256, 257, a prime, 2^22) with NaN-poisoned outputs and
// canaries, smem_reverse with the device's whole opt-in shared memory, then (unless --quick,
// which is for compute-sanitizer) times vadd over 2^26 floats with events and reports the
// effective bandwidth. Exit status: 0 pass, 1 a check failed, 2 no GPU/driver (message says).
#include "kiln/Runtime/CUDA.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace kiln::runtime::cuda;

namespace {

#define CHECK_OK(expr)                                                                         \
  do {                                                                                         \
    Status s_ = (expr);                                                                        \
    if (!s_.ok()) {                                                                            \
      std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, s_.message().c_str());      \
      return false;                                                                            \
    }                                                                                          \
  } while (0)

KernelSignature vaddSignature() {
  return {"vadd",
          {KernelParam::pointer("a", ElementType::F32), KernelParam::pointer("b", ElementType::F32),
           KernelParam::pointer("c", ElementType::F32), KernelParam::scalar("n", ParamKind::I32)}};
}

/// c = a + b for n random floats; exact comparison, NaN poison, 16 canary words past the end.
bool checkVadd(Device &device, Kernel &vadd, int n) {
  std::mt19937 rng(unsigned(n) * 2654435761u);
  std::uniform_real_distribution<float> dist(-100.f, 100.f);
  std::vector<float> a(n), b(n);
  for (int i = 0; i < n; ++i)
    a[i] = dist(rng), b[i] = dist(rng);
  const size_t bytes = size_t(n) * 4;
  const uint32_t poison = 0x7fc0dead;
  Expected<Buffer> ea = device.allocate(bytes), eb = device.allocate(bytes),
                   ec = device.allocate(bytes + 64);
  if (!ea || !eb || !ec) {
    std::fprintf(stderr, "FAIL: allocation of %zu bytes\n", bytes);
    return false;
  }
  CHECK_OK(ea->copyFromHost(a.data(), bytes));
  CHECK_OK(eb->copyFromHost(b.data(), bytes));
  CHECK_OK(ec->memset32(poison, 0, size_t(n) + 16));
  LaunchConfig config{Dim3(unsigned((n + 255) / 256)), Dim3(256)};
  CHECK_OK(launch(vadd, config,
                  {KernelArg::pointer(*ea, ElementType::F32), KernelArg::pointer(*eb, ElementType::F32),
                   KernelArg::pointer(*ec, ElementType::F32), n}));
  CHECK_OK(device.synchronize());
  std::vector<uint32_t> out(size_t(n) + 16);
  CHECK_OK(ec->copyToHost(out.data(), bytes + 64));
  for (int i = 0; i < n; ++i) {
    float v;
    std::memcpy(&v, &out[i], 4);
    if (v != a[i] + b[i]) {
      std::fprintf(stderr, "FAIL vadd n=%d: c[%d] = %g, expected %g\n", n, i, v, a[i] + b[i]);
      return false;
    }
  }
  for (int i = n; i < n + 16; ++i)
    if (out[i] != poison) {
      std::fprintf(stderr, "FAIL vadd n=%d: canary %d overwritten\n", n, i - n);
      return false;
    }
  std::printf("  vadd n=%-8d ok\n", n);
  return true;
}

bool checkSharedMemory(Device &device, Module &module) {
  Expected<Kernel> found = module.kernel("smem_reverse");
  if (!found) {
    std::fprintf(stderr, "FAIL: %s\n", found.status().message().c_str());
    return false;
  }
  Kernel &k = *found;
  const DeviceProperties &p = device.properties();
  const int block = 256, n = 4099;
  const int words = int(p.maxSharedMemoryPerBlockOptin / 4);
  std::vector<float> in(n), out(n);
  for (int i = 0; i < n; ++i)
    in[i] = float(i) * 0.5f + 1.f;
  Expected<Buffer> din = device.allocate(size_t(n) * 4), dout = device.allocate(size_t(n) * 4);
  if (!din || !dout)
    return false;
  CHECK_OK(din->copyFromHost(in.data(), size_t(n) * 4));
  CHECK_OK(dout->memset(0xFF));
  k.setSignature({"smem_reverse",
                  {KernelParam::pointer("in", ElementType::F32),
                   KernelParam::pointer("out", ElementType::F32),
                   KernelParam::scalar("n", ParamKind::I32),
                   KernelParam::scalar("words", ParamKind::I32)}});
  LaunchConfig config{Dim3(unsigned((n + block - 1) / block)), Dim3(block), size_t(words) * 4};
  CHECK_OK(launch(k, config,
                  {KernelArg::pointer(*din, ElementType::F32),
                   KernelArg::pointer(*dout, ElementType::F32), n, words}));
  CHECK_OK(device.synchronize());
  CHECK_OK(dout->copyToHost(out.data(), size_t(n) * 4));
  for (int i = 0; i < n; ++i) {
    int base = i / block * block, src = base + block - 1 - (i - base);
    float want = src < n ? in[src] : 0.f;
    if (out[i] != want) {
      std::fprintf(stderr, "FAIL smem_reverse: out[%d] = %g, expected %g\n", i, out[i], want);
      return false;
    }
  }
  std::printf("  smem_reverse with %zu bytes of dynamic shared memory ok\n", size_t(words) * 4);
  // Validation before launch: a wrong kind is reported by parameter name.
  Status s = launch(k, config,
                    {KernelArg::pointer(*din, ElementType::F32),
                     KernelArg::pointer(*dout, ElementType::F32), 1.0f, words});
  std::printf("  rejected bad launch: %s\n", s.message().c_str());
  if (s.code() != ErrorCode::InvalidLaunchArgument)
    return false;
  return true;
}

/// Median time of vadd over n floats; effective bandwidth counts 2 reads + 1 write.
bool timeVadd(Device &device, Kernel &vadd, int n, double *gbPerSecond, double *medianMs) {
  const size_t bytes = size_t(n) * 4;
  Expected<Buffer> a = device.allocate(bytes), b = device.allocate(bytes), c = device.allocate(bytes);
  Expected<Stream> stream = device.createStream();
  Expected<Event> start = device.createEvent(), end = device.createEvent();
  if (!a || !b || !c || !stream || !start || !end)
    return false;
  CHECK_OK(a->memset32(0x3f800000u, 0, size_t(n), &*stream)); // 1.0f: not zeros
  CHECK_OK(b->memset32(0x40000000u, 0, size_t(n), &*stream)); // 2.0f
  LaunchConfig config{Dim3(unsigned((n + 255) / 256)), Dim3(256), 0, &*stream};
  std::vector<KernelArg> args = {KernelArg::pointer(*a, ElementType::F32),
                                 KernelArg::pointer(*b, ElementType::F32),
                                 KernelArg::pointer(*c, ElementType::F32), n};
  for (int i = 0; i < 5; ++i) // warm-up
    CHECK_OK(launch(vadd, config, args));
  std::vector<float> times;
  for (int i = 0; i < 50; ++i) {
    CHECK_OK(start->record(&*stream));
    CHECK_OK(launch(vadd, config, args));
    CHECK_OK(end->record(&*stream));
    CHECK_OK(end->synchronize());
    Expected<float> ms = Event::elapsedMilliseconds(*start, *end);
    if (!ms)
      return false;
    times.push_back(*ms);
  }
  std::vector<float> host(16);
  CHECK_OK(c->copyToHost(host.data(), 64));
  for (float v : host)
    if (v != 3.f)
      return false;
  std::sort(times.begin(), times.end());
  *medianMs = times[times.size() / 2];
  *gbPerSecond = 3.0 * double(bytes) / (*medianMs * 1e-3) / 1e9;
  std::printf("  vadd n=%d: median %.4f ms over 50 runs (min %.4f, max %.4f): %.0f GB/s\n", n,
              *medianMs, times.front(), times.back(), *gbPerSecond);
  return true;
}

} // namespace

int main(int argc, char **argv) {
  std::string cubin, json;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--cubin" && i + 1 < argc)
      cubin = argv[++i];
    else if (arg == "--json" && i + 1 < argc)
      json = argv[++i];
    else if (arg == "--quick")
      quick = true;
    else {
      std::fprintf(stderr, "usage: %s --cubin FILE [--quick] [--json FILE]\n", argv[0]);
      return 1;
    }
  }
  Expected<Device> opened = Device::open(0);
  if (!opened) {
    std::fprintf(stderr, "kiln-cuda-smoke: %s\n", opened.status().message().c_str());
    return 2;
  }
  Device device = std::move(opened).value();
  const DeviceProperties &p = device.properties();
  Expected<int> version = driverVersion();
  std::printf("driver %s, CUDA %d.%d\n", driverLibraryName().c_str(), *version / 1000,
              *version % 1000 / 10);
  std::printf("device %d: %s, sm_%d%d, %d SMs, %zu KiB opt-in shared/block, %zu MiB L2, "
              "%zu MiB memory\n",
              p.ordinal, p.name.c_str(), p.computeCapabilityMajor, p.computeCapabilityMinor,
              p.multiprocessorCount, p.maxSharedMemoryPerBlockOptin / 1024, p.l2CacheBytes >> 20,
              p.totalMemoryBytes >> 20);
  if (cubin.empty()) {
    std::fprintf(stderr, "kiln-cuda-smoke: --cubin is required\n");
    return 1;
  }
  Module module = [&] {
    Expected<Module> m = device.loadModuleFromFile(cubin);
    if (!m) {
      std::fprintf(stderr, "FAIL: %s\n", m.status().message().c_str());
      std::exit(1);
    }
    return std::move(m).value();
  }();
  Kernel vadd = [&] {
    Expected<Kernel> k = module.kernel("vadd");
    if (!k) {
      std::fprintf(stderr, "FAIL: %s\n", k.status().message().c_str());
      std::exit(1);
    }
    return std::move(k).value();
  }();
  vadd.setSignature(vaddSignature());
  Expected<int> regs = vadd.numRegisters();
  std::printf("loaded %s: vadd uses %d registers\n", cubin.c_str(), regs ? *regs : -1);

  bool ok = true;
  for (int n : {1, 255, 256, 257, 65521, 1 << 22})
    ok = checkVadd(device, vadd, n) && ok;
  ok = checkSharedMemory(device, module) && ok;
  double gbs = 0, ms = 0;
  const int timedN = 1 << 26;
  if (!quick && ok)
    ok = timeVadd(device, vadd, timedN, &gbs, &ms) && ok;
  if (!json.empty()) {
    if (FILE *f = std::fopen(json.c_str(), "w")) {
      std::fprintf(f,
                   "{\"tool\": \"kiln-cuda-smoke\", \"device\": \"%s\", \"driver_cuda_version\": "
                   "%d, \"checks_passed\": %s, \"vadd_n\": %d, \"vadd_median_ms\": %.5f, "
                   "\"vadd_effective_GBps\": %.1f}\n",
                   p.name.c_str(), *version, ok ? "true" : "false", quick ? 0 : timedN, ms, gbs);
      std::fclose(f);
    }
  }
  std::printf("%s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
