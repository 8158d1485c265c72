#!/usr/bin/env python3
"""Recomputes the layout conformance data with CuTe's reference implementation.

Reads a conformance file (one JSON case per line: op, args, result, first_values),
recomputes every result and its first values with pycute (the `nvidia-cutlass`
version pinned in scripts/requirements.txt), and writes the same cases with pycute's
answers, so the data the unit tests read is exactly what the reference computes:

  python3 scripts/conformance_data.py IN.jsonl -o test/unit/Layout/data/cute-layout-algebra.jsonl
  python3 scripts/conformance_data.py test/unit/Layout/data/cute-layout-algebra.jsonl --check

--check exits non-zero unless the file already holds pycute's answers (lit runs it, so the
committed data cannot drift from the reference), and --diff lists the cases where the input
disagrees with pycute.
"""
import argparse
import json
import re
import sys

try:
    import pycute
    from pycute import Layout
except ImportError:  # pragma: no cover - reported as a failure, not a skip
    sys.exit("conformance_data.py: pycute is missing; pip install -r scripts/requirements.txt")

OPS = {"coalesce", "complement", "composition", "right_inverse", "left_inverse",
       "logical_divide", "zipped_divide", "tiled_divide", "logical_product"}


def parse_tuple(s, i=0):
    """An integer or a parenthesised tuple of them at s[i:]; returns (value, end)."""
    if s[i] == "(":
        i += 1
        items = []
        while s[i] != ")":
            v, i = parse_tuple(s, i)
            items.append(v)
            if s[i] == ",":
                i += 1
        return tuple(items), i + 1
    m = re.match(r"-?\d+", s[i:])
    if not m:
        raise ValueError("bad layout text: " + s)
    return int(m.group(0)), i + len(m.group(0))


def parse_layout(s):
    shape, i = parse_tuple(s)
    if s[i] != ":":
        raise ValueError("bad layout text: " + s)
    stride, j = parse_tuple(s, i + 1)
    if j != len(s):
        raise ValueError("bad layout text: " + s)
    return Layout(shape, stride)


def fmt(t):
    if isinstance(t, tuple):
        return "(" + ",".join(fmt(x) for x in t) + ")"
    return str(t)


def recompute(case):
    """The case with pycute's result and first values."""
    op, args = case["op"], case["args"]
    if op not in OPS:
        raise ValueError("unknown op " + op)
    a = parse_layout(args[0])
    rest = [args[1] if op == "complement" else parse_layout(args[1])] if len(args) > 1 else []
    try:
        r = getattr(pycute, op)(a, *rest)
        result = fmt(r.shape) + ":" + fmt(r.stride)
        values = [r(i) for i in range(min(16, pycute.size(r)))]
    except (AssertionError, ZeroDivisionError):  # how pycute rejects an input
        result, values = None, None
    return {"op": op, "args": args, "result": result, "first_values": values}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("input")
    p.add_argument("-o", "--output", help="write the recomputed cases here")
    p.add_argument("--check", action="store_true",
                   help="fail unless the input already holds pycute's answers")
    p.add_argument("--diff", action="store_true", help="print each case that differs")
    opts = p.parse_args()
    cases = [json.loads(line) for line in open(opts.input) if line.strip()]
    fresh = [recompute(c) for c in cases]
    differ = [(c, f) for c, f in zip(cases, fresh)
              if (c["result"], c["first_values"]) != (f["result"], f["first_values"])]
    if opts.diff:
        for c, f in differ:
            print("%s %s: file %s, pycute %s" % (c["op"], " ".join(map(str, c["args"])),
                                                c["result"], f["result"]))
    if opts.output:
        with open(opts.output, "w") as out:
            for f in fresh:
                out.write(json.dumps(f) + "\n")
    print("%d cases, %d differ from pycute" % (len(cases), len(differ)))
    return 1 if opts.check and differ else 0


if __name__ == "__main__":
    sys.exit(main())
