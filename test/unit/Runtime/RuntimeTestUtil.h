// Helpers shared by the CUDA runtime tests: scoped environment variables, driver presence.
#ifndef KILN_TEST_UNIT_RUNTIME_RUNTIMETESTUTIL_H
#define KILN_TEST_UNIT_RUNTIME_RUNTIMETESTUTIL_H

#include <dlfcn.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace kiln::runtime::cuda::test {

/// Sets (or, with nullopt, unsets) an environment variable for one scope.
class ScopedEnv {
public:
  ScopedEnv(const char *name, std::optional<std::string> value) : name_(name) {
    if (const char *old = std::getenv(name))
      old_ = old;
    if (value)
      setenv(name, value->c_str(), 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

private:
  const char *name_;
  std::optional<std::string> old_;
};

/// Whether the real driver can be loaded here, probed independently of the runtime.
inline bool realDriverPresent() {
  void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!h)
    return false;
  dlclose(h);
  return true;
}

} // namespace kiln::runtime::cuda::test

#endif
