"""Launches one compiled attention kernel a few times on one shape, for a profiler:
    ncu --clock-control none -k regex:NAME python3 bench/nvidia/profile_attention.py DIR NAME
        [--batch-heads 64] [--n 4096] [--causal] [--reps 3]
DIR holds kilnc's NAME.cubin and NAME.json (bench/nvidia/build-kernels.sh)."""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dir")
    ap.add_argument("name")
    ap.add_argument("--batch-heads", type=int, default=64)
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--causal", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    import torch
    meta = bench.load_manifests(args.dir)[args.name]
    kernel = bench.Kernel(bench.make_backend("auto"), meta, torch)
    d = bench.attention_head_dim(args.name)
    dt = torch.float16 if bench.attention_dtype(args.name) == "f16" else torch.bfloat16
    h, n = args.batch_heads, args.n
    q, k, v = (torch.randn(h, n, d, device="cuda").to(dt) for _ in range(3))
    o = torch.empty_like(q)
    lse = torch.empty(h * n, dtype=torch.float32, device="cuda")
    for _ in range(args.reps):
        kernel.launch(q=q, k=k, v=v, o=o, lse=lse, n=n, heads=h, group=1,
                      scale=1.0 / math.sqrt(d), causal=int(args.causal))
    torch.cuda.synchronize()
    print("ran %s %d x %d x D%d %s" % (args.name, h, n, d, "causal" if args.causal else "full"))


if __name__ == "__main__":
    main()
