// The run-time loaded CUDA driver: a table of entry points and CUresult-to-Status translation.
#ifndef KILN_RUNTIME_CUDA_DRIVER_H
#define KILN_RUNTIME_CUDA_DRIVER_H

#include "DriverAPI.h"
#include "kiln/Runtime/CUDA.h"

#include <string>

namespace kiln::runtime::cuda {

/// The ABI version Kiln asks cuGetProcAddress for: the CUDA 12.0 signatures in DriverAPI.h.
constexpr int kRequestedCudaVersion = 12000;

// X(member, dlsym name of that ABI, required). cuGetProcAddress takes the member name.
#define KILN_CUDA_DRIVER_FUNCTIONS(X)                                                         \
  X(cuInit, "cuInit", true)                                                                  \
  X(cuDriverGetVersion, "cuDriverGetVersion", true)                                          \
  X(cuGetErrorName, "cuGetErrorName", true)                                                  \
  X(cuGetErrorString, "cuGetErrorString", true)                                              \
  X(cuDeviceGetCount, "cuDeviceGetCount", true)                                              \
  X(cuDeviceGet, "cuDeviceGet", true)                                                        \
  X(cuDeviceGetName, "cuDeviceGetName", true)                                                \
  X(cuDeviceGetAttribute, "cuDeviceGetAttribute", true)                                      \
  X(cuDeviceTotalMem, "cuDeviceTotalMem_v2", true)                                           \
  X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", true)                              \
  X(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", true)                         \
  X(cuCtxGetCurrent, "cuCtxGetCurrent", true)                                                \
  X(cuCtxSetCurrent, "cuCtxSetCurrent", true)                                                \
  X(cuCtxSynchronize, "cuCtxSynchronize", true)                                              \
  X(cuModuleLoadData, "cuModuleLoadData", true)                                              \
  X(cuModuleLoadDataEx, "cuModuleLoadDataEx", true)                                          \
  X(cuModuleUnload, "cuModuleUnload", true)                                                  \
  X(cuModuleGetFunction, "cuModuleGetFunction", true)                                        \
  X(cuFuncGetAttribute, "cuFuncGetAttribute", true)                                          \
  X(cuFuncSetAttribute, "cuFuncSetAttribute", true)                                          \
  X(cuFuncGetParamInfo, "cuFuncGetParamInfo", false)                                         \
  X(cuLaunchKernel, "cuLaunchKernel", true)                                                  \
  X(cuMemAlloc, "cuMemAlloc_v2", true)                                                       \
  X(cuMemFree, "cuMemFree_v2", true)                                                         \
  X(cuMemcpyHtoD, "cuMemcpyHtoD_v2", true)                                                   \
  X(cuMemcpyDtoH, "cuMemcpyDtoH_v2", true)                                                   \
  X(cuMemcpyDtoD, "cuMemcpyDtoD_v2", true)                                                   \
  X(cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2", true)                                         \
  X(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2", true)                                         \
  X(cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2", true)                                         \
  X(cuMemsetD8, "cuMemsetD8_v2", true)                                                       \
  X(cuMemsetD8Async, "cuMemsetD8Async", true)                                                \
  X(cuMemsetD32, "cuMemsetD32_v2", true)                                                     \
  X(cuMemsetD32Async, "cuMemsetD32Async", true)                                              \
  X(cuStreamCreate, "cuStreamCreate", true)                                                  \
  X(cuStreamDestroy, "cuStreamDestroy_v2", true)                                             \
  X(cuStreamSynchronize, "cuStreamSynchronize", true)                                        \
  X(cuEventCreate, "cuEventCreate", true)                                                    \
  X(cuEventDestroy, "cuEventDestroy_v2", true)                                               \
  X(cuEventRecord, "cuEventRecord", true)                                                    \
  X(cuEventSynchronize, "cuEventSynchronize", true)                                          \
  X(cuEventElapsedTime, "cuEventElapsedTime", true)

/// One loaded driver library. Never unloaded: objects freed during process exit may still
/// call into it, and unloading libcuda is not supported anyway.
struct Driver {
#define KILN_DECLARE_MEMBER(name, dlsymName, required) driver::PFN_##name name = nullptr;
  KILN_CUDA_DRIVER_FUNCTIONS(KILN_DECLARE_MEMBER)
#undef KILN_DECLARE_MEMBER

  std::string libraryName;
  int version = 0; ///< cuDriverGetVersion, e.g. 13000.

  /// "CUDA_ERROR_INVALID_IMAGE (device kernel image is invalid)".
  std::string describe(driver::CUresult result) const;
  /// Success for CUDA_SUCCESS, else an error "<doing>: <call>: <describe(result)>" (no
  /// "<doing>: " when doing is empty), with an ErrorCode chosen from the result.
  Status check(driver::CUresult result, const char *call, const std::string &doing = {}) const;
};

/// The driver named by driverLibraryName(), loaded and initialised (cuInit) once.
Expected<Driver *> getDriver();

namespace detail {

struct DeviceState {
  Driver *driver = nullptr;
  driver::CUdevice device = 0;
  driver::CUcontext context = nullptr;
  DeviceProperties properties;

  ~DeviceState();
  /// Makes the primary context current on this thread (a no-op when it already is).
  Status makeCurrent() const;
};

struct ModuleState {
  std::shared_ptr<DeviceState> device;
  driver::CUmodule module = nullptr;
  std::string origin; ///< "memory (N bytes)" or the file path, for messages.
  ~ModuleState();
};

} // namespace detail

} // namespace kiln::runtime::cuda

#endif // KILN_RUNTIME_CUDA_DRIVER_H
