// A fake libcuda for tests without a GPU: host memory stands in for device memory and the
// kernels "vadd" and "smem_reverse" run on the CPU, so the whole runtime path is exercised.
//
// Recognised environment: KILN_FAKE_CUDA_NO_DEVICE (cuInit fails with CUDA_ERROR_NO_DEVICE),
// KILN_FAKE_CUDA_VERSION (what cuDriverGetVersion reports). A module image is PTX-like text;
// it holds a kernel if the text names it, and text without ".version" fails to "JIT".
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

using CUresult = int;
constexpr CUresult OK = 0, INVALID_VALUE = 1, OUT_OF_MEMORY = 2, NO_DEVICE = 100,
                   INVALID_DEVICE = 101, INVALID_IMAGE = 200, INVALID_CONTEXT = 201,
                   INVALID_PTX = 218, NOT_FOUND = 500, INVALID_HANDLE = 400;

struct FakeFunction {
  std::string name;
  int maxDynamicShared = 0;
  int paramCount = 0;
  size_t paramSizes[4] = {};
};
struct FakeModule {
  std::string text;
  std::vector<std::unique_ptr<FakeFunction>> functions; // live as long as the module
};
struct FakeEvent {
  long stamp = -1;
};

int fakeContext; // its address is the primary context
thread_local void *currentContext = nullptr;
long clockTicks = 0;
int retainCount = 0;

// Counters the tests read through dlsym to prove resources are released.
int liveAllocations = 0, liveModules = 0, liveStreams = 0, liveEvents = 0;
unsigned lastLaunchShared = 0;

bool hasContext() { return currentContext == &fakeContext; }

} // namespace

