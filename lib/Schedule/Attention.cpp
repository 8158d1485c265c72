//===- Attention.cpp - the IO-aware schedule of tiled attention -------------===//
#include "kiln/Schedule/Attention.h"
#include "kiln/Target/Chips.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <tuple>

namespace kiln::schedule {

std::optional<Chip> lookupChip(const std::string &name) {
  const target::GPUTarget *t = target::lookupGPUTarget(name);
  if (!t || !t->schedule)
    return std::nullopt;
  return Chip{{*t->schedule}, name, t->sharedMemoryBytes};
}

int64_t registerBudget(int64_t registers, int64_t threads) {
  return std::min<int64_t>(255, registers / threads / 8 * 8);
}

int64_t consumerRegisters(int64_t consumers) {
  int64_t launch = 65536 / (consumers + kProducerThreads) / 8 * 8;
  return std::min<int64_t>(
      255, launch + kProducerThreads * (launch - kProducerRegisters) / consumers / 8 * 8);
}

/// Registers ptxas may be asked to save below the estimate to fit one more program, and
/// the smallest budget it is asked to fit.
constexpr int64_t kForcedSlack = 8;
constexpr int64_t kForcedMinBudget = 160;

/// Registers a thread needs: the S and O accumulators (f32) and P (bf16 pairs) of its
/// share of the block, plus the chip's base.
static int64_t estimateRegisters(const Chip &chip, int64_t bm, int64_t bn, int64_t d,
                                 int64_t threads) {
  return chip.registerBase + (bm * bn + bm * d) / threads + bm * bn / (2 * threads);
}

std::vector<AttentionSchedule> rankAttentionSchedules(const Chip &chip, int64_t heads, int64_t n,
                                                      int64_t d, bool causal) {
  std::vector<AttentionSchedule> out;
  const double elem = 2; // bf16 / f16
  for (int64_t bm : {64, 128, 256}) // whole warpgroups, a power-of-two thread count
    for (int64_t bn : {32, 64, 128, 256})
      for (int64_t stages : {2, 3, 4}) {
        AttentionSchedule s;
        s.blockM = bm, s.blockN = bn, s.stages = stages;
        s.threads = bm / 64 * 128; // one warpgroup per 64 query rows
        // Q once, K and V per stage; mbarriers and alignment (1.5 KiB measured). P goes
        // through shared memory unless wgmma reads it from registers, which needs key
        // blocks of whole 64-column operand blocks (measured: every sm_80 block, and
        // sm_90a's 64x32 and 128x32, used exactly BM x BN x 2 bytes more).
        s.sharedBytes = (int64_t)(bm * d * elem + stages * 2 * bn * d * elem) + 2048;
        if (!chip.warpgroupMma || bn % 64 != 0)
          s.sharedBytes += (int64_t)(bm * bn * elem);
        s.registers = estimateRegisters(chip, bm, bn, d, s.threads);
        if (s.registers <= 255 && s.sharedBytes <= chip.sharedPerProgram) {
          int64_t regs = (s.registers + 7) / 8 * 8; // allocation granularity
          int64_t others =
              std::min(chip.sharedPerSM / s.sharedBytes, chip.threadsPerSM / s.threads);
          s.programsPerSM = std::min(others, chip.registersPerSM / (regs * s.threads));
          // One program more when registers are all that stops it and ptxas, asked
          // (min_programs_per_sm), can fit them within a few of the estimate, in a budget
          // that leaves it room (measured: D 64 64x128, estimated 176, fitted 168 without
          // spills; D 128 64x32, estimated 136, spilled 300 bytes at 128).
          int64_t more = s.programsPerSM + 1;
          int64_t budget = registerBudget(chip.registersPerSM, more * s.threads);
          if (s.programsPerSM >= 1 && more <= others && budget >= kForcedMinBudget &&
              s.registers <= budget + kForcedSlack) {
            s.programsPerSM = more;
            s.registers = budget;
            s.forced = true;
          }
          // A program alone on its SM with two or more warpgroups gains from a producer
          // warpgroup (measured at D 128, 128x128: +7-17%); where several programs share
          // an SM, the producer's threads and registers cost one (D 64 64x128: -47%).
          s.warpSpecialized = chip.producerWarpgroup && s.programsPerSM == 1 &&
                              s.threads >= 256 && s.registers <= consumerRegisters(s.threads);
        }
        // Every query block streams K and V (half of them on average when causal) from
        // L2: BM flops per byte moved.
        double frac = causal ? 0.5 : 1.0;
        s.l2Bytes = heads * std::ceil((double)n / bm) * 2.0 * n * d * elem * frac;
        // Each key block costs a fixed sequence of waits, reductions and a barrier besides
        // its MMAs: the share of time the MMAs get grows with BN as BN / (BN + 96)
        // (calibrated: D128's 64x32 blocks measured a third of 64x64's rate).
        double rows = (double)s.programsPerSM * bm;
        double byRows = chip.mmaFlopsPerSecond * std::min(1.0, rows / chip.rowsToSaturate) *
                        bn / (bn + 96.0);
        double byL2 = chip.l2BytesPerSecond * bm;
        s.flopsPerSecond = std::min(byRows, byL2);
        s.limit = byRows <= byL2 ? "rows" : "l2";
        out.push_back(s);
      }
  // Best first: the modelled rate; then more programs per SM (independent programs hide
  // each other's softmax), larger key blocks (fewer iterations), fewer bytes, and fewer
  // stages (one block's work already covers a TMA's latency; a third stage measured no
  // faster at 128x128 and 1.5x slower at 64x64, D 128, where it cost registers).
  auto key = [](const AttentionSchedule &s) {
    return std::make_tuple(s.programsPerSM > 0, s.flopsPerSecond, s.programsPerSM, s.blockN,
                           -s.l2Bytes, -s.stages);
  };
  std::stable_sort(out.begin(), out.end(),
                   [&](const AttentionSchedule &a, const AttentionSchedule &b) { return key(a) > key(b); });
  return out;
}

} // namespace kiln::schedule
