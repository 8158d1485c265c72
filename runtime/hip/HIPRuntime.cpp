// The HIP runtime behind kiln/c/kiln_hip.h: libamdhip64 loaded at run time, no HIP headers.
#include "kiln/c/kiln_hip.h"

#include "../gpu/Launch.h"
#include "HipAPI.h"

#include <fstream>
#include <iterator>
#include <memory>
#include <map>
#include <mutex>
#include <new>

using namespace kiln::runtime::gpu;

namespace {

using namespace kiln::runtime::hip;

/// The entry points Kiln uses, resolved by name.
struct Hip {
  const char *(*hipGetErrorName)(hipError_t);
  const char *(*hipGetErrorString)(hipError_t);
  hipError_t (*hipGetDeviceCount)(int *);
  hipError_t (*hipSetDevice)(int);
  hipError_t (*hipDeviceGetName)(char *, int, int);
  hipError_t (*hipDeviceSynchronize)();
  hipError_t (*hipModuleLoadData)(hipModule_t *, const void *);
  hipError_t (*hipModuleUnload)(hipModule_t);
  hipError_t (*hipModuleGetFunction)(hipFunction_t *, hipModule_t, const char *);
  hipError_t (*hipModuleLaunchKernel)(hipFunction_t, unsigned, unsigned, unsigned, unsigned,
                                      unsigned, unsigned, unsigned, void *, void **, void **);
  hipError_t (*hipMalloc)(void **, size_t);
  hipError_t (*hipFree)(void *);
  hipError_t (*hipMemcpyHtoD)(void *, const void *, size_t);
  hipError_t (*hipMemcpyDtoH)(void *, void *, size_t);

  std::string describe(hipError_t result) const {
    const char *name = hipGetErrorName ? hipGetErrorName(result) : nullptr;
    const char *text = hipGetErrorString ? hipGetErrorString(result) : nullptr;
    std::string s = name ? name : "hipError " + std::to_string(result);
    if (text && *text && s != text)
      s += std::string(" (") + text + ")";
    return s;
  }
};

thread_local LastError lastError;

/// Opens libamdhip64 and resolves Kiln's entry points: the table, or null and why not.
std::pair<const Hip *, std::string> openHip() {
  std::string tried;
  void *handle = openLibrary("KILN_HIP_LIB",
                             {"libamdhip64.so", "libamdhip64.so.6", "libamdhip64.so.5"}, tried);
  if (!handle)
    return {nullptr, "no AMD GPU: the HIP runtime (libamdhip64) is not installed [" + tried + "]"};
  auto hip = std::make_unique<Hip>();
  std::string missing;
  auto resolve = [&](auto &fn, const char *name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(handle, name));
    if (!fn && missing.empty())
      missing = name;
  };
#define KILN_HIP_RESOLVE(name) resolve(hip->name, #name)
  KILN_HIP_RESOLVE(hipGetErrorName);
  KILN_HIP_RESOLVE(hipGetErrorString);
  KILN_HIP_RESOLVE(hipGetDeviceCount);
  KILN_HIP_RESOLVE(hipSetDevice);
  KILN_HIP_RESOLVE(hipDeviceGetName);
  KILN_HIP_RESOLVE(hipDeviceSynchronize);
  KILN_HIP_RESOLVE(hipModuleLoadData);
  KILN_HIP_RESOLVE(hipModuleUnload);
  KILN_HIP_RESOLVE(hipModuleGetFunction);
  KILN_HIP_RESOLVE(hipModuleLaunchKernel);
  KILN_HIP_RESOLVE(hipMalloc);
  KILN_HIP_RESOLVE(hipFree);
  KILN_HIP_RESOLVE(hipMemcpyHtoD);
  KILN_HIP_RESOLVE(hipMemcpyDtoH);
#undef KILN_HIP_RESOLVE
  // The library stays loaded either way: unloading a half-initialised runtime is not worth it.
  if (!missing.empty())
    return {nullptr, "no AMD GPU: the library loaded as the HIP runtime has no " + missing +
                         " (not libamdhip64?)"};
  return {hip.release(), ""};
}

/// libamdhip64 ($KILN_HIP_LIB, else ROCm 6 or 5), loaded once per library name; null with
/// `error` set if it cannot be.
const Hip *loadHip(std::string &error) {
  static std::mutex mutex;
  // By library name, never freed: HIP objects may be released during exit.
  static auto *loaded = new std::map<std::string, std::pair<const Hip *, std::string>>();
  const char *env = std::getenv("KILN_HIP_LIB");
  std::string key = env && *env ? env : "";
  std::lock_guard<std::mutex> lock(mutex);
  auto it = loaded->find(key);
  if (it == loaded->end())
    it = loaded->emplace(key, openHip()).first;
  error = it->second.second;
  return it->second.first;
}

