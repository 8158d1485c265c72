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
         examples/softmax/softmax_row32768 examples/softmax/softmax_row131072 \
         examples/softmax/softmax_row262144 examples/matmul/matmul examples/matmul/matmul_128x128 \
         examples/matmul/linear_relu examples/attention/attention \
         examples/attention/attention_varlen bench/nvidia/kernels/rowstats; do
  "$kilnc" "$root/$k.mlir" --target="$chip" -o "$out"
done
# GEMM tile shapes for tuning (BM BN BK threads stages group [copy]), instantiated from the
# template; copy "cpasync" keeps sm_90a's operand copies on cp.async instead of TMA, "ws"
# adds a producer warpgroup (warp_specialize; sm_90a only).
gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT
# The template edit that adds a producer warpgroup.
ws_edit=(-e "s/    attributes {grid/    attributes {warp_specialize, grid/")
for cfg in "128 128 64 256 3 1" "128 128 64 256 3 8" "128 256 64 256 4 1" "128 256 64 256 4 8" \
           "128 256 64 256 4 8 cpasync" "128 256 64 256 4 16" "128 256 64 256 4 16 ws" \
           "128 256 32 256 3 1" \
           "16 64 64 128 6 1" "16 64 128 128 6 1"; do
  read -r bm bn bk threads stages group copy <<<"$cfg"
  name=matmul_${bm}x${bn}x${bk}_s${stages}
  [ "$group" -gt 1 ] && name+=_g$group
  flags=()
  edits=()
  if [ "${copy:-}" = cpasync ]; then
    name+=_cpasync
    flags+=(--nvidia-tma=false)
  elif [ "${copy:-}" = ws ]; then
    [ "$chip" = sm_90a ] || continue
    name+=_ws
    edits=("${ws_edit[@]}")
  fi
  sed -e "s/@NAME@/$name/g" -e "s/@BM@/$bm/g" -e "s/@BN@/$bn/g" -e "s/@BK@/$bk/g" \
      -e "s/@THREADS@/$threads/g" -e "s/@STAGES@/$stages/g" -e "s/@GROUP@/$group/g" \
      "${edits[@]}" "$root/bench/nvidia/kernels/gemm.mlir.in" >"$gen/$name.mlir"
  [ "${copy:-}" != ws ] || grep -q warp_specialize "$gen/$name.mlir"
  "$kilnc" "$gen/$name.mlir" --target="$chip" -o "$out" "${flags[@]}"
done
# Attention: for each head dimension, the schedule model's three best block sizes
# (kiln-schedule --per-block; docs/attention-schedule.md), timed side by side on the GPU:
# the bench is where its ranking meets measurements. One warpgroup per 64 query rows;
# full and causal by a run-time flag. bf16, and f16 at the best block (suffix _f16).
# Where the model counts on ptxas fitting the registers to one more program per
# multiprocessor (per-SM "3!"), the kernel asks for it (min_programs_per_sm; suffix _p3)
# and must not spill.
schedule=${KILN_SCHEDULE:-$root/build/bin/kiln-schedule}
# attention NAME T D BM BN THREADS STAGES [sed expressions...]: instantiates the template
# and compiles it (spill-free when the extra edits ask for an occupancy or a producer).
attention() {
  local name=$1 t=$2 d=$3 bm=$4 bn=$5 threads=$6 stages=$7
  shift 7
  local strict=()
  [ $# -gt 0 ] && strict=(--Werror-spills)
  sed -e "s/@NAME@/$name/g" -e "s/@T@/$t/g" -e "s/@D@/$d/g" -e "s/@BM@/$bm/g" \
      -e "s/@BN@/$bn/g" -e "s/@THREADS@/$threads/g" -e "s/@STAGES@/$stages/g" \
      "$@" "$root/bench/nvidia/kernels/attention.mlir.in" >"$gen/$name.mlir"
  "$kilnc" "$gen/$name.mlir" --target="$chip" -o "$out" "${strict[@]}"
}
for d in 64 128 256; do
  "$schedule" attention --chip "$chip" --heads 64 --n 4096 --d "$d" --top 3 --per-block |
    awk '$1 ~ /^[0-9]+x[0-9]+$/ && $NF != "does-not-fit" { split($1, b, "x"); print b[1], b[2], $3, $2, $6, ++rank }' |
    while read -r bm bn threads stages programs rank; do
      for t in bf16 f16; do
        name=attention_d${d}_${bm}x${bn}_s${stages}
        occupancy=()
        if [ "${programs%!}" != "$programs" ]; then
          name+=_p${programs%!}
          occupancy=(-e "s/num_stages = /min_programs_per_sm = ${programs%!} : i64, num_stages = /")
        fi
        if [ "$t" = f16 ]; then
          [ "$rank" = 1 ] || continue
          name=${name}_f16
        fi
        attention "$name" "$t" "$d" "$bm" "$bn" "$threads" "$stages" "${occupancy[@]}"
      done
    done
done
# Warp-specialised D128 attention (a producer warpgroup issues the K/V copies; suffix _ws),
# which the model marks "1+p" for 128x128 (the loop above builds the lockstep kernel of
# every rank, the A/B baseline):
# 128x128 blocks over two consumer warpgroups, 2 and 3 stages (3 fits once the consumers
# never meet at a block-wide barrier). sm_90a only; at D64 the producer costs the
# multi-program occupancy that kernel lives on, so none there.
# D256: the model's 128x64 block with a producer, beside its lockstep form from the loop.
# D128's key loop overlaps each block's softmax with the previous block's P·V (the
# lowering's intra-warpgroup overlap; D256's 128x64 leaves too few registers for it).
# f16 at D128's 3 stages too.
if [ "$chip" = sm_90a ]; then
  for cfg in "128 128 2 bf16" "128 128 3 bf16" "128 128 3 f16" "256 64 2 bf16"; do
    read -r d bn stages t <<<"$cfg"
    name=attention_d${d}_128x${bn}_s${stages}_ws
    [ "$t" = f16 ] && name+=_f16
    attention "$name" "$t" "$d" 128 "$bn" 256 "$stages" "${ws_edit[@]}"
    grep -q warp_specialize "$gen/$name.mlir"
  done
fi
