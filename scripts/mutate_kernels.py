#!/usr/bin/env python3
"""Mutation fuzzing of Kiln's tools: deletes, duplicates and swaps lines and tokens of
kernel sources and checks that kiln-opt (host pipeline) and kilnc (host and sm_90a)
answer every mutant with success or a
diagnostic (exit 0 or 1), never a crash, an assertion or an LLVM fatal error.

Usage: mutate_kernels.py --count N --seed S [--jobs J] FILE.mlir...
"""
import argparse
import concurrent.futures
import os
import random
import re
import subprocess
import sys
import tempfile

CRASH_MARKERS = ("PLEASE submit a bug report", "Assertion", "LLVM ERROR", "Stack dump",
                 "UNREACHABLE", "Segmentation fault")
TOKEN = re.compile(r"%[\w#]+|@\w+|!kiln\.\w+<[^>]*>|tensor<[^>]*>|\w+|[^\s\w]")


def mutate(text, rng):
    lines = text.split("\n")
    kind = rng.choice(["delete_line", "duplicate_line", "swap_lines", "delete_token",
                       "duplicate_token", "swap_tokens", "replace_token"])
    if kind.endswith("line") or kind == "swap_lines":
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        if kind == "delete_line":
            del lines[i]
        elif kind == "duplicate_line":
            lines.insert(i, lines[i])
        else:
            lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines), kind
    spans = [m.span() for m in TOKEN.finditer(text)]
    a = spans[rng.randrange(len(spans))]
    b = spans[rng.randrange(len(spans))]
    tok_a, tok_b = text[a[0]:a[1]], text[b[0]:b[1]]
    if kind == "delete_token":
        return text[:a[0]] + text[a[1]:], kind
    if kind == "duplicate_token":
        return text[:a[1]] + " " + tok_a + text[a[1]:], kind
    if kind == "replace_token":
        return text[:a[0]] + tok_b + text[a[1]:], kind
    if a[0] > b[0]:
        a, b, tok_a, tok_b = b, a, tok_b, tok_a
    if a[1] > b[0]:
        return text, kind
    return text[:a[0]] + tok_b + text[a[1]:b[0]] + tok_a + text[b[1]:], kind


def run_one(job):
    index, source_name, text, kind, workdir = job
    path = os.path.join(workdir, f"mutant{index}.mlir")
    with open(path, "w") as f:
        f.write(text)
    failures = []
    commands = [["kiln-opt", path, "-kiln-host-pipeline", "-o", os.devnull],
                ["kilnc", path, "--target=host", "-o", os.path.join(workdir, f"out{index}")],
                ["kilnc", path, "--target=sm_90a", "--emit=asm"]]
    for cmd in commands:
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            failures.append((cmd[0], "timeout"))
            continue
        output = proc.stdout + proc.stderr
        crashed = proc.returncode not in (0, 1) or any(m in output for m in CRASH_MARKERS)
        if proc.returncode == 1 and "error" not in output:
            crashed = True  # a failure must say why
        if crashed:
            failures.append((cmd[0], f"exit {proc.returncode}\n{output[-2000:]}"))
    if not failures:
        os.remove(path)
    return index, source_name, kind, path, failures


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--keep", help="directory to keep crashing mutants in")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    sources = [(f, open(f).read()) for f in args.files]
    workdir = args.keep or tempfile.mkdtemp(prefix="kiln-mutants-")
    os.makedirs(workdir, exist_ok=True)
    jobs = []
    # The inputs themselves first: regression files must stay diagnostics, not crashes.
    for name, text in sources:
        jobs.append((len(jobs) + args.count, name, text, "unmutated", workdir))
    for i in range(args.count):
        name, text = sources[i % len(sources)]
        mutant, kind = mutate(text, rng)
        # Sometimes stack a second mutation.
        if rng.random() < 0.3:
            mutant, kind2 = mutate(mutant, rng)
            kind += "+" + kind2
        jobs.append((i, name, mutant, kind, workdir))
    crashes = 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for index, name, kind, path, failures in pool.map(run_one, jobs):
            for tool, detail in failures:
                crashes += 1
                print(f"CRASH: {tool} on mutant {index} of {name} ({kind}), kept as {path}:\n{detail}")
    print(f"{len(sources)} inputs and {args.count} mutants x 3 runs: {crashes} crashes")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
