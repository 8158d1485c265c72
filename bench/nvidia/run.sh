#!/usr/bin/env bash
# The whole NVIDIA GPU run of Kiln's compiled kernels, from the repository root on the GPU machine:
#   machine info -> cubin resource usage and SASS -> correctness + timing vs peers (bench.py)
#   -> compute-sanitizer memcheck and racecheck over the small checks (bench.py --sanitize)
#   -> table and summary last. Exits non-zero if any step fails.
#
# Usage:  bench/nvidia/run.sh                  (kernels from carry/kiln-nvidia, results in $OUT or ./out)
#         KILN_KERNELS=DIR KILN_COMMIT=<sha> bench/nvidia/run.sh [extra bench.py args...]
# Through the device tool: carry ["carry/kiln-nvidia"], command
#         KILN_COMMIT=$(git rev-parse --short HEAD) bench/nvidia/run.sh      (the sha taken here)
# Files under $OUT (at most 8 come back): bench.log, <gpu>-<date>-nvidia.json and .png,
# table.txt, sanitize.log, cubins.txt, summary.txt.
# Each case times ours and its peers interleaved (bench.py --rounds, default 5). An A/B run
# of two builds needs no sanitizer pass: call bench.py itself, carry both directories:
#   python3 bench/nvidia/bench.py --kernels carry/kiln-a --ab carry/kiln-b --only NAME --out $OUT
set -u -o pipefail
cd "$(dirname "$0")/../.." || exit 1
OUT=${OUT:-./out}
KERNELS=${KILN_KERNELS:-carry/kiln-nvidia}
SANITIZE_TOOLS=${SANITIZE_TOOLS:-memcheck racecheck}
SANITIZE_TIMEOUT=${SANITIZE_TIMEOUT:-240}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-360}
mkdir -p "$OUT"
export PATH=/usr/local/cuda/bin:$PATH PYTHONUNBUFFERED=1
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
if [ -z "${KILN_COMMIT:-}" ]; then
  KILN_COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
  [ "$KILN_COMMIT" != unknown ] && [ -n "$(git status --porcelain 2>/dev/null)" ] && KILN_COMMIT+="-dirty"
fi
export KILN_COMMIT
bench=bench/nvidia/bench.py
results=()
failed=0
step() { # step NAME COMMAND...: runs it, records PASS/FAIL (rc), never stops the run
  local name=$1; shift
  echo "=== $name"
  "$@"
  local rc=$?
  results+=("$(printf '%-30s %s' "$name" "$([ $rc -eq 0 ] && echo PASS || echo "FAIL (rc $rc)")")")
  [ $rc -eq 0 ] || failed=1
  return $rc
}

echo "=== machine"
nvidia-smi -L
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw --format=csv 2>&1
python3 -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1
python3 -c 'import triton; print("triton", triton.__version__)' 2>&1 | tail -1
python3 -c 'import cupy; print("cupy", cupy.__version__)' 2>&1 | tail -1
compute-sanitizer --version 2>&1 | tail -1
echo "commit $KILN_COMMIT; kernels $KERNELS; date $(date -u '+%F %T UTC')"

if ! ls "$KERNELS"/*.json >/dev/null 2>&1; then
  echo "FAIL: no kernel manifests (*.json) in $KERNELS: compile with kilnc --target=sm_90a -o $KERNELS and carry it"
  exit 1
fi
ls -l "$KERNELS"

# What the compiler made: registers, shared and local memory per kernel, then the SASS.
cubin_info() {
  local f
  shopt -s nullglob
  exec 3>"$OUT/cubins.txt"
  for f in "$KERNELS"/*.cubin; do
    echo "##### $f" >&3
    cuobjdump --dump-resource-usage "$f" >&3 2>&1 || return 1
  done
  for f in "$KERNELS"/*.cubin; do
    echo "##### SASS $f" >&3
    cuobjdump --dump-sass "$f" >&3 2>&1 || return 1
  done
  exec 3>&-
}
step "cubin resource usage + SASS" cubin_info
grep -E '^#####|REG|STACK|SHARED|LOCAL' "$OUT/cubins.txt" | grep -v '^##### SASS' | head -40

step "bench: checks + timing" bash -o pipefail -c "timeout $BENCH_TIMEOUT python3 $bench --kernels '$KERNELS' --out '$OUT' $* 2>&1 | tee '$OUT/bench.log'"

# Small checks under the sanitizer. PyTorch's caching allocator is off so that every tensor is
# its own cudaMalloc and memcheck sees accesses past each buffer's end (canaries catch the rest).
: > "$OUT/sanitize.log"
for tool in $SANITIZE_TOOLS; do
  step "compute-sanitizer $tool" bash -o pipefail -c "PYTORCH_NO_CUDA_MEMORY_CACHING=1 timeout $SANITIZE_TIMEOUT \
    compute-sanitizer --tool $tool --error-exitcode 3 --print-limit 50 \
    python3 $bench --sanitize --kernels '$KERNELS' 2>&1 | tee -a '$OUT/sanitize.log' | \
    (grep -E '^  (ok|FAIL)|ERROR SUMMARY|RACECHECK SUMMARY|sanitize run|rror' || true) | tail -40"
done

echo
echo "=== results"
[ -f "$OUT/table.txt" ] && cat "$OUT/table.txt"
echo
printf '%s\n' "${results[@]}" | tee "$OUT/summary.txt"
[ $failed -eq 0 ] && echo "ALL PASS" | tee -a "$OUT/summary.txt" || echo "SOME STEPS FAILED" | tee -a "$OUT/summary.txt"
exit $failed
