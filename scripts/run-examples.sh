#!/usr/bin/env bash
# run-examples.sh: the main job. Builds Kiln, compiles every example kernel with kilnc
# and runs it on the host against a float64 reference; on a machine with an NVIDIA GPU
# it also compiles the GPU examples and checks and times them against their peers.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh"
for example in vadd_host softmax_host matmul_host linear_host attention_host attention_family_host \
               attention_varlen_host; do
  echo "== $example (host)"
  "$root/build/examples/$example"
done
# On a machine with an NVIDIA GPU: compile the GPU examples for sm_90a (sm_80 on
# Ampere) and check and time them against torch (and Triton) with bench/nvidia/bench.py.
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n1 | tr -d .)
  chip=sm_90a; [ "${cc:-90}" -lt 90 ] && chip=sm_80
  out="$root/build/nvidia"
  mkdir -p "$out"
  echo "== NVIDIA GPU present: compiling the examples for $chip"
  "$root/bench/nvidia/build-kernels.sh" "$out" "$chip"
  python3 "$root/bench/nvidia/bench.py" --kernels "$out" --out "$out" --no-long-rows
else
  echo "== no NVIDIA GPU here: host results only (GPU kernels are compiled by the tests)"
fi