kiln_status statusFor(hipError_t result) {
  switch (result) {
  case kHipErrorNoDevice:
  case kHipErrorInvalidDevice: return KILN_ERROR_NO_DEVICE;
  case kHipErrorOutOfMemory: return KILN_ERROR_OUT_OF_MEMORY;
  case kHipErrorNotFound: return KILN_ERROR_NOT_FOUND;
  default: return KILN_ERROR_HIP;
  }
}

/// Records a failed HIP call as "<doing>: <call>: hipErrorX (text)"; a missing device
/// reads "no AMD GPU: ...".
kiln_status fail(const Hip &hip, hipError_t result, const char *call, const std::string &doing) {
  std::string message = doing + ": " + call + ": " + hip.describe(result);
  if (statusFor(result) == KILN_ERROR_NO_DEVICE)
    message = "no AMD GPU: " + message;
  return lastError.set(statusFor(result), message, result);
}

kiln_status invalid(const std::string &what) {
  return lastError.set(KILN_ERROR_INVALID_ARGUMENT, what);
}

/// Loads HIP and initialises it once; no exception crosses into C.
template <typename Body> kiln_status withHip(Body &&body) {
  lastError.clear();
  try {
    std::string error;
    const Hip *hip = loadHip(error);
    if (!hip)
      return lastError.set(KILN_ERROR_DRIVER_NOT_FOUND, error);
    return body(*hip);
  } catch (const std::bad_alloc &) {
    return lastError.set(KILN_ERROR_OUT_OF_MEMORY, "host memory exhausted");
  } catch (...) {
    return lastError.set(KILN_ERROR_HIP, "unexpected C++ exception");
  }
}

} // namespace

struct kiln_hip_device_t {
  const Hip *hip;
  int ordinal;
  /// Every call runs on this device: HIP's current device is per thread.
  hipError_t select() const { return hip->hipSetDevice(ordinal); }
};
struct kiln_hip_module_t {
  kiln_hip_device device;
  hipModule_t module;
  int kernels = 0;
  bool unloadRequested = false;
};
struct kiln_hip_kernel_t {
  kiln_hip_module module;
  hipFunction_t function;
  std::string name;
  std::unique_ptr<std::vector<kiln_gpu_arg_kind>> signature;
};
struct kiln_hip_buffer_t {
  kiln_hip_device device;
  void *address;
  size_t bytes;
};

