// The slice of HIP's C API Kiln calls, declared here so the runtime builds without HIP's
// headers; test/unit/GPURuntimes checks the values against hip_runtime_api.h where present.
#ifndef KILN_RUNTIME_HIP_HIPAPI_H
#define KILN_RUNTIME_HIP_HIPAPI_H

namespace kiln::runtime::hip {

using hipError_t = int;
using hipModule_t = void *;
using hipFunction_t = void *;
// The hipError_t values Kiln tells apart (stable since ROCm 1.x).
constexpr hipError_t kHipSuccess = 0, kHipErrorOutOfMemory = 2, kHipErrorNoDevice = 100,
                     kHipErrorInvalidDevice = 101, kHipErrorNotFound = 500;

} // namespace kiln::runtime::hip

#endif
