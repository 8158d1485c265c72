//===- KernelConfig.h - every tuning knob of a compile in one value ---------===//
//
// A KernelConfig is what kilnc's flags, a JIT call and an autotuner vary: constexpr
// bindings (tile sizes), threads, pipeline stages, warp specialisation, clusters, the
// sm_90a copy and overlap choices. Fields left unset keep what the kernel source says
// (its attributes) or the target's default. It round-trips through JSON:
//
//   {"constants": {"BLOCK": 128}, "threads": 256, "num_stages": 3,
//    "warp_specialize": true, "tma": true, "intra_overlap": true}
//
// kilnc accepts it with --config=FILE|JSON and prints it into every kernel's metadata.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_DRIVER_KERNELCONFIG_H
#define KILN_DRIVER_KERNELCONFIG_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kiln::driver {

struct KernelConfig {
  /// constexpr parameters bound by name (kilnc -D NAME=VALUE); VALUE is an integer or
  /// float literal as the kernel's parameter type reads it.
  std::vector<std::pair<std::string, std::string>> constants;
  /// GPU threads per program for kernels that do not say (num_threads); 128.
  int64_t threads = 128;
  /// Overrides of the kernel attributes of the same names, for every kernel of the module.
  std::optional<int64_t> numThreads, numStages, streamBlock, minProgramsPerSM, cluster;
  std::optional<bool> warpSpecialize;
  /// sm_90a: copy warpgroup-MMA operand tiles by TMA (else cp.async).
  bool tma = true;
  /// sm_90a producer kernels: consumer warpgroups take turns at the MMAs.
  bool pingPong = false;
  /// sm_90a producer kernels: a loop's last MMA group overlaps the next softmax.
  bool intraOverlap = true;

  /// "NAME=VALUE" strings of `constants`, as kiln-specialize takes them.
  std::vector<std::string> constantBindings() const;
  /// Binds `NAME=VALUE` (kilnc -D); fails on a malformed binding.
  llvm::Error addConstant(llvm::StringRef binding);

  /// The ranges the dialect's verifier enforces on the attributes, checked here so the
  /// message names the config field: "config: num_stages must be between 1 and 8, got 9".
  llvm::Error verify() const;

  /// JSON with every field (unset overrides omitted), keys as in the example above.
  std::string toJSON() const;
  /// Parses JSON text; unknown keys and wrong types are errors naming the key.
  static llvm::Expected<KernelConfig> fromJSON(llvm::StringRef text);
};

} // namespace kiln::driver

#endif // KILN_DRIVER_KERNELCONFIG_H
