#!/usr/bin/env bash
# Compiles every kernel the NVIDIA bench runs: build-kernels.sh [DIR [CHIP]]
# (default carry/kiln-nvidia and sm_90a). Run here, then carry DIR to the GPU machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out=${1:-$root/carry/kiln-nvidia}
chip=${2:-sm_90a}
kilnc=${KILNC:-$root/build/bin/kilnc}
mkdir -p "$out"
for k in examples/vector_add/vadd examples/softmax/softmax examples/softmax/softmax_row4096 \
         examples/softmax/softmax_row32768 examples/matmul/matmul examples/matmul/matmul_128x128 \
         bench/nvidia/kernels/rowstats; do
  "$kilnc" "$root/$k.mlir" --target="$chip" -o "$out"
done
