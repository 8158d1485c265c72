#!/usr/bin/env bash
# One GPU check of the CUDA runtime: build runtime + gtests + smoke tool, run them, sanitize.
# Usage, from the repository root: tools/kiln-cuda-smoke/gpu-check.sh CUBIN [OUTDIR]
# CUBIN is test/unit/Runtime/Kernels.cu built with nvcc -cubin -arch=sm_90a. GoogleTest is
# built from carry/googletest when present (the GPU machine may not have it installed).
set -u -o pipefail
cubin=$1
out=${2:-/tmp/kiln-cuda-check}
mkdir -p "$out"
export PATH=/usr/local/cuda/bin:$PATH
jobs=$(nproc)
results=()
step() { # step NAME COMMAND...: runs, logs, records PASS/FAIL (rc) without stopping
  local name=$1; shift
  echo "=== $name: $*"
  "$@"
  local rc=$?
  results+=("$(printf '%-34s %s' "$name" "$([ $rc -eq 0 ] && echo PASS || echo "FAIL (rc $rc)")")")
  return $rc
}

echo "=== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
nvcc --version 2>&1 | tail -1
date -u

prefix_args=()
if [ -d carry/googletest ]; then
  step "build googletest" bash -o pipefail -c "cmake -S carry/googletest -B /tmp/gtest-build -G Ninja \
    -DBUILD_GMOCK=OFF -DCMAKE_POLICY_VERSION_MINIMUM=3.5 -DCMAKE_INSTALL_PREFIX=/tmp/gtest \
    >/dev/null && ninja -C /tmp/gtest-build -j$jobs install >/dev/null"
  prefix_args=(-DCMAKE_PREFIX_PATH=/tmp/gtest)
fi

step "build runtime, gtests, smoke" bash -o pipefail -c "cmake -S tools/kiln-cuda-smoke -B /tmp/kcs -G Ninja \
  ${prefix_args[*]} >/dev/null && ninja -C /tmp/kcs -j$jobs"
tests=/tmp/kcs/test/unit/KilnCudaRuntimeTests
smoke=/tmp/kcs/kiln-cuda-smoke

# The gtests use the cubin they built with nvcc here, else the carried one.
command -v nvcc >/dev/null || export KILN_CUDA_TEST_CUBIN=$cubin
step "gtests (all)" bash -o pipefail -c "$tests 2>&1 | tee $out/gtest.txt"
step "smoke (full, timed)" bash -o pipefail -c "$smoke --cubin $cubin --json $out/smoke.json 2>&1 | tee $out/smoke.txt"
for tool in memcheck racecheck synccheck initcheck; do
  step "compute-sanitizer $tool smoke" bash -o pipefail -c "compute-sanitizer --tool $tool --error-exitcode 3 \
    $smoke --cubin $cubin --quick 2>&1 | tee -a $out/sanitizer.txt | tail -4"
done
step "compute-sanitizer memcheck gtests" bash -o pipefail -c "compute-sanitizer --tool memcheck \
  --error-exitcode 3 $tests \
  --gtest_filter='GPU.*:-GPU.ParameterSizesFromCubin:GPU.RealDriverErrorsCarryNames' 2>&1 | tee -a $out/sanitizer.txt | tail -6"
step "missing driver gives clear error" bash -o pipefail -c "KILN_CUDA_DRIVER_LIB=/nonexistent/libcuda.so.1 \
  $smoke --cubin $cubin; test \$? -eq 2"

# The main tree's build of the runtime (and its gtests, once test/CMakeLists.txt adds them).
step "main tree: KilnRuntimeCUDA" bash -o pipefail -c "cmake -S . -B /tmp/kmain -G Ninja \
  -DKILN_ENABLE_COMPILER=OFF ${prefix_args[*]} >/dev/null && ninja -C /tmp/kmain -j$jobs \
  KilnRuntimeCUDA \$(ninja -C /tmp/kmain -t targets all | grep -q '^KilnCudaRuntimeTests:' \
  && echo KilnCudaRuntimeTests) | tail -2"

echo "=== summary"
printf '%s\n' "${results[@]}" | tee "$out/summary.txt"