extern "C" {

int kilnFakeLiveAllocations() { return liveAllocations; }
int kilnFakeLiveModules() { return liveModules; }
int kilnFakeLiveStreams() { return liveStreams; }
int kilnFakeLiveEvents() { return liveEvents; }
int kilnFakeRetainCount() { return retainCount; }
unsigned kilnFakeLastLaunchShared() { return lastLaunchShared; }

CUresult cuInit(unsigned) { return std::getenv("KILN_FAKE_CUDA_NO_DEVICE") ? NO_DEVICE : OK; }

CUresult cuDriverGetVersion(int *v) {
  const char *env = std::getenv("KILN_FAKE_CUDA_VERSION");
  *v = env ? std::atoi(env) : 13000;
  return OK;
}

CUresult cuGetErrorName(CUresult r, const char **s) {
  switch (r) {
  case OK: *s = "CUDA_SUCCESS"; return OK;
  case INVALID_VALUE: *s = "CUDA_ERROR_INVALID_VALUE"; return OK;
  case OUT_OF_MEMORY: *s = "CUDA_ERROR_OUT_OF_MEMORY"; return OK;
  case NO_DEVICE: *s = "CUDA_ERROR_NO_DEVICE"; return OK;
  case INVALID_DEVICE: *s = "CUDA_ERROR_INVALID_DEVICE"; return OK;
  case INVALID_IMAGE: *s = "CUDA_ERROR_INVALID_IMAGE"; return OK;
  case INVALID_CONTEXT: *s = "CUDA_ERROR_INVALID_CONTEXT"; return OK;
  case INVALID_PTX: *s = "CUDA_ERROR_INVALID_PTX"; return OK;
  case INVALID_HANDLE: *s = "CUDA_ERROR_INVALID_HANDLE"; return OK;
  case NOT_FOUND: *s = "CUDA_ERROR_NOT_FOUND"; return OK;
  }
  *s = nullptr;
  return INVALID_VALUE;
}

CUresult cuGetErrorString(CUresult r, const char **s) {
  switch (r) {
  case OK: *s = "no error"; return OK;
  case INVALID_VALUE: *s = "invalid argument"; return OK;
  case OUT_OF_MEMORY: *s = "out of memory"; return OK;
  case NO_DEVICE: *s = "no CUDA-capable device is detected"; return OK;
  case INVALID_DEVICE: *s = "invalid device ordinal"; return OK;
  case INVALID_IMAGE: *s = "device kernel image is invalid"; return OK;
  case INVALID_CONTEXT: *s = "invalid device context"; return OK;
  case INVALID_PTX: *s = "a PTX JIT compilation failed"; return OK;
  case INVALID_HANDLE: *s = "invalid resource handle"; return OK;
  case NOT_FOUND: *s = "named symbol not found"; return OK;
  }
  *s = nullptr;
  return INVALID_VALUE;
}

CUresult cuDeviceGetCount(int *n) {
  *n = 1;
  return OK;
}
CUresult cuDeviceGet(int *d, int ordinal) {
  if (ordinal != 0)
    return INVALID_DEVICE;
  *d = 0;
  return OK;
}
CUresult cuDeviceGetName(char *name, int len, int) {
  std::strncpy(name, "Kiln Fake GPU", size_t(len));
  return OK;
}
CUresult cuDeviceGetAttribute(int *v, int attr, int) {
  switch (attr) {
  case 1: *v = 1024; return OK;          // max threads per block
  case 8: *v = 48 * 1024; return OK;     // shared per block
  case 10: *v = 32; return OK;           // warp size
  case 13: *v = 1980000; return OK;      // clock kHz
  case 16: *v = 132; return OK;          // SMs
  case 37: *v = 5120; return OK;         // bus width
  case 38: *v = 50 * 1024 * 1024; return OK; // L2
  case 75: *v = 9; return OK;
  case 76: *v = 0; return OK;
  case 81: *v = 233472; return OK;       // shared per SM
  case 97: *v = 232448; return OK;       // opt-in shared per block (227 KiB)
  }
  return INVALID_VALUE;
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, int) {
  *bytes = size_t(80) << 30;
  return OK;
}
CUresult cuDevicePrimaryCtxRetain(void **ctx, int) {
  ++retainCount;
  *ctx = &fakeContext;
  return OK;
}
CUresult cuDevicePrimaryCtxRelease_v2(int) {
  --retainCount;
  return OK;
}
CUresult cuCtxGetCurrent(void **ctx) {
  *ctx = currentContext;
  return OK;
}
CUresult cuCtxSetCurrent(void *ctx) {
  currentContext = ctx;
  return OK;
}
CUresult cuCtxSynchronize() { return hasContext() ? OK : INVALID_CONTEXT; }

CUresult cuModuleLoadData(void **, const void *) {
  // Binary images (ELF, fatbin) are never valid for the fake.
  return hasContext() ? INVALID_IMAGE : INVALID_CONTEXT;
}
CUresult cuModuleLoadDataEx(void **module, const void *image, unsigned n, int *options,
                            void **values) {
  if (!hasContext())
    return INVALID_CONTEXT;
  std::string text(static_cast<const char *>(image));
  if (text.find(".version") == std::string::npos) {
    for (unsigned i = 0; i < n; ++i)
      if (options[i] == 5) // CU_JIT_ERROR_LOG_BUFFER
        std::strcpy(static_cast<char *>(values[i]), "ptxas fatal   : Missing .version directive");
    return INVALID_PTX;
  }
  *module = new FakeModule{text, {}};
  ++liveModules;
  return OK;
}
CUresult cuModuleUnload(void *m) {
  delete static_cast<FakeModule *>(m);
  --liveModules;
  return OK;
}
CUresult cuModuleGetFunction(void **f, void *m, const char *name) {
  auto *mod = static_cast<FakeModule *>(m);
  std::string n(name);
  if ((n != "vadd" && n != "smem_reverse") || mod->text.find(".entry " + n) == std::string::npos)
    return NOT_FOUND;
  mod->functions.push_back(std::make_unique<FakeFunction>());
  FakeFunction *fn = mod->functions.back().get();
  fn->name = n;
  fn->paramCount = 4;
  // vadd(a, b, c, n) and smem_reverse(in, out, n, words).
  size_t sizes[4] = {8, 8, n == "vadd" ? size_t(8) : size_t(4), 4};
  std::memcpy(fn->paramSizes, sizes, sizeof sizes);
  *f = fn;
  return OK;
}
CUresult cuFuncGetAttribute(int *v, int attr, void *f) {
  auto *fn = static_cast<FakeFunction *>(f);
  switch (attr) {
  case 0: *v = 1024; return OK;
  case 1: *v = 0; return OK;
  case 3: *v = 0; return OK;
  case 4: *v = 16; return OK;
  case 8: *v = fn->maxDynamicShared; return OK;
  }
  return INVALID_VALUE;
}
CUresult cuFuncSetAttribute(void *f, int attr, int value) {
  if (attr != 8 || value < 0 || value > 232448)
    return INVALID_VALUE;
  static_cast<FakeFunction *>(f)->maxDynamicShared = value;
  return OK;
}
CUresult cuFuncGetParamInfo(void *f, size_t index, size_t *offset, size_t *size) {
  auto *fn = static_cast<FakeFunction *>(f);
  if (index >= size_t(fn->paramCount))
    return INVALID_VALUE;
  *offset = index * 8;
  *size = fn->paramSizes[index];
  return OK;
}

CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                        unsigned bz, unsigned shared, void *, void **params, void **) {
  if (!hasContext())
    return INVALID_CONTEXT;
  auto *fn = static_cast<FakeFunction *>(f);
  if (gy != 1 || gz != 1 || by != 1 || bz != 1)
    return INVALID_VALUE; // The fake runs 1-D launches only.
  if (shared > 48 * 1024 && int(shared) > fn->maxDynamicShared)
    return INVALID_VALUE; // as the real driver does without the raised attribute
  lastLaunchShared = shared;
  long threads = long(gx) * bx;
  if (fn->name == "vadd") {
    auto *a = *static_cast<const float **>(params[0]);
    auto *b = *static_cast<const float **>(params[1]);
    auto *c = *static_cast<float **>(params[2]);
    int n = *static_cast<int *>(params[3]);
    for (long i = 0; i < threads && i < n; ++i)
      c[i] = a[i] + b[i];
  } else {
    auto *in = *static_cast<const float **>(params[0]);
    auto *out = *static_cast<float **>(params[1]);
    int n = *static_cast<int *>(params[2]);
    for (long i = 0; i < threads && i < n; ++i) {
      long base = i / bx * bx, t = i - base, src = base + bx - 1 - t;
      out[i] = src < n ? in[src] : 0.f;
    }
  }
  return OK;
}

