// A fake libamdhip64 for tests without an AMD GPU: host memory stands in for device memory
// and the kernel "vadd" (kilnc's example: c = a + b, 1024 elements per workgroup) runs on
// the CPU, so the runtime's whole path is exercised.
//
// A module is an ELF image (its size read from the ELF header) that holds a kernel if its
// bytes contain the kernel's name. KILN_FAKE_HIP_NO_DEVICE makes it a machine without GPUs.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {
constexpr int kSuccess = 0, kInvalidValue = 1, kNoDevice = 100, kInvalidDevice = 101,
              kInvalidImage = 200, kNotFound = 500;

struct FakeModule {
  std::string image;
};
struct FakeFunction {
  std::string name;
};

int liveAllocations = 0, liveModules = 0;
unsigned lastGrid = 0, lastBlock = 0;

bool noDevice() { return std::getenv("KILN_FAKE_HIP_NO_DEVICE") != nullptr; }

uint64_t elfSize(const unsigned char *image) {
  uint64_t shoff;
  uint16_t shentsize, shnum;
  std::memcpy(&shoff, image + 0x28, 8);
  std::memcpy(&shentsize, image + 0x3a, 2);
  std::memcpy(&shnum, image + 0x3c, 2);
  return shoff + uint64_t(shentsize) * shnum;
}
} // namespace

extern "C" {

int kilnFakeHipLiveAllocations() { return liveAllocations; }
int kilnFakeHipLiveModules() { return liveModules; }
unsigned kilnFakeHipLastGrid() { return lastGrid; }
unsigned kilnFakeHipLastBlock() { return lastBlock; }

const char *hipGetErrorName(int e) {
  switch (e) {
  case kSuccess: return "hipSuccess";
  case kInvalidValue: return "hipErrorInvalidValue";
  case kNoDevice: return "hipErrorNoDevice";
  case kInvalidDevice: return "hipErrorInvalidDevice";
  case kInvalidImage: return "hipErrorInvalidImage";
  case kNotFound: return "hipErrorNotFound";
  }
  return "hipErrorUnknown";
}
const char *hipGetErrorString(int e) {
  return e == kNoDevice ? "no ROCm-capable device is detected" : "fake HIP error";
}
int hipGetDeviceCount(int *count) {
  *count = noDevice() ? 0 : 1;
  return noDevice() ? kNoDevice : kSuccess;
}
int hipSetDevice(int device) { return noDevice() ? kNoDevice : device == 0 ? kSuccess : kInvalidDevice; }
int hipDeviceGetName(char *name, int length, int device) {
  if (device != 0)
    return kInvalidDevice;
  std::snprintf(name, size_t(length), "Fake AMD Instinct MI300X");
  return kSuccess;
}
int hipDeviceSynchronize() { return kSuccess; }

int hipModuleLoadData(void **module, const void *image) {
  auto *bytes = static_cast<const unsigned char *>(image);
  if (std::memcmp(bytes, "\x7f" "ELF", 4) != 0)
    return kInvalidImage;
  *module = new FakeModule{std::string(reinterpret_cast<const char *>(bytes), elfSize(bytes))};
  ++liveModules;
  return kSuccess;
}
int hipModuleUnload(void *module) {
  delete static_cast<FakeModule *>(module);
  --liveModules;
  return kSuccess;
}
int hipModuleGetFunction(void **function, void *module, const char *name) {
  if (static_cast<FakeModule *>(module)->image.find(name) == std::string::npos)
    return kNotFound;
  *function = new FakeFunction{name}; // leaked: HIP functions live as long as their module
  return kSuccess;
}
int hipModuleLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                          unsigned by, unsigned bz, unsigned, void *, void **params, void **) {
  lastGrid = gx * gy * gz;
  lastBlock = bx * by * bz;
  if (static_cast<FakeFunction *>(function)->name != "vadd")
    return kSuccess;
  if (!params)
    return kInvalidValue;
  float *a = *static_cast<float **>(params[0]), *b = *static_cast<float **>(params[1]),
        *c = *static_cast<float **>(params[2]);
  int32_t n = *static_cast<int32_t *>(params[3]);
  for (int64_t i = 0; i < n && i < int64_t(gx) * 1024; ++i)
    c[i] = a[i] + b[i];
  return kSuccess;
}
int hipMalloc(void **ptr, size_t bytes) {
  *ptr = std::malloc(bytes);
  ++liveAllocations;
  return kSuccess;
}
int hipFree(void *ptr) {
  std::free(ptr);
  --liveAllocations;
  return kSuccess;
}
int hipMemcpyHtoD(void *dst, const void *src, size_t bytes) {
  std::memcpy(dst, src, bytes);
  return kSuccess;
}
int hipMemcpyDtoH(void *dst, void *src, size_t bytes) {
  std::memcpy(dst, src, bytes);
  return kSuccess;
}

} // extern "C"
