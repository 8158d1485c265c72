"""Times attention kernel variants against each other, interleaved, for A/B decisions:
    python3 bench/nvidia/ab_attention.py DIR NAME... [--rounds 5] [--out OUT]
DIR holds kilnc's NAME.cubin and NAME.json (bench/nvidia/attention-variants.sh). Per
shape of the attention issue (by head dimension) and full/causal, every round times each
kernel once (median of bench.py's L2-flushed reps), the kernel order rotating by one each
round, so that clock and power drifts over the run fall on all variants alike; each
kernel's rate is the median over rounds, with the spread. Timing only: bench.py checks
the outputs. Writes OUT/ab-attention.json and prints a table, ratios to the first NAME."""
import argparse
import json
import math
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

SHAPES = {64: [(8 * 32, 2048)], 128: [(4 * 16, 4096), (16, 16384)], 256: [(4 * 16, 4096)]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dir")
    ap.add_argument("names", nargs="+")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    args = ap.parse_args(argv)
    import torch
    manifests = bench.load_manifests(args.dir)
    backend = bench.make_backend("auto")
    kernels = {n: bench.Kernel(backend, manifests[n], torch) for n in args.names}
    dims = {bench.attention_head_dim(n) for n in args.names}
    if len(dims) != 1:
        sys.exit("ab_attention: variants of one head dimension only, got %s" % sorted(dims))
    d = dims.pop()
    timer = bench.Timer(torch, args.reps, 5, 256, "write")
    rows = []
    for heads, n in SHAPES.get(d, SHAPES[64]):
        for causal in (0, 1):
            flops = 4.0 * heads * n * n * d * (0.5 if causal else 1.0)
            inputs = {}
            for name in args.names:
                dt = torch.float16 if bench.attention_dtype(name) == "f16" else torch.bfloat16
                if dt not in inputs:
                    q, k, v = (torch.randn(heads, n, d, device="cuda").to(dt) for _ in range(3))
                    inputs[dt] = (q, k, v, torch.empty_like(q),
                                  torch.empty(heads * n, dtype=torch.float32, device="cuda"))
            times = {name: [] for name in args.names}
            for r in range(args.rounds):
                order = args.names[r % len(args.names):] + args.names[:r % len(args.names)]
                for name in order:
                    dt = torch.float16 if bench.attention_dtype(name) == "f16" else torch.bfloat16
                    q, k, v, o, lse = inputs[dt]
                    ms, _ = timer.median_ms(lambda: kernels[name].launch(
                        q=q, k=k, v=v, o=o, lse=lse, n=n, heads=heads, group=1,
                        scale=1.0 / math.sqrt(d), causal=causal))
                    times[name].append(ms)
            case = "%dx%d D%d%s" % (heads, n, d, " causal" if causal else "")
            for name in args.names:
                ms = statistics.median(times[name])
                rows.append({"kernel": name, "case": case, "ms": ms,
                             "tflops": flops / ms / 1e9,
                             "spread": (max(times[name]) - min(times[name])) / ms,
                             "rounds_ms": times[name]})
    base = {row["case"]: row["tflops"] for row in rows if row["kernel"] == args.names[0]}
    print("%-40s %-24s %10s %8s %8s" % ("kernel", "case", "TFLOP/s", "spread", "vs first"))
    for row in rows:
        print("%-40s %-24s %10.1f %7.1f%% %7.3fx" % (
            row["kernel"], row["case"], row["tflops"], 100 * row["spread"],
            row["tflops"] / base[row["case"]]))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "ab-attention.json"), "w") as f:
        json.dump({"gpu": torch.cuda.get_device_name(), "rounds": args.rounds,
                   "reps": args.reps, "statistic": "median over rounds of medians over reps",
                   "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