CUresult cuMemAlloc_v2(unsigned long long *p, size_t bytes) {
  if (!hasContext())
    return INVALID_CONTEXT;
  if (bytes > (size_t(1) << 40))
    return OUT_OF_MEMORY;
  void *mem = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (!mem)
    return OUT_OF_MEMORY;
  *p = reinterpret_cast<uintptr_t>(mem);
  ++liveAllocations;
  return OK;
}
CUresult cuMemFree_v2(unsigned long long p) {
  std::free(reinterpret_cast<void *>(uintptr_t(p)));
  --liveAllocations;
  return OK;
}
static void *host(unsigned long long p) { return reinterpret_cast<void *>(uintptr_t(p)); }
CUresult cuMemcpyHtoD_v2(unsigned long long d, const void *s, size_t n) {
  std::memcpy(host(d), s, n);
  return OK;
}
CUresult cuMemcpyDtoH_v2(void *d, unsigned long long s, size_t n) {
  std::memcpy(d, host(s), n);
  return OK;
}
CUresult cuMemcpyDtoD_v2(unsigned long long d, unsigned long long s, size_t n) {
  std::memmove(host(d), host(s), n);
  return OK;
}
CUresult cuMemcpyHtoDAsync_v2(unsigned long long d, const void *s, size_t n, void *) {
  return cuMemcpyHtoD_v2(d, s, n);
}
CUresult cuMemcpyDtoHAsync_v2(void *d, unsigned long long s, size_t n, void *) {
  return cuMemcpyDtoH_v2(d, s, n);
}
CUresult cuMemcpyDtoDAsync_v2(unsigned long long d, unsigned long long s, size_t n, void *) {
  return cuMemcpyDtoD_v2(d, s, n);
}
CUresult cuMemsetD8_v2(unsigned long long d, unsigned char v, size_t n) {
  std::memset(host(d), v, n);
  return OK;
}
CUresult cuMemsetD8Async(unsigned long long d, unsigned char v, size_t n, void *) {
  return cuMemsetD8_v2(d, v, n);
}
CUresult cuMemsetD32_v2(unsigned long long d, unsigned v, size_t n) {
  auto *w = static_cast<unsigned *>(host(d));
  for (size_t i = 0; i < n; ++i)
    w[i] = v;
  return OK;
}
CUresult cuMemsetD32Async(unsigned long long d, unsigned v, size_t n, void *) {
  return cuMemsetD32_v2(d, v, n);
}

