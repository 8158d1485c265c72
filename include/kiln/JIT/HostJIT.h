//===- HostJIT.h - compile tile kernels at run time for the host CPU -------===//
#ifndef KILN_JIT_HOSTJIT_H
#define KILN_JIT_HOSTJIT_H

#include "kiln/c/kiln_host.h"

#include <memory>
#include <string>
#include <vector>

namespace kiln::jit {

/// A kernel compiled in memory (ORC JIT) for the host; launch it on host buffers.
class HostKernel {
public:
  ~HostKernel();
  HostKernel(HostKernel &&) noexcept;
  HostKernel &operator=(HostKernel &&) noexcept;

  /// Compiles `kernel` from tile IR text `source` with constexpr `constants`
  /// ("NAME=VALUE"). On failure returns null and sets `error` to the diagnostics
  /// (file:line:col: error: ...), `sourceName` naming the buffer in messages.
  static std::unique_ptr<HostKernel> compile(const std::string &source,
                                             const std::string &kernel,
                                             const std::vector<std::string> &constants,
                                             std::string &error,
                                             const std::string &sourceName = "<jit>");

  /// Runs the kernel over a grid. `args[i]` points at parameter i's value; `numArgs`
  /// must equal the kernel's runtime parameter count.
  kiln_status launch(void **args, size_t numArgs, uint32_t gx, uint32_t gy = 1,
                     uint32_t gz = 1) const;

  /// Number of runtime parameters (constexprs excluded).
  size_t numParams() const;

private:
  struct Impl;
  explicit HostKernel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace kiln::jit

#endif
