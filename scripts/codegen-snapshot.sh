#!/usr/bin/env bash
# codegen-snapshot.sh DIR [KILNC [KILN_SCHEDULE]]: compiles every bench kernel (sm_90a, sm_80)
# and every example for every AMD and Intel chip into DIR, keeping only what the code is
# (PTX, code objects, SPIR-V), for refactors that must not change generated code:
#   scripts/codegen-snapshot.sh /tmp/before BASE/build/bin/kilnc BASE/build/bin/kiln-schedule
#   scripts/codegen-snapshot.sh /tmp/after
#   diff -r /tmp/before /tmp/after && echo byte-identical
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out=$1
kilnc=${2:-$root/build/bin/kilnc}
schedule=${3:-$root/build/bin/kiln-schedule}
rm -rf "$out"
mkdir -p "$out"
for chip in sm_90a sm_80; do
  KILNC=$kilnc KILN_SCHEDULE=$schedule bash "$root/bench/nvidia/build-kernels.sh" \
    "$out/$chip" "$chip" 2>"$out/$chip.log" >/dev/null
  rm -f "$out/$chip"/*.cubin # ptxas's output follows from the PTX
done
examples=(vector_add/vadd softmax/softmax softmax/softmax_row4096 softmax/softmax_row32768
          matmul/matmul matmul/matmul_128x128 matmul/linear_relu attention/attention)
for chip in gfx90a gfx942 gfx1100 pvc bmg; do
  for f in "${examples[@]}"; do
    "$kilnc" "$root/examples/$f.mlir" --target=$chip -o "$out/$chip" 2>>"$out/$chip.log"
  done
done
sed -i -E "s|/tmp/tmp\.[A-Za-z0-9]+/|<generated>/|g" "$out"/*.log # temp paths differ per run
echo "codegen-snapshot: $(find "$out" -type f ! -name '*.log' | wc -l) files in $out"
