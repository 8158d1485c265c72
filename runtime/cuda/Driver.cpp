// Loading libcuda at run time (dlopen + cuGetProcAddress) and translating CUresult to Status.
#include "Driver.h"

#include <dlfcn.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>

namespace kiln::runtime::cuda {

using namespace driver;

static const char *const kDefaultDriverLibrary = "libcuda.so.1";
static const char *const kDriverLibraryEnv = "KILN_CUDA_DRIVER_LIB";

std::string driverLibraryName() {
  const char *env = std::getenv(kDriverLibraryEnv);
  if (env && *env)
    return env;
  return kDefaultDriverLibrary;
}

static std::string versionString(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

std::string Driver::describe(CUresult result) const {
  const char *name = nullptr;
  const char *text = nullptr;
  if (cuGetErrorName(result, &name) != CUDA_SUCCESS || !name)
    return "CUDA error " + std::to_string(result) + " (unknown to this driver)";
  if (cuGetErrorString(result, &text) != CUDA_SUCCESS || !text)
    text = "no description";
  return std::string(name) + " (" + text + ")";
}

static ErrorCode errorCodeFor(CUresult result) {
  switch (result) {
  case CUDA_ERROR_OUT_OF_MEMORY:
    return ErrorCode::OutOfMemory;
  case CUDA_ERROR_NO_DEVICE:
  case CUDA_ERROR_INVALID_DEVICE:
    return ErrorCode::NoDevice;
  case CUDA_ERROR_NOT_FOUND:
  case CUDA_ERROR_FILE_NOT_FOUND:
    return ErrorCode::NotFound;
  default:
    return ErrorCode::CudaError;
  }
}

Status Driver::check(CUresult result, const char *call, const std::string &doing) const {
  if (result == CUDA_SUCCESS)
    return Status::success();
  std::string message = doing.empty() ? std::string() : doing + ": ";
  message += call;
  message += ": ";
  message += describe(result);
  return Status::error(errorCodeFor(result), std::move(message), result);
}

/// dlopen + symbol resolution + cuInit. The returned driver is leaked on purpose (see Driver).
static Expected<Driver *> loadDriverLibrary(const std::string &name, bool fromEnv) {
  void *handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    std::string message = "CUDA driver not found (" + name;
    message += fromEnv ? std::string(", from ") + kDriverLibraryEnv + ")" : ")";
    message += ": no NVIDIA GPU on this machine, or its driver is not installed";
    if (fromEnv)
      message += std::string(" (or ") + kDriverLibraryEnv + " names the wrong file)";
    message += std::string(" [dlopen: ") + (why ? why : "unknown error") + "]";
    return Status::error(ErrorCode::DriverNotFound, std::move(message));
  }

  auto drv = std::make_unique<Driver>();
  drv->libraryName = name;
  // cuGetProcAddress picks the ABI matching kRequestedCudaVersion, so one table works with
  // every driver ≥ 12.0; plain dlsym of the versioned names is the fallback.
  auto getProc = reinterpret_cast<PFN_cuGetProcAddress_v2>(dlsym(handle, "cuGetProcAddress_v2"));
  std::string missing;
  auto resolve = [&](const char *procName, const char *dlsymName, bool required) -> void * {
    void *fn = nullptr;
    if (getProc) {
      CUdriverProcAddressQueryResult found = 0;
      if (getProc(procName, &fn, kRequestedCudaVersion, CU_GET_PROC_ADDRESS_LEGACY_STREAM,
                  &found) != CUDA_SUCCESS)
        fn = nullptr;
    }
    if (!fn)
      fn = dlsym(handle, dlsymName);
    if (!fn && required)
      missing += missing.empty() ? procName : std::string(", ") + procName;
    return fn;
  };
#define KILN_RESOLVE(member, dlsymName, required)                                             \
  drv->member = reinterpret_cast<PFN_##member>(resolve(#member, dlsymName, required));
  KILN_CUDA_DRIVER_FUNCTIONS(KILN_RESOLVE)
#undef KILN_RESOLVE

  if (!drv->cuInit || !drv->cuDriverGetVersion)
    return Status::error(ErrorCode::DriverNotFound,
                         "CUDA driver not found: " + name +
                             (fromEnv ? std::string(" (from ") + kDriverLibraryEnv + ")" : "") +
                             " loads but is not a CUDA driver (it has no cuInit)");
  drv->cuDriverGetVersion(&drv->version);
  if (!missing.empty() || drv->version < kRequestedCudaVersion) {
    // Keep the library loaded: closing a half-initialised libcuda is not worth the risk.
    std::string message = "CUDA driver " + name + " (CUDA " + versionString(drv->version) +
                          ") is too old: Kiln needs CUDA " +
                          versionString(kRequestedCudaVersion) + " or newer";
    if (!missing.empty())
      message += "; missing " + missing;
    return Status::error(ErrorCode::DriverTooOld, std::move(message));
  }
  return drv.release();
}

Expected<Driver *> getDriver() {
  static std::mutex mutex;
  // Loaded drivers by library name; never destroyed so exit-time frees still find them.
  static auto *loaded = new std::map<std::string, Driver *>();
  static auto *initialised = new std::map<Driver *, bool>();

  const char *env = std::getenv(kDriverLibraryEnv);
  bool fromEnv = env && *env;
  std::string name = driverLibraryName();

  std::lock_guard<std::mutex> lock(mutex);
  Driver *drv = nullptr;
  auto it = loaded->find(name);
  if (it != loaded->end()) {
    drv = it->second;
  } else {
    Expected<Driver *> fresh = loadDriverLibrary(name, fromEnv);
    if (!fresh)
      return fresh.status();
    drv = *fresh;
    (*loaded)[name] = drv;
  }
  // cuInit is retried until it succeeds: a missing GPU is reported each time, not cached.
  if (!(*initialised)[drv]) {
    CUresult result = drv->cuInit(0);
    if (result != CUDA_SUCCESS) {
      Status s = drv->check(result, "cuInit",
                            "initialising CUDA driver " + name + " (CUDA " +
                                versionString(drv->version) + ")");
      if (result == CUDA_ERROR_NO_DEVICE)
        return Status::error(ErrorCode::NoDevice, s.message() + ": no NVIDIA GPU visible",
                             result);
      return s;
    }
    (*initialised)[drv] = true;
  }
  return drv;
}

Status loadDriver() {
  Expected<Driver *> drv = getDriver();
  return drv ? Status::success() : drv.status();
}

Expected<int> driverVersion() {
  Expected<Driver *> drv = getDriver();
  if (!drv)
    return drv.status();
  return (*drv)->version;
}

Expected<int> deviceCount() {
  Expected<Driver *> drv = getDriver();
  if (!drv)
    return drv.status().code() == ErrorCode::NoDevice ? Expected<int>(0) : drv.status();
  int count = 0;
  Status s = (*drv)->check((*drv)->cuDeviceGetCount(&count), "cuDeviceGetCount");
  if (!s)
    return s;
  return count;
}

} // namespace kiln::runtime::cuda
