// kiln-schedule: the attention schedule model's ranking for one problem.
//   kiln-schedule attention --chip sm_90a --heads 64 --n 4096 --d 128 [--causal] [--top K]
//                 [--per-block]
// prints the best K candidates (--per-block: only each block size's best depth) (blocks, stages, threads, footprint, programs per SM, L2
// bytes, modelled rate and its limit) and a last line "choice: BMxBN sS threads T".
#include "kiln/Schedule/Attention.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace kiln::schedule;

static int usage(const std::string &why) {
  std::fprintf(stderr,
               "kiln-schedule: %s\nusage: kiln-schedule attention --chip sm_90a|sm_80 --heads H "
               "--n N --d D [--causal] [--top K] [--per-block]\n",
               why.c_str());
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 2 || std::strcmp(argv[1], "attention") != 0)
    return usage("expected the problem kind 'attention'");
  std::string chipName = "sm_90a";
  long heads = 1, n = 0, d = 0, top = 5;
  bool causal = false, perBlock = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](long &out) {
      if (i + 1 >= argc)
        return false;
      char *end = nullptr;
      out = std::strtol(argv[++i], &end, 10);
      return *end == 0 && out > 0;
    };
    if (a == "--chip" && i + 1 < argc)
      chipName = argv[++i];
    else if (a == "--causal")
      causal = true;
    else if (a == "--per-block")
      perBlock = true;
    else if (!((a == "--heads" && value(heads)) || (a == "--n" && value(n)) ||
               (a == "--d" && value(d)) || (a == "--top" && value(top))))
      return usage("bad argument '" + a + "'");
  }
  if (n <= 0 || d <= 0)
    return usage("--n and --d are required");
  if (d % 64 != 0)
    return usage("--d must be a multiple of 64 (whole 128-byte swizzle blocks)");
  auto chip = lookupChip(chipName);
  if (!chip)
    return usage("unknown chip '" + chipName + "' (sm_90a or sm_80)");
  auto ranked = rankAttentionSchedules(*chip, heads, n, d, causal);
  if (perBlock) {
    std::vector<AttentionSchedule> firsts;
    for (const auto &s : ranked)
      if (std::none_of(firsts.begin(), firsts.end(), [&](const AttentionSchedule &f) {
            return f.blockM == s.blockM && f.blockN == s.blockN;
          }))
        firsts.push_back(s);
    ranked = firsts;
  }
  std::printf("%-8s %6s %7s %7s %5s %6s %9s %7s %s\n", "block", "stages", "threads", "smem",
              "regs", "per-SM", "L2-GB", "TFLOP/s", "limit");
  for (long i = 0; i < top && i < (long)ranked.size(); ++i) {
    const auto &s = ranked[i];
    char block[32];
    std::snprintf(block, sizeof block, "%ldx%ld", (long)s.blockM, (long)s.blockN);
    // An enforced occupancy (min_programs_per_sm) shows as "3!", a producer warpgroup
    // (warp_specialize) as "1+p".
    std::string programs =
        std::to_string(s.programsPerSM) + (s.forced ? "!" : "") + (s.warpSpecialized ? "+p" : "");
    std::printf("%-8s %6ld %7ld %7ld %5ld %6s %9.2f %7.0f %s\n", block, (long)s.stages,
                (long)s.threads, (long)s.sharedBytes, (long)s.registers, programs.c_str(),
                s.l2Bytes / 1e9, s.flopsPerSecond / 1e12,
                s.programsPerSM ? s.limit.c_str() : "does-not-fit");
  }
  const auto &best = ranked.front();
  if (!best.programsPerSM) {
    std::fprintf(stderr, "kiln-schedule: no candidate fits %s\n", chipName.c_str());
    return 1;
  }
  std::string forced =
      best.forced ? " min_programs_per_sm " + std::to_string(best.programsPerSM) : "";
  std::printf("choice: %ldx%ld s%ld threads %ld%s%s\n", (long)best.blockM, (long)best.blockN,
              (long)best.stages, (long)best.threads, forced.c_str(),
              best.warpSpecialized ? " warp_specialize" : "");
  return 0;
}