extern "C" {

const char *kiln_hip_last_error(void) { return lastError.message.c_str(); }
int kiln_hip_last_result(void) { return lastError.result; }

kiln_status kiln_hip_device_count(int *count) {
  if (!count)
    return invalid("kiln_hip_device_count: count is NULL");
  *count = 0;
  return withHip([&](const Hip &hip) {
    // hipInit reports a machine without GPUs as an invalid device: that is a count of 0.
    hipError_t r = hip.hipGetDeviceCount(count);
    if (r == kHipErrorNoDevice || r == kHipErrorInvalidDevice) {
      *count = 0;
      return KILN_SUCCESS;
    }
    return r == kHipSuccess ? KILN_SUCCESS : fail(hip, r, "hipGetDeviceCount", "counting GPUs");
  });
}

kiln_status kiln_hip_device_open(int ordinal, kiln_hip_device *device) {
  if (!device)
    return invalid("kiln_hip_device_open: device is NULL");
  *device = nullptr;
  return withHip([&](const Hip &hip) {
    int count = 0;
    hipError_t r = hip.hipGetDeviceCount(&count);
    if (r != kHipSuccess)
      return fail(hip, r, "hipGetDeviceCount", "opening GPU " + std::to_string(ordinal));
    if (ordinal < 0 || ordinal >= count)
      return lastError.set(KILN_ERROR_NO_DEVICE, "no AMD GPU " + std::to_string(ordinal) +
                                                     ": HIP sees " + std::to_string(count));
    if ((r = hip.hipSetDevice(ordinal)) != kHipSuccess)
      return fail(hip, r, "hipSetDevice", "opening GPU " + std::to_string(ordinal));
    *device = new kiln_hip_device_t{&hip, ordinal};
    return KILN_SUCCESS;
  });
}

void kiln_hip_device_close(kiln_hip_device device) { delete device; }

kiln_status kiln_hip_device_name(kiln_hip_device device, char *name, size_t bytes) {
  if (!device || !name || !bytes)
    return invalid("kiln_hip_device_name: NULL device or empty name buffer");
  return withHip([&](const Hip &hip) {
    std::vector<char> buffer(256, '\0');
    hipError_t r = hip.hipDeviceGetName(buffer.data(), int(buffer.size()) - 1, device->ordinal);
    if (r != kHipSuccess)
      return fail(hip, r, "hipDeviceGetName", "naming GPU " + std::to_string(device->ordinal));
    std::strncpy(name, buffer.data(), bytes - 1);
    name[bytes - 1] = '\0';
    return KILN_SUCCESS;
  });
}

kiln_status kiln_hip_device_synchronize(kiln_hip_device device) {
  if (!device)
    return invalid("kiln_hip_device_synchronize: device is NULL");
  return withHip([&](const Hip &hip) {
    hipError_t r = device->select();
    if (r == kHipSuccess)
      r = hip.hipDeviceSynchronize();
    return r == kHipSuccess ? KILN_SUCCESS
                            : fail(hip, r, "hipDeviceSynchronize", "waiting for the GPU");
  });
}

kiln_status kiln_hip_module_load_data(kiln_hip_device device, const void *image, size_t bytes,
                                      kiln_hip_module *module) {
  if (!device || !image || !bytes || !module)
    return invalid("kiln_hip_module_load_data: NULL device, image or module, or no bytes");
  *module = nullptr;
  return withHip([&](const Hip &hip) {
    // Refuse what is not an ELF before HIP sees it: a bad image is the caller's mistake.
    if (bytes < 4 || std::memcmp(image, "\x7f" "ELF", 4) != 0)
      return invalid("kiln_hip_module_load_data: the image is not an HSA code object (ELF)");
    hipModule_t handle = nullptr;
    hipError_t r = device->select();
    if (r == kHipSuccess)
      r = hip.hipModuleLoadData(&handle, image);
    if (r != kHipSuccess)
      return fail(hip, r, "hipModuleLoadData",
                  "loading a code object (" + std::to_string(bytes) + " bytes)");
    *module = new kiln_hip_module_t{device, handle};
    return KILN_SUCCESS;
  });
}

kiln_status kiln_hip_module_load_file(kiln_hip_device device, const char *path,
                                      kiln_hip_module *module) {
  if (!path)
    return invalid("kiln_hip_module_load_file: path is NULL");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    lastError.clear();
    return lastError.set(KILN_ERROR_IO, std::string("cannot read code object '") + path + "'");
  }
  std::vector<char> image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return kiln_hip_module_load_data(device, image.data(), image.size(), module);
}

static void unloadIfUnused(kiln_hip_module module) {
  if (!module->unloadRequested || module->kernels)
    return;
  std::string error;
  if (const Hip *hip = loadHip(error)) {
    module->device->select();
    hip->hipModuleUnload(module->module);
  }
  delete module;
}

void kiln_hip_module_unload(kiln_hip_module module) {
  if (!module)
    return;
  module->unloadRequested = true;
  unloadIfUnused(module);
}

kiln_status kiln_hip_module_get_kernel(kiln_hip_module module, const char *name,
                                       kiln_hip_kernel *kernel) {
  if (!module || !name || !kernel)
    return invalid("kiln_hip_module_get_kernel: NULL module, name or kernel");
  *kernel = nullptr;
  return withHip([&](const Hip &hip) {
    hipFunction_t function = nullptr;
    hipError_t r = module->device->select();
    if (r == kHipSuccess)
      r = hip.hipModuleGetFunction(&function, module->module, name);
    if (r != kHipSuccess)
      return fail(hip, r, "hipModuleGetFunction", std::string("finding kernel '") + name + "'");
    ++module->kernels;
    *kernel = new kiln_hip_kernel_t{module, function, name, nullptr};
    return KILN_SUCCESS;
  });
}

void kiln_hip_kernel_release(kiln_hip_kernel kernel) {
  if (!kernel)
    return;
  kiln_hip_module module = kernel->module;
  delete kernel;
  --module->kernels;
  unloadIfUnused(module);
}

kiln_status kiln_hip_kernel_set_signature(kiln_hip_kernel kernel, const kiln_gpu_arg_kind *kinds,
                                          size_t count) {
  lastError.clear();
  if (!kernel || (count && !kinds))
    return invalid("kiln_hip_kernel_set_signature: NULL kernel or kinds");
  for (size_t i = 0; i < count; ++i)
    if (!argBytes(kinds[i]))
      return invalid("kiln_hip_kernel_set_signature: parameter " + std::to_string(i) +
                     " has an unknown kind");
  kernel->signature = std::make_unique<std::vector<kiln_gpu_arg_kind>>(kinds, kinds + count);
  return KILN_SUCCESS;
}

