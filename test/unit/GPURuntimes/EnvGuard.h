// Sets (or unsets) an environment variable for one scope.
#ifndef KILN_TEST_GPU_RUNTIMES_ENVGUARD_H
#define KILN_TEST_GPU_RUNTIMES_ENVGUARD_H

#include <cstdlib>
#include <optional>
#include <string>

namespace kiln::test {

class EnvGuard {
public:
  EnvGuard(const char *name, std::optional<std::string> value) : name(name) {
    if (const char *old = std::getenv(name))
      previous = old;
    if (value)
      setenv(name, value->c_str(), 1);
    else
      unsetenv(name);
  }
  ~EnvGuard() {
    if (previous)
      setenv(name, previous->c_str(), 1);
    else
      unsetenv(name);
  }
  EnvGuard(const EnvGuard &) = delete;
  EnvGuard &operator=(const EnvGuard &) = delete;

private:
  const char *name;
  std::optional<std::string> previous;
};

} // namespace kiln::test

#endif
