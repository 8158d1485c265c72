// What the HIP and Level Zero runtimes share: runtime library loading, argument checks
// against a kernel signature, per-thread last error. Header-only, no vendor headers.
#ifndef KILN_RUNTIME_GPU_LAUNCH_H
#define KILN_RUNTIME_GPU_LAUNCH_H

#include "kiln/c/kiln_gpu.h"
#include "kiln/c/kiln_status.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace kiln::runtime::gpu {

inline const char *argKindName(kiln_gpu_arg_kind kind) {
  switch (kind) {
  case KILN_GPU_ARG_POINTER: return "pointer";
  case KILN_GPU_ARG_I32: return "i32";
  case KILN_GPU_ARG_I64: return "i64";
  case KILN_GPU_ARG_F32: return "f32";
  case KILN_GPU_ARG_F64: return "f64";
  }
  return "unknown";
}

/// Bytes an argument of `kind` occupies in the kernel's argument list; 0 for a bad kind.
inline size_t argBytes(kiln_gpu_arg_kind kind) {
  switch (kind) {
  case KILN_GPU_ARG_I32:
  case KILN_GPU_ARG_F32: return 4;
  case KILN_GPU_ARG_POINTER:
  case KILN_GPU_ARG_I64:
  case KILN_GPU_ARG_F64: return 8;
  }
  return 0;
}

/// Empty when `args` fit `signature` (when one is set), else which argument is wrong.
inline std::string checkArgs(const std::string &kernel,
                             const std::vector<kiln_gpu_arg_kind> *signature,
                             const kiln_gpu_arg *args, size_t count) {
  if (count && !args)
    return "kernel '" + kernel + "': arguments are NULL";
  for (size_t i = 0; i < count; ++i)
    if (!argBytes(args[i].kind))
      return "kernel '" + kernel + "': argument " + std::to_string(i) + " has an unknown kind";
  if (!signature)
    return {};
  if (signature->size() != count)
    return "kernel '" + kernel + "' takes " + std::to_string(signature->size()) +
           " arguments, got " + std::to_string(count);
  for (size_t i = 0; i < count; ++i)
    if ((*signature)[i] != args[i].kind)
      return "kernel '" + kernel + "': argument " + std::to_string(i) + " must be " +
             argKindName((*signature)[i]) + ", got " + argKindName(args[i].kind);
  return {};
}

inline bool validConfig(const kiln_gpu_launch_config *c) {
  if (!c)
    return false;
  for (int d = 0; d < 3; ++d)
    if (!c->grid[d] || !c->block[d])
      return false;
  return true;
}

/// The first of `names` that dlopen loads ($env first when set); error text says what was tried.
inline void *openLibrary(const char *env, const std::vector<const char *> &names,
                         std::string &tried) {
  std::vector<std::string> candidates;
  if (const char *fromEnv = std::getenv(env); fromEnv && *fromEnv)
    candidates.push_back(fromEnv);
  else
    candidates.assign(names.begin(), names.end());
  for (const std::string &name : candidates) {
    if (void *handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL))
      return handle;
    const char *why = dlerror();
    tried += (tried.empty() ? "" : "; ") + name + ": " + (why ? why : "not loadable");
  }
  return nullptr;
}

/// The per-thread last error of one C API.
struct LastError {
  std::string message;
  int result = 0; ///< the vendor's error code, 0 when the error is Kiln's

  kiln_status set(kiln_status status, std::string text, int vendorResult = 0) {
    message = std::move(text);
    result = vendorResult;
    return status;
  }
  void clear() {
    message.clear();
    result = 0;
  }
};

} // namespace kiln::runtime::gpu

#endif // KILN_RUNTIME_GPU_LAUNCH_H