kiln_status kiln_hip_buffer_alloc(kiln_hip_device device, size_t bytes, kiln_hip_buffer *buffer) {
  if (!device || !bytes || !buffer)
    return invalid("kiln_hip_buffer_alloc: NULL device or buffer, or 0 bytes");
  *buffer = nullptr;
  return withHip([&](const Hip &hip) {
    void *address = nullptr;
    hipError_t r = device->select();
    if (r == kHipSuccess)
      r = hip.hipMalloc(&address, bytes);
    if (r != kHipSuccess)
      return fail(hip, r, "hipMalloc", "allocating " + std::to_string(bytes) + " bytes");
    *buffer = new kiln_hip_buffer_t{device, address, bytes};
    return KILN_SUCCESS;
  });
}

void kiln_hip_buffer_free(kiln_hip_buffer buffer) {
  if (!buffer)
    return;
  std::string error;
  if (const Hip *hip = loadHip(error)) {
    buffer->device->select();
    hip->hipFree(buffer->address);
  }
  delete buffer;
}

uint64_t kiln_hip_buffer_address(kiln_hip_buffer buffer) {
  return buffer ? reinterpret_cast<uint64_t>(buffer->address) : 0;
}

static bool inBounds(kiln_hip_buffer buffer, size_t offset, size_t bytes) {
  return offset <= buffer->bytes && bytes <= buffer->bytes - offset;
}

kiln_status kiln_hip_copy_to_device(kiln_hip_buffer dst, size_t offset, const void *src,
                                    size_t bytes) {
  if (!dst || (bytes && !src))
    return invalid("kiln_hip_copy_to_device: NULL buffer or source");
  if (!inBounds(dst, offset, bytes))
    return invalid("kiln_hip_copy_to_device: " + std::to_string(bytes) + " bytes at offset " +
                   std::to_string(offset) + " overrun a buffer of " + std::to_string(dst->bytes));
  return withHip([&](const Hip &hip) {
    hipError_t r = dst->device->select();
    if (r == kHipSuccess)
      r = hip.hipMemcpyHtoD(static_cast<char *>(dst->address) + offset, src, bytes);
    return r == kHipSuccess ? KILN_SUCCESS : fail(hip, r, "hipMemcpyHtoD", "copying to the GPU");
  });
}

kiln_status kiln_hip_copy_to_host(void *dst, kiln_hip_buffer src, size_t offset, size_t bytes) {
  if (!src || (bytes && !dst))
    return invalid("kiln_hip_copy_to_host: NULL buffer or destination");
  if (!inBounds(src, offset, bytes))
    return invalid("kiln_hip_copy_to_host: " + std::to_string(bytes) + " bytes at offset " +
                   std::to_string(offset) + " overrun a buffer of " + std::to_string(src->bytes));
  return withHip([&](const Hip &hip) {
    hipError_t r = src->device->select();
    if (r == kHipSuccess)
      r = hip.hipMemcpyDtoH(dst, static_cast<char *>(src->address) + offset, bytes);
    return r == kHipSuccess ? KILN_SUCCESS : fail(hip, r, "hipMemcpyDtoH", "copying from the GPU");
  });
}

kiln_status kiln_hip_launch(kiln_hip_kernel kernel, const kiln_gpu_launch_config *config,
                            const kiln_gpu_arg *args, size_t num_args) {
  if (!kernel)
    return invalid("kiln_hip_launch: kernel is NULL");
  if (!validConfig(config))
    return invalid("kiln_hip_launch: kernel '" + kernel->name +
                   "': the grid and block need every dimension >= 1");
  std::string wrong = checkArgs(kernel->name, kernel->signature.get(), args, num_args);
  if (!wrong.empty()) {
    lastError.clear();
    return lastError.set(KILN_ERROR_INVALID_LAUNCH_ARGUMENT, wrong);
  }
  return withHip([&](const Hip &hip) {
    // kernelParams points at each value; HIP copies them by the kernel's own metadata.
    std::vector<void *> params(num_args);
    std::vector<kiln_gpu_arg> values(args, args + num_args);
    for (size_t i = 0; i < num_args; ++i)
      params[i] = &values[i].value;
    hipError_t r = kernel->module->device->select();
    if (r == kHipSuccess)
      r = hip.hipModuleLaunchKernel(kernel->function, config->grid[0], config->grid[1],
                                    config->grid[2], config->block[0], config->block[1],
                                    config->block[2], unsigned(config->shared_bytes), nullptr,
                                    num_args ? params.data() : nullptr, nullptr);
    return r == kHipSuccess ? KILN_SUCCESS
                            : fail(hip, r, "hipModuleLaunchKernel",
                                   "launching kernel '" + kernel->name + "'");
  });
}

} // extern "C"