CUresult cuStreamCreate(void **s, unsigned) {
  *s = new int(0);
  ++liveStreams;
  return OK;
}
CUresult cuStreamDestroy_v2(void *s) {
  delete static_cast<int *>(s);
  --liveStreams;
  return OK;
}
CUresult cuStreamSynchronize(void *) { return OK; }
CUresult cuEventCreate(void **e, unsigned) {
  *e = new FakeEvent;
  ++liveEvents;
  return OK;
}
CUresult cuEventDestroy_v2(void *e) {
  delete static_cast<FakeEvent *>(e);
  --liveEvents;
  return OK;
}
CUresult cuEventRecord(void *e, void *) {
  static_cast<FakeEvent *>(e)->stamp = ++clockTicks;
  return OK;
}
CUresult cuEventSynchronize(void *) { return OK; }
CUresult cuEventElapsedTime(float *ms, void *a, void *b) {
  auto *s = static_cast<FakeEvent *>(a), *e = static_cast<FakeEvent *>(b);
  if (s->stamp < 0 || e->stamp < 0)
    return INVALID_HANDLE; // not recorded
  *ms = 0.5f * float(e->stamp - s->stamp);
  return OK;
}

// Resolves by base name, as the real driver does for the requested ABI version.
CUresult cuGetProcAddress_v2(const char *symbol, void **fn, int, unsigned long long, int *found) {
  struct Entry {
    const char *name;
    void *fn;
  };
#define E(base, impl) {#base, reinterpret_cast<void *>(&impl)}
  static const Entry table[] = {
      E(cuInit, cuInit), E(cuDriverGetVersion, cuDriverGetVersion),
      E(cuGetErrorName, cuGetErrorName), E(cuGetErrorString, cuGetErrorString),
      E(cuDeviceGetCount, cuDeviceGetCount), E(cuDeviceGet, cuDeviceGet),
      E(cuDeviceGetName, cuDeviceGetName), E(cuDeviceGetAttribute, cuDeviceGetAttribute),
      E(cuDeviceTotalMem, cuDeviceTotalMem_v2),
      E(cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRetain),
      E(cuDevicePrimaryCtxRelease, cuDevicePrimaryCtxRelease_v2),
      E(cuCtxGetCurrent, cuCtxGetCurrent), E(cuCtxSetCurrent, cuCtxSetCurrent),
      E(cuCtxSynchronize, cuCtxSynchronize), E(cuModuleLoadData, cuModuleLoadData),
      E(cuModuleLoadDataEx, cuModuleLoadDataEx), E(cuModuleUnload, cuModuleUnload),
      E(cuModuleGetFunction, cuModuleGetFunction), E(cuFuncGetAttribute, cuFuncGetAttribute),
      E(cuFuncSetAttribute, cuFuncSetAttribute), E(cuFuncGetParamInfo, cuFuncGetParamInfo),
      E(cuLaunchKernel, cuLaunchKernel), E(cuMemAlloc, cuMemAlloc_v2),
      E(cuMemFree, cuMemFree_v2), E(cuMemcpyHtoD, cuMemcpyHtoD_v2),
      E(cuMemcpyDtoH, cuMemcpyDtoH_v2), E(cuMemcpyDtoD, cuMemcpyDtoD_v2),
      E(cuMemcpyHtoDAsync, cuMemcpyHtoDAsync_v2), E(cuMemcpyDtoHAsync, cuMemcpyDtoHAsync_v2),
      E(cuMemcpyDtoDAsync, cuMemcpyDtoDAsync_v2), E(cuMemsetD8, cuMemsetD8_v2),
      E(cuMemsetD8Async, cuMemsetD8Async), E(cuMemsetD32, cuMemsetD32_v2),
      E(cuMemsetD32Async, cuMemsetD32Async), E(cuStreamCreate, cuStreamCreate),
      E(cuStreamDestroy, cuStreamDestroy_v2), E(cuStreamSynchronize, cuStreamSynchronize),
      E(cuEventCreate, cuEventCreate), E(cuEventDestroy, cuEventDestroy_v2),
      E(cuEventRecord, cuEventRecord), E(cuEventSynchronize, cuEventSynchronize),
      E(cuEventElapsedTime, cuEventElapsedTime),
  };
#undef E
  for (const Entry &e : table)
    if (std::strcmp(e.name, symbol) == 0) {
      *fn = e.fn;
      if (found)
        *found = 0; // CU_GET_PROC_ADDRESS_SUCCESS
      return OK;
    }
  *fn = nullptr;
  if (found)
    *found = 1; // CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND
  return NOT_FOUND;
}

} // extern "C"
