#!/usr/bin/env bash
# Builds warp-specialised attention variants for an A/B run on the GPU:
#   attention-variants.sh DIR "NAME D BN STAGES [kilnc flags...]"...
# each from bench/nvidia/kernels/attention.mlir.in (bf16, 128 query rows over two consumer
# warpgroups and a producer). Then, on the GPU, checks and timing interleaved over rounds
# (single cases drift by up to 10-20% over a run), ratios to the first NAME:
#   python3 bench/nvidia/bench.py --kernels DIR --variants --only NAME,NAME,... --out $OUT
# or, the same kernel built at two commits into DIR_A and DIR_B:
#   python3 bench/nvidia/bench.py --kernels DIR_A --ab DIR_B --only NAME --out $OUT
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out=$1
shift
kilnc=${KILNC:-$root/build/bin/kilnc}
gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT
mkdir -p "$out"
for spec in "$@"; do
  read -r name d bn stages flags <<<"$spec"
  sed -e "s/@NAME@/$name/g" -e "s/@T@/bf16/g" -e "s/@D@/$d/g" -e "s/@BM@/128/g" \
      -e "s/@BN@/$bn/g" -e "s/@THREADS@/256/g" -e "s/@STAGES@/$stages/g" \
      -e "s/    attributes {grid/    attributes {warp_specialize, grid/" \
      "$root/bench/nvidia/kernels/attention.mlir.in" >"$gen/$name.mlir"
  # shellcheck disable=SC2086 # flags split on purpose
  "$kilnc" "$gen/$name.mlir" --target=sm_90a -o "$out" ${flags:-}
done
