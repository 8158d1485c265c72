//===- Attention.h - the IO-aware schedule of tiled attention ---------------===//
//
// FlashAttention's IO analysis as a first-order model that ranks candidate query blocks
// BM, key blocks BN and pipeline depths S for one head dimension and chip: the on-chip
// footprint (shared memory for Q and S stages of K and V; registers for the S, P and O
// tiles a thread holds) gives the programs that fit on an SM and the query rows they keep
// in flight; the bytes K and V stream through L2 per query block (FlashAttention's
// N^2 d^2 / M term) cap the rate at L2 bandwidth x BM flops per byte. The ranking is
// docs/attention-schedule.md's; an autotuner refines among the top candidates.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_SCHEDULE_ATTENTION_H
#define KILN_SCHEDULE_ATTENTION_H

#include "kiln/Target/Chips.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::schedule {

/// What the model needs to know of a chip: a view of the chip table's entry
/// (kiln/Target/Chips.h), where the facts live.
struct Chip : target::ScheduleFacts {
  std::string name;
  int64_t sharedPerProgram; ///< bytes one program may use
};

/// Registers each of `threads` threads sharing a register file of `registers` may have
/// (NVIDIA: allocated in steps of 8, at most 255 a thread).
int64_t registerBudget(int64_t registers, int64_t threads);

/// With a producer warpgroup (sm_90a warp specialisation): the registers the producer
/// keeps, and what each of `consumers` threads gets when it takes what the producer gave
/// back from the launch share of consumers + 128 threads (setmaxnreg draws on nothing
/// else).
constexpr int64_t kProducerThreads = 128, kProducerRegisters = 56;
int64_t consumerRegisters(int64_t consumers);

/// The chip table's entry for `name` where it has schedule facts (sm_90a, sm_80);
/// nullopt for others.
std::optional<Chip> lookupChip(const std::string &name);

/// One candidate schedule and what the model says of it.
struct AttentionSchedule {
  int64_t blockM = 0, blockN = 0, stages = 0, threads = 0;
  int64_t sharedBytes = 0, registers = 0; ///< per program; registers per thread (estimate)
  int64_t programsPerSM = 0;              ///< 0: does not fit
  /// programsPerSM is enforced (min_programs_per_sm): registers is then the budget
  /// ptxas must fit, a few below the estimate.
  bool forced = false;
  /// Copies by a producer warpgroup (warp_specialize): one program per SM of two or more
  /// consumer warpgroups whose registers fit what the consumers get.
  bool warpSpecialized = false;
  double l2Bytes = 0;                     ///< K and V streamed once per query block
  double flopsPerSecond = 0;              ///< the model's rate
  std::string limit;                      ///< "rows" (latency) or "l2" (bandwidth)
};

/// Every candidate for heads x n queries/keys of head dimension d (2-byte elements), best
/// first; candidates that do not fit (programsPerSM == 0) last.
std::vector<AttentionSchedule> rankAttentionSchedules(const Chip &chip, int64_t heads, int64_t n,
                                                      int64_t d, bool causal);

} // namespace kiln::schedule

#endif
