//===- ChipTable.cpp - the one table of GPU chip facts ----------------------===//
#include "kiln/Target/Chips.h"

namespace kiln::target {

const char *vendorName(Vendor vendor) {
  switch (vendor) {
  case Vendor::NVIDIA:
    return "NVIDIA";
  case Vendor::AMD:
    return "AMD";
  case Vendor::Intel:
    return "Intel";
  }
  return "?";
}

const std::vector<GPUTarget> &gpuTargets() {
  // Workgroup memory one kernel may use: on NVIDIA the dynamic shared memory a block may
  // opt into (163 KiB on A100, 227 KiB on H100), a CU's 64 KiB LDS on AMD (an RDNA3 WGP
  // has 128 KiB but a workgroup gets 64), 128 KiB of SLM per Xe-core on Intel. sm_90a adds
  // warpgroup MMAs to mma.sync. AMD uses MFMA (CDNA) and WMMA (RDNA3); Intel DPAS with
  // operands by 2D block reads (both chips: sub-group 16, 8x16x16). Thread-block
  // clusters (a program spread over blocks sharing distributed shared memory) are
  // Hopper's: up to 16 blocks (above 8 the launcher opts in; the CUDA runtime does).
  // Schedule facts: L2 about 10 TB/s on H100, 5 on A100; the MMA rate is the dense bf16
  // rate cuBLAS reaches (H100 ~790 of 989 TFLOP/s, A100 ~280 of 312). Rows to saturate
  // are calibrated on Kiln's H100 attention measurements (docs/attention-schedule.md), as
  // is the H100's register base (ptxas counts of Kiln's wgmma kernels); the A100's is an
  // earlier, looser estimate.
  static const std::vector<GPUTarget> targets = {
      {"sm_80", Vendor::NVIDIA, "Ampere (A100)", 32, 163 * 1024, 32, 1024, "nvidia-m16n8k16", 1,
       ScheduleFacts{164 * 1024, 65536, 2048, 5.0e12, 280e12, 512, 75, false, false}},
      {"sm_90a", Vendor::NVIDIA, "Hopper (H100)", 32, 227 * 1024, 32, 1024, "nvidia-wgmma", 16,
       ScheduleFacts{228 * 1024, 65536, 2048, 10.0e12, 790e12, 512, 48, true, true}},
      {"gfx90a", Vendor::AMD, "CDNA2 (MI200)", 64, 64 * 1024, 32, 1024, "amd-mfma", 1},
      {"gfx942", Vendor::AMD, "CDNA3 (MI300)", 64, 64 * 1024, 32, 1024, "amd-mfma", 1},
      {"gfx1100", Vendor::AMD, "RDNA3 (RX 7900)", 32, 64 * 1024, 32, 1024, "amd-wmma", 1},
      {"pvc", Vendor::Intel, "Xe-HPC (Data Center GPU Max)", 16, 128 * 1024, 16, 1024,
       "intel-dpas", 1},
      {"bmg", Vendor::Intel, "Xe2 (Battlemage)", 16, 128 * 1024, 16, 1024, "intel-dpas", 1},
  };
  return targets;
}

const GPUTarget *lookupGPUTarget(std::string_view chip) {
  for (const GPUTarget &t : gpuTargets())
    if (chip == t.chip)
      return &t;
  return nullptr;
}

} // namespace kiln::target
