"""Times attention kernel variants against each other, interleaved (kept for the commands
recorded in older results; it is bench.py's A/B mode):
    python3 bench/nvidia/ab_attention.py DIR NAME... [--rounds 5] [--reps 10] [--out OUT]
runs  python3 bench/nvidia/bench.py --kernels DIR --variants --only NAME,... --rounds R
--reps N --out OUT, which checks each NAME, times them interleaved on bench.py's shapes for
the head dimension and writes OUT/<gpu>-<date>-ab.json: ratios to the first NAME."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dir")
    ap.add_argument("names", nargs="+")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    args = ap.parse_args(argv)
    return bench.main(["--kernels", args.dir, "--variants", "--only", ",".join(args.names),
                       "--rounds", str(args.rounds), "--reps", str(args.reps), "--out", args.out])


if __name__ == "__main__":
    sys.exit(main())
