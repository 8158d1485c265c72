#!/usr/bin/env python3
"""Differential test of kiln-layout against CuTe's reference implementation.

Generates seeded random cases for every layout-algebra operation that pycute
(from the `nvidia-cutlass` package) implements, runs them through pycute and
through one `kiln-layout batch` process, and fails unless every case agrees:
the same layout where pycute accepts, an error where it rejects. (The unit
tests check the same algebra against the committed conformance data.)

  python3 scripts/layout_reference.py --kiln-layout build/bin/kiln-layout
"""
import argparse
import random
import subprocess
import sys
import time

try:
    import pycute
    from pycute import Layout
except ImportError:  # pragma: no cover - reported as a failure, not a skip
    sys.exit("layout_reference.py: pycute is missing; pip install -r scripts/requirements.txt")

LEAVES = [1, 2, 3, 4, 5, 6, 8, 12, 16]


def fmt(t):
    if isinstance(t, tuple):
        return "(" + ",".join(fmt(x) for x in t) + ")"
    return str(t)


def fmt_layout(l):
    return fmt(l.shape) + ":" + fmt(l.stride)


def random_shape(rng, depth):
    """An int or a tuple of up to 3 modes, nested at most `depth` deep."""
    if depth == 0 or rng.random() < 0.35:
        return rng.choice(LEAVES)
    return tuple(random_shape(rng, depth - 1) for _ in range(rng.randint(1, 3)))


def map_leaves(t, f):
    if isinstance(t, tuple):
        return tuple(map_leaves(x, f) for x in t)
    return f(t)


def random_layout(rng, max_size=4096):
    while True:
        shape = random_shape(rng, 2)
        if pycute.product(shape) <= max_size:
            break
    kind = rng.random()
    if kind < 0.4:  # compact, column-major
        stride = pycute.prefix_product(shape)
    elif kind < 0.7:  # compact with the flat modes permuted
        flat = list(pycute.flatten(shape))
        order = list(range(len(flat)))
        rng.shuffle(order)
        strides = [0] * len(flat)
        acc = 1
        for i in order:
            strides[i] = acc
            acc *= flat[i]
        it = iter(strides)
        stride = map_leaves(shape, lambda _: next(it))
    else:  # arbitrary strides, sometimes zero
        stride = map_leaves(shape, lambda _: rng.choice([0, 1, 1, 2, 3, 4, 8, 16, 32, 64]))
    return Layout(shape, stride)


def random_tiler(rng, a):
    """A layout likely (not certain) to divide `a`."""
    n = pycute.size(a)
    divisors = [d for d in range(1, n + 1) if n % d == 0] or [1]
    if rng.random() < 0.5:
        s = rng.choice(divisors)
        d = rng.choice([1, 1, 2, 4])
        return Layout(s, d)
    return random_layout(rng, max_size=max(1, min(n, 256)))


def random_by_mode_tiler(rng, a):
    """A tuple of tilers, one per leading mode of `a` (None leaves a mode alone)."""
    count = rng.randint(1, len(a))
    return tuple(None if rng.random() < 0.2 else random_tiler(rng, a[i]) for i in range(count))


def fmt_arg(x):
    if isinstance(x, Layout):
        return fmt_layout(x)
    if isinstance(x, tuple):
        return "(" + ",".join(fmt_arg(e) for e in x) + ")"
    if x is None:
        return "_"
    return str(x)


def make_case(rng, op):
    a = random_layout(rng)
    if op in ("composition", "logical_divide", "zipped_divide", "tiled_divide") \
            and rng.random() < 0.3:
        return [a, random_by_mode_tiler(rng, a)]
    if op in ("coalesce", "filter", "right_inverse", "left_inverse"):
        return [a]
    if op == "complement":
        return [a, rng.choice([1, 2, 8, 24, 64, 256, 1024, 4096])]
    if op in ("logical_product", "zipped_product", "tiled_product"):
        return [random_layout(rng, 256), random_layout(rng, 64)]
    return [a, random_tiler(rng, a)]


OPS = ["coalesce", "filter", "composition", "complement", "right_inverse", "left_inverse",
       "logical_divide", "zipped_divide", "tiled_divide", "logical_product",
       "zipped_product", "tiled_product"]


def reference(op, args):
    try:
        r = getattr(pycute, op)(*args)
        return fmt_layout(r)
    except Exception:  # pycute signals rejection by asserting or raising
        return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--kiln-layout", default="kiln-layout")
    p.add_argument("--cases", type=int, default=10000, help="cases per operation")
    p.add_argument("--seed", type=int, default=20261126)
    p.add_argument("--ops", default=",".join(OPS))
    opts = p.parse_args()

    start = time.time()
    rng = random.Random(opts.seed)
    lines, expected = [], []
    for op in opts.ops.split(","):
        for _ in range(opts.cases):
            args = make_case(rng, op)
            text = [fmt_arg(x) for x in args]
            lines.append(op + " " + " ".join(text))
            expected.append(reference(op, args))

    proc = subprocess.run([opts.kiln_layout, "batch"],
                          input="\n".join(lines) + "\n", capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("kiln-layout batch failed: " + proc.stderr)
    got = proc.stdout.splitlines()
    if len(got) != len(lines):
        sys.exit(f"kiln-layout answered {len(got)} lines for {len(lines)} cases")

    per_op = {}
    failures = 0
    for line, want, have in zip(lines, expected, got):
        op = line.split()[0]
        stats = per_op.setdefault(op, [0, 0, 0])  # accepted, rejected, failed
        ok = (have.startswith("error:") if want is None else have == want)
        if not ok:
            stats[2] += 1
            failures += 1
            if failures <= 20:
                print(f"MISMATCH {line}\n  pycute: {want}\n  kiln:   {have}")
        elif want is None:
            stats[1] += 1
        else:
            stats[0] += 1
    for op, (acc, rej, bad) in per_op.items():
        print(f"{op}: {acc} accepted, {rej} rejected, {bad} disagree")
    print(f"{len(lines) - failures} passed, {failures} failed "
          f"({time.time() - start:.1f}s, seed {opts.seed})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
