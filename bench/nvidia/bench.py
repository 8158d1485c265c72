#!/usr/bin/env python3
"""Kiln on NVIDIA: check, then time, kilnc's compiled kernels next to their peers, in one run.

  python3 bench/nvidia/bench.py --kernels DIR --out DIR     # checks + timings + JSON (+ PNG)
  python3 bench/nvidia/bench.py --kernels DIR --sanitize    # small checks only (for compute-sanitizer)
  python3 bench/nvidia/bench.py --kernels A --ab B --only NAME      # A/B: two builds of NAME
  python3 bench/nvidia/bench.py --kernels DIR --variants --only N1,N2  # A/B: variants N2.. vs N1
  python3 bench/nvidia/bench.py --self-test                 # no GPU, standard library only

DIR holds what `kilnc FILE.mlir --target=sm_90a -o DIR` writes: NAME.cubin, NAME.ptx, NAME.json.
Each kernel is launched from its cubin (CuPy's RawModule, or the driver API through ctypes when
CuPy is missing) on torch tensors' device pointers, with the grid, block and dynamic shared
memory its JSON names. Protocol: ../../shared/design/PERFORMANCE.md.

Timing (timing.py): every case times ours and its peers (A/B: the builds) interleaved, each
round every contender once, the order rotating; ms is the median over rounds, and each peer's
`ratio` the median over rounds of ours' rate over the peer's, `ratio_spread` its min and max.

Exit status: 0 all checks passed; 1 a check failed (or a kernel is missing / could not be
loaded); 2 no CUDA device (or torch missing) -- nothing was run.
"""

import argparse
import ctypes
import datetime
import functools
import itertools
import json
import math
import os
import random
import re
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)  # timing.py and the Triton peers sit beside this file
import timing  # noqa: E402

# --------------------------------------------------------------------------------------------
# Grid expressions (mirror of dialects/Kiln/GridExpr.cpp: int64, C division, x/0 == 0)
#   expr := term (('+'|'-') term)*; term := atom (('*'|'/') atom)*;
#   atom := int | name | ('cdiv'|'min'|'max') '(' expr ',' expr ')' | '(' expr ')'
# --------------------------------------------------------------------------------------------


class GridExprError(ValueError):
    pass


def _c_div(a, b):
    """C/C++ integer division: truncates toward zero; Kiln defines x/0 as 0."""
    if b == 0:
        return 0
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _cdiv(a, b):
    return 0 if b == 0 else _c_div(a + b - 1, b)


class _GridParser:
    def __init__(self, text, values):
        self.text = text
        self.pos = 0
        self.values = values

    def fail(self, msg):
        raise GridExprError("%s at offset %d in '%s'" % (msg, self.pos, self.text))

    def skip(self):
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self):
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, c):
        if self.peek() != c:
            self.fail("expected '%s'" % c)
        self.pos += 1

    def expr(self):
        v = self.term()
        while self.peek() in ("+", "-"):
            op = self.text[self.pos]
            self.pos += 1
            r = self.term()
            v = v + r if op == "+" else v - r
        return v

    def term(self):
        v = self.atom()
        while self.peek() in ("*", "/"):
            op = self.text[self.pos]
            self.pos += 1
            r = self.atom()
            v = v * r if op == "*" else _c_div(v, r)
        return v

    def atom(self):
        c = self.peek()
        if not c:
            self.fail("unexpected end of expression")
        if c.isdigit():
            m = re.compile(r"[0-9]+").match(self.text, self.pos)
            if len(m.group()) > 15:
                self.fail("integer literal too large")
            self.pos = m.end()
            return int(m.group())
        if c == "(":
            self.pos += 1
            v = self.expr()
            self.expect(")")
            return v
        if c.isalpha() or c == "_":
            m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.text, self.pos)
            name = m.group()
            self.pos = m.end()
            if self.peek() == "(":
                if name not in ("cdiv", "min", "max"):
                    self.fail("unknown function '%s' (expected cdiv, min or max)" % name)
                self.pos += 1
                a = self.expr()
                self.expect(",")
                b = self.expr()
                self.expect(")")
                return {"cdiv": _cdiv, "min": min, "max": max}[name](a, b)
            if name not in self.values:
                self.fail("'%s' is not a scalar integer parameter" % name)
            return int(self.values[name])
        self.fail("unexpected character '%s'" % c)

    def parse(self):
        v = self.expr()
        if self.peek():
            self.fail("unexpected trailing input")
        return v


def eval_grid_expr(text, values):
    """Evaluates one grid expression over {scalar param name: int value}."""
    if isinstance(text, int):
        return text
    return _GridParser(str(text), values).parse()


def launch_dims(meta, scalars):
    """(grid, block) for a kernel's metadata and its integer scalar arguments."""
    exprs = list(meta.get("grid") or [1])
    if len(exprs) > 3:
        raise GridExprError("grid has %d dimensions (at most 3)" % len(exprs))
    grid = [eval_grid_expr(e, scalars) for e in exprs] + [1] * (3 - len(exprs))
    limits = (2**31 - 1, 65535, 65535)
    cluster = list(meta.get("cluster") or [1, 1, 1])
    for d, (g, lim) in enumerate(zip(grid, limits)):
        if g < 1 or g > lim:
            raise GridExprError("grid[%d] = %d from %r is outside 1..%d" % (d, g, exprs, lim))
        # Blocks launch in whole clusters (kilnc's grid rule already counts them so).
        if g % cluster[d]:
            raise GridExprError("grid[%d] = %d is not a multiple of the cluster's %d blocks"
                                % (d, g, cluster[d]))
    threads = meta.get("threads", 1)
    block = list(threads) if isinstance(threads, (list, tuple)) else [int(threads)]
    block = block + [1] * (3 - len(block))
    if any(b < 1 for b in block) or block[0] * block[1] * block[2] > 1024:
        raise GridExprError("block %r is not a valid CUDA block" % (block,))
    return tuple(grid), tuple(block)


# --------------------------------------------------------------------------------------------
# Kernel manifests (NAME.json files written by kilnc) and argument marshalling
# --------------------------------------------------------------------------------------------

# Kernel-ABI scalar types: (struct/ctypes tag, size). Values pass by value in params order.
SCALAR_TYPES = {
    "i1": "int8", "i8": "int8", "i16": "int16", "i32": "int32", "i64": "int64",
    "u8": "uint8", "u16": "uint16", "u32": "uint32", "u64": "uint64",
    "f16": "float16", "f32": "float32", "f64": "float64",
}
INT_TAGS = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
_INT_RANGES = {"int8": (-2**7, 2**7 - 1), "int16": (-2**15, 2**15 - 1),
               "int32": (-2**31, 2**31 - 1), "int64": (-2**63, 2**63 - 1),
               "uint8": (0, 2**8 - 1), "uint16": (0, 2**16 - 1),
               "uint32": (0, 2**32 - 1), "uint64": (0, 2**64 - 1)}


class ManifestError(ValueError):
    pass


def load_manifests(kdir):
    """{kernel name: meta} from every *.json in kdir; meta gains 'binary_path' and 'manifest'."""
    if not os.path.isdir(kdir):
        raise ManifestError("kernel directory %s does not exist" % kdir)
    kernels = {}
    for fn in sorted(os.listdir(kdir)):
        if not fn.endswith(".json"):
            continue
        path = os.path.join(kdir, fn)
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            raise ManifestError("%s: %s" % (path, e))
        if not isinstance(doc, dict) or not isinstance(doc.get("kernels"), list):
            continue  # not a kilnc manifest (e.g. a results file); ignore
        for k in doc["kernels"]:
            for key in ("name", "symbol", "binary", "params"):
                if key not in k:
                    raise ManifestError("%s: kernel entry lacks '%s'" % (path, key))
            k = dict(k)
            k["binary_path"] = os.path.join(kdir, k["binary"])
            k["manifest"] = path
            if k["name"] in kernels:
                raise ManifestError("kernel '%s' appears in %s and %s"
                                    % (k["name"], kernels[k["name"]]["manifest"], path))
            kernels[k["name"]] = k
    return kernels


def check_gpu_meta(meta):
    """Problems that make a manifest entry unlaunchable on the GPU (empty list if none)."""
    problems = []
    target = str(meta.get("target", ""))
    if not target.startswith("sm_"):
        problems.append("target is '%s', not an sm_* GPU target (compile with --target=sm_90a)"
                        % target)
    if not str(meta.get("binary", "")).endswith((".cubin", ".ptx")):
        problems.append("binary '%s' is not a .cubin" % meta.get("binary"))
    for p in meta.get("params", []):
        if p.get("kind") == "scalar" and p.get("type") not in SCALAR_TYPES:
            problems.append("scalar param '%s' has unsupported type %s" % (p.get("name"), p.get("type")))
        elif p.get("kind") == "scratch" and p is not meta["params"][-1]:
            problems.append("scratch param '%s' is not the last" % p.get("name"))
        elif p.get("kind") not in ("ptr", "scalar", "scratch"):
            problems.append("param '%s' has kind '%s' (expected ptr, scalar or scratch)"
                            % (p.get("name"), p.get("kind")))
    return problems


def family_kind(name):
    """The harness that checks and times a kernel, from its name: every matmul_* tile shape
    is a matmul, every attention_* kernel but the varlen one an attention."""
    for base in ("matmul", "attention"):
        if (name == base or name.startswith(base + "_")) and name != "attention_varlen":
            return base
    return name


def attention_dtype(name):
    """Element type of an attention kernel from its name (..._f16: f16); bf16 else."""
    return "f16" if name.endswith("_f16") else "bf16"


def attention_head_dim(name):
    """Head dimension of an attention kernel from its name (attention_d128_...); 64 else."""
    m = re.match(r"attention_d(\d+)_", name)
    return int(m.group(1)) if m else 64


def marshal_args(meta, values):
    """Neutral argument list [(tag, value)] in params order, from {param name: value}.

    ptr params take an int device address (tag 'ptr', 8 bytes); scalars take Python numbers
    and get their ABI tag from SCALAR_TYPES. Raises ValueError on a missing, extra, or
    out-of-range argument. Also returns {name: int} of integer scalars for grid expressions.
    """
    out, scalars = [], {}
    names = [p["name"] for p in meta["params"]]
    extra = set(values) - set(names)
    if extra:
        raise ValueError("kernel %s has no params %s (params: %s)" % (meta["name"], sorted(extra), names))
    for p in meta["params"]:
        name = p["name"]
        if p["kind"] == "scratch":
            # The launcher allocates it (programs x bytes_per_program) once the grid is known.
            out.append(("ptr", None))
            continue
        if name not in values:
            raise ValueError("kernel %s: no value for param '%s'" % (meta["name"], name))
        v = values[name]
        if p["kind"] == "ptr":
            if not isinstance(v, int) or v < 0 or v >= 2**64:
                raise ValueError("param '%s' is a ptr; got %r" % (name, v))
            out.append(("ptr", v))
        else:
            tag = SCALAR_TYPES[p["type"]]
            if tag in INT_TAGS:
                lo, hi = _INT_RANGES[tag]
                if not isinstance(v, int) or not lo <= v <= hi:
                    raise ValueError("param '%s' (%s) out of range: %r" % (name, p["type"], v))
                scalars[name] = v
            else:
                v = float(v)
            out.append((tag, v))
    return out, scalars


# --------------------------------------------------------------------------------------------
# Results: JSON in PERFORMANCE.md's schema, table, plot
# --------------------------------------------------------------------------------------------


def gpu_slug(name):
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return s or "unknown-gpu"


def result_basename(gpu, date, tag="nvidia"):
    return "%s-%s-%s" % (gpu_slug(gpu), date, tag)


def _r(x, nd=4):
    """Round for JSON: keep ~nd significant digits, leave None/str alone."""
    if isinstance(x, float):
        if not math.isfinite(x):
            return None
        if x == 0:
            return 0.0
        return float("%.*g" % (nd + 1, x))
    return x


def measurement(ms=None, nbytes=None, copy_gbs=None, rel_err=None, error=None, flops=None, **extra):
    """One 'ours', peer or build entry: ms, gbs (bytes/ms) and its fraction of the copy
    ceiling, or tflops; rel_err."""
    m = {}
    if error is not None:
        m["error"] = str(error)[:500]
    if ms is not None:
        m["ms"] = _r(ms)
        if nbytes:
            gbs = nbytes / (ms * 1e-3) / 1e9
            m["gbs"] = _r(gbs)
            if copy_gbs:
                m["frac_copy"] = _r(gbs / copy_gbs, 3)
        if flops:
            m["tflops"] = _r(flops / (ms * 1e-3) / 1e12)
    if rel_err is not None:
        m["rel_err"] = _r(rel_err, 3)
    for k, v in extra.items():
        m[k] = _r(v) if isinstance(v, float) else v
    return m


def round_entries(ms, errors, pre, builds, nbytes=None, flops=None, copy_gbs=None,
                  keep_rounds=False):
    """Results entries of one case from its interleaved rounds (timing.interleave's
    {name: [ms per round]} and errors), one per name in `pre`, which holds what the checks
    found for it (rel_err, correct, ...) or the error that kept it out of the rounds.

    An entry's ms is its median over rounds, `ms_spread` their min and max. builds[0] is
    the baseline (ours): each peer's `ratio` is the baseline's rate over the peer's, each
    other build's its own rate over the baseline's, both the median of per-round ratios,
    with `ratio_spread` their min and max. keep_rounds adds each round's ms (A/B runs)."""
    base = ms.get(builds[0])
    out = {}
    for name, info in pre.items():
        series = ms.get(name) or []
        med, spread = timing.over_rounds(series)
        info = dict(info)
        err = info.pop("error", None) or errors.get(name)
        m = measurement(ms=med, nbytes=nbytes, copy_gbs=copy_gbs, flops=flops,
                        rel_err=info.pop("rel_err", None), error=err, **info)
        if med is not None:
            m["ms_spread"] = [_r(x) for x in spread]
            if keep_rounds:
                m["rounds_ms"] = [_r(x) for x in series]
            if name != builds[0] and base:
                pair = (base, series) if name in builds else (series, base)
                ratio, rspread = timing.ratio_over_rounds(*pair)
                if ratio is not None:
                    m["ratio"] = _r(ratio)
                    m["ratio_spread"] = [_r(x) for x in rspread]
        out[name] = m
    return out


def validate_results(doc):
    """Schema check of a results document (PERFORMANCE.md); returns a list of problems.
    A/B documents carry `builds` (by label, `baseline` among them) where others carry
    `ours` and `peers`."""
    problems = []
    for key, typ in (("gpu", str), ("date", str), ("commit", str), ("ceilings", dict), ("cases", list)):
        if not isinstance(doc.get(key), typ):
            problems.append("'%s' missing or not %s" % (key, typ.__name__))
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(doc.get("date", ""))):
        problems.append("date is not yyyy-mm-dd")
    for i, c in enumerate(doc.get("cases", [])):
        ab = "builds" in c
        for key in ("family", "case") + (("baseline",) if ab else ("ours", "peers")):
            if key not in c:
                problems.append("cases[%d] lacks '%s'" % (i, key))
        if ab:
            entries = list(c["builds"].items())
            if c.get("baseline") not in c["builds"]:
                problems.append("cases[%d]'s baseline is not one of its builds" % i)
        else:
            entries = [("ours", c.get("ours", {}))] + list(c.get("peers", {}).items())
        for who, m in entries:
            if not isinstance(m, dict):
                problems.append("cases[%d].%s is not an object" % (i, who))
            elif "ms" not in m and "error" not in m:
                problems.append("cases[%d].%s has neither ms nor error" % (i, who))
    json.dumps(doc, allow_nan=False)  # raises on NaN/inf
    return problems


def write_results(doc, out_dir, tag="nvidia"):
    """Writes <gpu-slug>-<date>-<tag>.json under out_dir; returns its path."""
    problems = validate_results(doc)
    if problems:
        raise ValueError("results do not fit the schema: " + "; ".join(problems))
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, result_basename(doc["gpu"], doc["date"], tag) + ".json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1, allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)
    return path


NOT_TIMED = "not timed"
# The peer a case is judged against first (PERFORMANCE.md's targets): cuDNN for attention,
# torch for linear_relu (its fused addmm + relu), cuBLAS for GEMM.
PRIMARY_PEERS = ("cudnn", "torch", "cublas")


def _fmt_rate(m):
    if not m:
        return "-"
    if "tflops" in m:
        return "%.1f TFLOP/s" % m["tflops"]
    if "gbs" in m:
        s = "%.0f" % m["gbs"]
        if "frac_copy" in m:
            s += " (%2.0f%%)" % (100 * m["frac_copy"])
        return s
    if "error" in m:
        return "-" if m["error"].startswith(NOT_TIMED) else "FAILED"
    return "-"


def _fmt_ratio(ours, other):
    """The entry's interleaved ratio and its spread; files without one: a ratio of medians."""
    if "ratio" in other:
        lo, hi = other.get("ratio_spread") or (other["ratio"], other["ratio"])
        return "%.2fx [%.2f-%.2f]" % (other["ratio"], lo, hi)
    if "ms" in ours and "ms" in other and ours["ms"] > 0:
        return "%.2fx" % (other["ms"] / ours["ms"])
    return "-"


def _table(head, rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return head + "\n" + "\n".join(lines)


def format_table(doc):
    """Short plain-text table of the results document (printed last). Ratios are ours'
    rate over the peer's (A/B: each build's over the baseline's), [min-max] over rounds."""
    copy = doc.get("ceilings", {}).get("copy_gbs")
    head = "%s  %s  commit %s  copy ceiling %s GB/s" % (
        doc.get("gpu"), doc.get("date"), doc.get("commit"), "-" if copy is None else "%.0f" % copy)
    if doc.get("mode") == "ab":
        head += "\nbuilds: " + ", ".join("%s = %s" % kv for kv in doc.get("builds", {}).items())
        rows = [("family", "case", "build", "rate", "ms [min-max]", "vs baseline", "rel_err")]
        for c in doc.get("cases", []):
            base = c["builds"][c["baseline"]]
            for label, m in c["builds"].items():
                spread = m.get("ms_spread")
                rows.append((c["family"], c["case"], label, _fmt_rate(m),
                             "-" if "ms" not in m else "%.4g [%.4g-%.4g]" % (
                                 m["ms"], *(spread or (m["ms"], m["ms"]))),
                             "baseline" if label == c["baseline"] else _fmt_ratio(base, m),
                             "-" if m.get("rel_err") is None else "%.1e" % m["rel_err"]))
        return _table(head, rows)
    rows = [("family", "case", "ours", "peer", "ours/peer", "triton",
             "ours/triton", "rel_err")]
    for c in doc.get("cases", []):
        ours, peers = c.get("ours", {}), c.get("peers", {})
        name = next((p for p in PRIMARY_PEERS if p in peers), None)
        pm = peers.get(name, {})
        rel = ours.get("rel_err")
        rows.append((c["family"], c["case"], _fmt_rate(ours),
                     "-" if name is None else "%s %s" % (name, _fmt_rate(pm)),
                     _fmt_ratio(ours, pm), _fmt_rate(peers.get("triton")),
                     _fmt_ratio(ours, peers.get("triton", {})),
                     "-" if rel is None else "%.1e" % rel))
    return _table(head, rows)


def plot_panels(doc):
    """The plot's panels: [(title, unit key, [case])], bandwidth-bound cases in GB/s,
    GEMM and attention in TFLOP/s; every case with a rate goes in one of them."""
    panels = {"bandwidth": [], "GEMM": [], "attention": [], "other": []}
    for c in doc.get("cases", []):
        entries = list(c.get("builds", {}).values()) + [c.get("ours", {})] + \
            list(c.get("peers", {}).values())
        if any("gbs" in m for m in entries):
            panels["bandwidth"].append(c)
        elif any("tflops" in m for m in entries):
            kind = family_kind(c["family"])
            panels["attention" if kind.startswith("attention") else
                   "GEMM" if kind in ("matmul", "linear_relu") else "other"].append(c)
    titles = {"bandwidth": ("bandwidth-bound: GB/s (read + write)", "gbs"),
              "GEMM": ("GEMM: TFLOP/s", "tflops"), "attention": ("attention: TFLOP/s", "tflops"),
              "other": ("TFLOP/s", "tflops")}
    return [(titles[k][0], titles[k][1], v) for k, v in panels.items() if v]


def _plot_note(case):
    """The ratio printed beside a case's row: ours over its primary peer (A/B: each build
    over the baseline), the median over rounds."""
    if "builds" in case:
        return "  ".join("%s %.2fx" % (label, m["ratio"]) for label, m in case["builds"].items()
                         if "ratio" in m)
    name = next((p for p in PRIMARY_PEERS if "ratio" in case["peers"].get(p, {})), None)
    return "" if name is None else "%.2fx %s" % (case["peers"][name]["ratio"], name)


def write_plot(doc, path):
    """Horizontal bars per case, one panel per kind of rate: ours (A/B: each build) as bars
    with whiskers over rounds, peers as markers beside them, the ratio at the right; False
    without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.transforms import blended_transform_factory
    except Exception:
        return False
    panels = plot_panels(doc)
    if not panels:
        return False
    marks = {"cudnn": ("D", "#1f77b4"), "cublas": ("D", "#1f77b4"), "torch": ("o", "#17becf"),
             "flash": ("s", "#9467bd"), "mem_efficient": ("v", "#8c564b"),
             "triton": ("^", "#2ca02c")}
    bar_colors = ["#d62728", "#ff7f0e", "#e377c2", "#7f7f7f", "#bcbd22"]
    sizes = [len(cases) for _, _, cases in panels]
    fig, axes = plt.subplots(len(panels), 1, squeeze=False,
                             gridspec_kw={"height_ratios": [s + 2 for s in sizes]},
                             figsize=(11, 1.5 + 0.24 * sum(s + 2 for s in sizes)))
    for ax, (title, unit, cases) in zip(axes[:, 0], panels):
        labels = list(cases[0]["builds"]) if "builds" in cases[0] else ["Kiln"]
        h = 0.8 / len(labels)
        seen = set()
        rates = [m[unit] for c in cases for m in list(c.get("builds", {}).values()) +
                 [c.get("ours", {})] + list(c.get("peers", {}).values()) if m.get(unit)]
        # M = 1 and 16 GEMMs run at a few TFLOP/s beside hundreds: a log axis shows both.
        left = min(rates) / 2 if rates and max(rates) > 20 * min(rates) else 0
        if left:
            ax.set_xscale("log")
        note_at = blended_transform_factory(ax.transAxes, ax.transData)
        for i, c in enumerate(cases):
            ax.text(1.01, i, _plot_note(c), transform=note_at, fontsize=6, va="center")
            bars = list(c["builds"].items()) if "builds" in c else [("Kiln", c["ours"])]
            for label, m in bars:
                if unit not in m:
                    continue
                j = labels.index(label)
                y = i + (j - (len(labels) - 1) / 2) * h
                lo, hi = m.get("ms_spread") or (m["ms"], m["ms"])
                # Rate is 1/ms: the slowest round gives the low end of the whisker.
                err = [[m[unit] * (1 - m["ms"] / hi)], [m[unit] * (m["ms"] / lo - 1)]]
                ax.barh(y, m[unit] - left, h, left=left, xerr=err,
                        color=bar_colors[j % len(bar_colors)],
                        error_kw={"linewidth": 0.8}, label=None if label in seen else label)
                seen.add(label)
            for name, m in c.get("peers", {}).items():
                if unit in m:
                    marker, color = marks.get(name, ("x", "k"))
                    ax.plot(m[unit], i, marker, color=color, markersize=4,
                            markerfacecolor="none" if name == "torch" else color,
                            label=None if name in seen else name, linestyle="none")
                    seen.add(name)
        if unit == "gbs" and doc.get("ceilings", {}).get("copy_gbs"):
            copy = doc["ceilings"]["copy_gbs"]
            ax.axvline(copy, color="k", linestyle="--", linewidth=1, label="copy %.0f GB/s" % copy)
        ax.set_yticks(range(len(cases)))
        ax.set_yticklabels(["%s  %s" % (c["family"], c["case"]) for c in cases], fontsize=6)
        ax.set_ylim(len(cases) - 0.5, -0.5)
        ax.set_xlabel("GB/s" if unit == "gbs" else "TFLOP/s", fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.grid(axis="x", linewidth=0.3)
        ax.legend(fontsize=6, loc="lower right")
    t = doc.get("timing", {})
    fig.suptitle("%s, %s, commit %s; median over %s interleaved rounds, whiskers min-max"
                 % (doc["gpu"], doc["date"], doc["commit"], t.get("rounds", "?")), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")  # keeps the notes right of the axes
    plt.close(fig)
    return True


# --------------------------------------------------------------------------------------------
# CUDA presence (standard library only) and launch back ends
# --------------------------------------------------------------------------------------------


def probe_cuda():
    """(True, description) if the driver loads and sees a device, else (False, why)."""
    try:
        cu = ctypes.CDLL("libcuda.so.1")
    except OSError as e:
        return False, "the CUDA driver (libcuda.so.1) cannot be loaded: %s" % e
    rc = cu.cuInit(0)
    if rc != 0:
        return False, "cuInit failed with CUDA error %d (%s)" % (rc, _cu_error_name(cu, rc))
    n = ctypes.c_int(0)
    rc = cu.cuDeviceGetCount(ctypes.byref(n))
    if rc != 0 or n.value < 1:
        return False, "the driver sees no CUDA device (rc %d, count %d)" % (rc, n.value)
    return True, "%d CUDA device(s)" % n.value


def _cu_error_name(cu, rc):
    s = ctypes.c_char_p()
    try:
        if cu.cuGetErrorName(rc, ctypes.byref(s)) == 0 and s.value:
            return s.value.decode()
    except Exception:
        pass
    return "CUDA error %d" % rc


class LaunchError(RuntimeError):
    pass


class CtypesBackend:
    """Driver API through ctypes: cuModuleLoad / cuModuleGetFunction / cuLaunchKernel."""
    name = "ctypes-driver"
    _CTYPES = {"ptr": ctypes.c_uint64, "int8": ctypes.c_int8, "int16": ctypes.c_int16,
               "int32": ctypes.c_int32, "int64": ctypes.c_int64, "uint8": ctypes.c_uint8,
               "uint16": ctypes.c_uint16, "uint32": ctypes.c_uint32, "uint64": ctypes.c_uint64,
               "float32": ctypes.c_float, "float64": ctypes.c_double}

    def __init__(self):
        self.cu = ctypes.CDLL("libcuda.so.1")
        self.modules = []
        ctx = ctypes.c_void_p()
        self._check(self.cu.cuCtxGetCurrent(ctypes.byref(ctx)), "cuCtxGetCurrent")
        if not ctx.value:  # torch normally made its primary context current already
            dev = ctypes.c_int()
            self._check(self.cu.cuDeviceGet(ctypes.byref(dev), 0), "cuDeviceGet")
            self._check(self.cu.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev), "cuDevicePrimaryCtxRetain")
            self._check(self.cu.cuCtxSetCurrent(ctx), "cuCtxSetCurrent")

    def _check(self, rc, what):
        if rc != 0:
            raise LaunchError("%s: %s" % (what, _cu_error_name(self.cu, rc)))

    def load(self, path, symbol):
        mod, fn = ctypes.c_void_p(), ctypes.c_void_p()
        self._check(self.cu.cuModuleLoad(ctypes.byref(mod), path.encode()), "cuModuleLoad(%s)" % path)
        self.modules.append(mod)
        self._check(self.cu.cuModuleGetFunction(ctypes.byref(fn), mod, symbol.encode()),
                    "cuModuleGetFunction(%s)" % symbol)
        return fn

    def set_max_dynamic_smem(self, fn, nbytes):
        self._check(self.cu.cuFuncSetAttribute(fn, 8, ctypes.c_int(nbytes)),  # MAX_DYNAMIC_SHARED_SIZE_BYTES
                    "cuFuncSetAttribute(max dynamic shared %d)" % nbytes)

    def allow_large_cluster(self, fn):
        self._check(self.cu.cuFuncSetAttribute(fn, 14, ctypes.c_int(1)),  # NON_PORTABLE_CLUSTER_SIZE_ALLOWED
                    "cuFuncSetAttribute(non-portable cluster size)")

    def attributes(self, fn):
        out = {}
        for name, attr in (("max_threads_per_block", 0), ("shared_size_bytes", 1),
                           ("local_size_bytes", 3), ("num_regs", 4), ("binary_version", 6)):
            v = ctypes.c_int()
            if self.cu.cuFuncGetAttribute(ctypes.byref(v), attr, fn) == 0:
                out[name] = v.value
        return out

    def launch(self, fn, grid, block, smem, stream, args):
        holders = []
        for tag, v in args:
            if tag == "float16":
                import struct
                holders.append(ctypes.c_uint16(struct.unpack("<H", struct.pack("<e", v))[0]))
            else:
                holders.append(self._CTYPES[tag](v))
        arr = (ctypes.c_void_p * max(1, len(holders)))(
            *[ctypes.cast(ctypes.pointer(h), ctypes.c_void_p) for h in holders])
        self._check(self.cu.cuLaunchKernel(fn, grid[0], grid[1], grid[2], block[0], block[1], block[2],
                                           smem, ctypes.c_void_p(stream), arr, None), "cuLaunchKernel")


class CupyBackend:
    """cupy.RawModule(path=cubin).get_function(symbol), launched on torch's current stream."""
    name = "cupy"

    def __init__(self):
        import cupy
        import numpy
        self.cupy, self.np = cupy, numpy
        self.modules = []

    def load(self, path, symbol):
        mod = self.cupy.RawModule(path=path)
        self.modules.append(mod)
        fn = mod.get_function(symbol)
        fn.kernel  # load now, so a bad cubin or symbol fails here and not at the first launch
        return fn

    def set_max_dynamic_smem(self, fn, nbytes):
        fn.max_dynamic_shared_size_bytes = nbytes

    def allow_large_cluster(self, fn):
        self.cupy.cuda.driver.funcSetAttribute(fn.kernel.ptr, 14, 1)  # NON_PORTABLE_CLUSTER_SIZE_ALLOWED

    def attributes(self, fn):
        out = {}
        for name in ("max_threads_per_block", "shared_size_bytes", "local_size_bytes",
                     "num_regs", "binary_version"):
            try:
                out[name] = int(getattr(fn, name))
            except Exception:
                pass
        return out

    def launch(self, fn, grid, block, smem, stream, args):
        np = self.np
        conv = []
        for tag, v in args:
            conv.append(np.uint64(v) if tag == "ptr" else getattr(np, tag)(v))
        try:
            if stream:
                with self.cupy.cuda.ExternalStream(stream):
                    fn(grid, block, tuple(conv), shared_mem=smem)
            else:
                fn(grid, block, tuple(conv), shared_mem=smem)
        except Exception as e:
            raise LaunchError("launch: %s: %s" % (type(e).__name__, e))


class Kernel:
    """A loaded kilnc kernel: launch(**{param name: tensor | int | float})."""

    def __init__(self, backend, meta, torch):
        self.backend, self.meta, self.torch = backend, meta, torch
        self.smem = int(meta.get("shared_memory_bytes", 0) or 0)
        self.fn = backend.load(meta["binary_path"], meta["symbol"])
        if self.smem > 48 * 1024:
            backend.set_max_dynamic_smem(self.fn, self.smem)
        # Clusters of more than 8 blocks (the portable size) must be allowed before launch.
        cluster = meta.get("cluster") or [1, 1, 1]
        if cluster[0] * cluster[1] * cluster[2] > 8:
            backend.allow_large_cluster(self.fn)
        self.attrs = backend.attributes(self.fn)
        self.scratch = None

    def launch(self, **values):
        torch = self.torch
        vals = {k: (v.data_ptr() if isinstance(v, torch.Tensor) else v) for k, v in values.items()}
        args, scalars = marshal_args(self.meta, vals)
        grid, block = launch_dims(self.meta, scalars)
        per_program = int(self.meta.get("global_scratch_bytes", 0) or 0)
        if per_program:
            # Each program builds its TMA tensor maps in its own slots of this buffer.
            need = grid[0] * grid[1] * grid[2] * per_program
            if self.scratch is None or self.scratch.numel() < need:
                self.scratch = torch.empty(need, dtype=torch.uint8, device="cuda")
            args = [(t, self.scratch.data_ptr() if v is None else v) for t, v in args]
        self.backend.launch(self.fn, grid, block, self.smem, torch.cuda.current_stream().cuda_stream, args)


def make_backend(choice):
    errors = []
    for b in (["cupy", "ctypes"] if choice == "auto" else [choice]):
        try:
            return CupyBackend() if b == "cupy" else CtypesBackend()
        except Exception as e:
            errors.append("%s: %s" % (b, e))
    raise LaunchError("no launch back end works: " + "; ".join(errors))


# --------------------------------------------------------------------------------------------
# Correctness checks
# --------------------------------------------------------------------------------------------

POISON = float("nan")
CANARY_BITS = 0x5EADBEEF  # a finite f32 (about 6.2e18); compared bitwise
CANARY_ELEMS = 64         # guarded elements past each output's end
VADD_CHECK_N = [1, 1023, 1024, 1025, 4099, 2**20 + 3, "4099 nan/inf"]
# (rows, cols, stride, input scale, label)
MATMUL_CHECKS = [(1, 1, 1), (31, 33, 17), (32, 32, 32), (33, 31, 65), (97, 89, 101), (256, 128, 512),
                 (127, 129, 31), (129, 257, 100), (300, 260, 1000), (128, 128, 96)]
# Timed GEMM shapes: the 32x32-tile `matmul` is the baseline; every other matmul_* kernel
# (the example and the tile shapes build-kernels.sh instantiates) goes to the issue's
# targets (4096^3, 8192^3, and M = 16 and 1 with N = K = 8192).
MATMUL_BASELINE_TIMED = [(4096, 4096, 4096)]
MATMUL_TIMED = [(4096, 4096, 4096), (8192, 8192, 8192), (16, 8192, 8192), (1, 8192, 8192)]
# Packed variable-length attention: (sequence lengths, heads, group, causal). Lengths of 1,
# of a block and one past it, and a batch whose longest sequence leaves most programs idle.
VARLEN_CHECKS = [([1], 1, 1, 0), ([1, 64, 65], 2, 1, 1), ([300, 7, 128], 4, 2, 0),
                 ([300, 7, 128], 4, 2, 1), ([5, 200, 63, 1, 129], 2, 1, 1)]
# Timed: 16 sequences of 1k-4k tokens (fixed seed), 16 heads, D 64.
VARLEN_TIMED_SEED, VARLEN_TIMED_BATCH, VARLEN_TIMED_HEADS = 7, 16, 16

SOFTMAX_CHECKS = [
    (3, 1, 1, 1.0, ""), (37, 255, 255, 1.0, ""), (33, 256, 256, 1.0, ""),
    (9, 257, 257, 1.0, ""), (17, 1000, 1000, 1.0, ""), (8, 4096, 4096, 1.0, ""),
    (3, 32768, 32768, 1.0, ""), (5, 4097, 4097, 1.0, "one past a one-pass capacity"),
    (3, 32769, 32769, 1.0, "one past 32k: a program over a cluster of 8 blocks"),
    (2, 131072, 131072, 1.0, "cluster of 8, full"), (3, 131073, 131075, 1.0, "256k cluster kernel, padded"),
    (2, 262144, 262144, 1.0, "256k cluster kernel, full"),
    (2, 200000, 200000, 60.0, "large inputs, cluster kernel"),
    (3, 150000, 150000, 1.0, "-inf entries, cluster kernel"),
    (2, 131072, 131072, 1.0, "one finite entry (blocks of only -inf)"),
    (3, 262147, 262150, 1.0, "two-pass (longer than any one-pass kernel)"),
    (4, 20000, 20000, 60.0, "large inputs, 1024-thread kernel"),
    (13, 1000, 1024, 1.0, "padded stride"), (11, 257, 260, 1.0, "padded stride"),
    (7, 1000, 1003, 1.0, "odd stride (rows not 16B-aligned)"),
    (5, 4096, 4096, 60.0, "large inputs (needs max subtraction)"),
    (6, 1000, 1000, 1.0, "10% -inf inputs"),
]


class Checks:
    def __init__(self, torch, seed, log):
        self.torch, self.log = torch, log
        self.gen = torch.Generator().manual_seed(seed)
        self.seed = seed
        self.results = []
        self.tag = ""  # appended to each record's family: which build of an A/B run

    def randn(self, n, scale=1.0):
        return self.torch.randn(n, generator=self.gen, dtype=self.torch.float32) * scale

    def record(self, family, case, ok, rel_err=None, detail=""):
        family += self.tag
        self.results.append({"family": family, "case": case, "ok": bool(ok),
                             "rel_err": _r(rel_err, 3) if rel_err is not None else None,
                             "detail": detail})
        self.log("  %-4s %-8s %-48s rel_err %-9s %s" % (
            "ok" if ok else "FAIL", family, case, "-" if rel_err is None else "%.2e" % rel_err, detail))

    def compare(self, out, ref, tol, scale=None):
        """(ok, rel_err, detail): NaN positions equal, finite where ref is, rel L2 error <= tol.
        The error is relative to ref's norm, or to `scale`'s (the magnitudes the result is
        computed from, where it can be far smaller than they are)."""
        torch = self.torch
        out64, ref64 = out.double(), ref.double()
        nan_out, nan_ref = torch.isnan(out64), torch.isnan(ref64)
        bad_nan = int((nan_out != nan_ref).sum())
        fin = torch.isfinite(ref64)
        nonfinite = int((fin & ~torch.isfinite(out64)).sum())
        inf_ref = torch.isinf(ref64)
        bad_inf = int((inf_ref & (out64 != ref64)).sum())
        diff = torch.where(fin, out64 - ref64, torch.zeros_like(ref64))
        den = float(torch.linalg.vector_norm(torch.where(fin, ref64, torch.zeros_like(ref64))
                                             if scale is None else scale.double()))
        num = float(torch.linalg.vector_norm(diff))
        rel = num / den if den > 0 else num
        problems = []
        if bad_nan:
            first = int(torch.nonzero((nan_out != nan_ref).flatten())[0])
            problems.append("%d NaN mismatches (unwritten outputs?), first at flat index %d" % (bad_nan, first))
        if nonfinite - min(nonfinite, bad_nan):
            problems.append("%d non-finite where the reference is finite" % nonfinite)
        if bad_inf:
            problems.append("%d infinities differ" % bad_inf)
        if not math.isfinite(rel) or rel > tol:
            problems.append("rel_err %.3e > %.1e" % (rel, tol))
        return not problems, rel, "; ".join(problems)

    def canary_ok(self, buf, start):
        bits, view = self._canary(buf.dtype)
        tail = buf[start:].view(view).cpu()
        bad = int((tail != bits).sum())
        return bad == 0, "%d canary elements past the end overwritten" % bad

    def _canary(self, dtype):
        """Canary bit pattern and integer view for 4- or 2-byte elements."""
        torch = self.torch
        if dtype.itemsize == 2:
            return CANARY_BITS >> 16, torch.int16
        return CANARY_BITS, torch.int32

    def checked_run(self, family, case, launch, ref, dtype, tol, scale=None):
        """Launches into a poisoned output of ref's size (canaries past its end), then
        compares with the float64 reference (see compare for `scale`) and checks the
        canaries."""
        torch = self.torch
        n = ref.numel()
        out = torch.empty(n + CANARY_ELEMS, dtype=dtype, device="cuda")
        bits, view = self._canary(dtype)
        out.view(view).fill_(bits)
        out[:n].fill_(POISON)
        try:
            launch(out)
            torch.cuda.synchronize()
        except Exception as e:
            self.record(family, case, False, detail="launch failed: %s" % e)
            return
        ok, rel, detail = self.compare(out[:n].cpu().float().view(ref.shape), ref, tol, scale)
        cok, cdetail = self.canary_ok(out, n)
        self.record(family, case, ok and cok, rel,
                    "; ".join(d for d in (detail, "" if cok else cdetail) if d))

    def vadd(self, kernel, ns, tol=1e-6, family="vadd"):
        torch = self.torch
        for n in ns:
            special = isinstance(n, str)
            case = "n=%s" % n
            n = int(str(n).split()[0])
            x, y = self.randn(n), self.randn(n)
            if special:  # NaN and infinities in the inputs must come out where the reference has them
                x[::97] = float("nan")
                x[5::101] = float("inf")
                y[7::101] = float("-inf")
                y[5::202] = float("-inf")  # inf + -inf = NaN
            ref = (x.double() + y.double())
            dx, dy = x.cuda(), y.cuda()
            out = torch.empty(n + CANARY_ELEMS, dtype=torch.float32, device="cuda")
            out[:n].fill_(POISON)
            out[n:].view(torch.int32).fill_(CANARY_BITS)
            try:
                kernel.launch(x=dx, y=dy, out=out, n=n)
                torch.cuda.synchronize()
            except Exception as e:
                self.record(family, case, False, detail="launch failed: %s" % e)
                continue
            ok, rel, detail = self.compare(out[:n].cpu(), ref, tol)
            cok, cdetail = self.canary_ok(out, n)
            self.record(family, case, ok and cok, rel, "; ".join(d for d in (detail, "" if cok else cdetail) if d))

    def matmul(self, kernel, cases, tol=1e-5, family="matmul"):
        """bf16 A (MxK) times bf16 B (KxN) into f32 C; the reference multiplies the same
        bf16 values in float64, so only the f32 accumulation differs."""
        torch = self.torch
        for m, n, k in cases:
            case = "%dx%dx%d" % (m, n, k)
            a = self.randn(m * k).view(m, k).to(torch.bfloat16)
            b = self.randn(k * n).view(k, n).to(torch.bfloat16)
            ref = a.double() @ b.double()
            self.checked_run(family, case, lambda c: kernel.launch(
                a=a.cuda(), b=b.cuda(), c=c, M=m, N=n, K=k, lda=k, ldb=n, ldc=n),
                ref, torch.float32, tol)

    def linear(self, kernel, cases, tol=4e-3, family="linear_relu"):
        """Y = relu(A B + bias) in bf16 (f32 accumulation): the reference is float64 on the
        same bf16 inputs; the bf16 output rounding bounds the error."""
        torch = self.torch
        for m, n, k in cases:
            case = "%dx%dx%d" % (m, n, k)
            a = self.randn(m * k).view(m, k).to(torch.bfloat16)
            b = self.randn(k * n).view(k, n).to(torch.bfloat16)
            bias = self.randn(n)
            ref = torch.relu(a.double() @ b.double() + bias.double())
            self.checked_run(family, case, lambda y: kernel.launch(
                a=a.cuda(), b=b.cuda(), bias=bias.cuda(), y=y, M=m, N=n, K=k, lda=k, ldb=n, ldy=n),
                ref, torch.bfloat16, tol)

    def attention(self, kernel, cases, tol=8e-3, family="attention"):
        """O = softmax(Q K^T / sqrt(D)) V per head, bf16 (or f16: _f16 kernels) in and out
        ([heads*n, D] each): the reference is float64 on the same rounded inputs. Template kernels (with `causal`,
        `group` and `lse` parameters) are also checked causal, with grouped key/value heads,
        and on their log-sum-exp output."""
        torch = self.torch
        d = attention_head_dim(family)
        dt = torch.float16 if attention_dtype(family) == "f16" else torch.bfloat16
        names = [p["name"] for p in kernel.meta["params"]]
        template = "causal" in names
        variants = [(0, 1)]
        if template:
            variants += [(1, 1), (0, 2), (1, 2)]  # (causal, query heads per key/value head)
        for n, heads in cases:
            for causal, group in variants:
                if heads % group:
                    continue
                case = "n=%d heads=%d%s%s" % (n, heads, " causal" if causal else "",
                                              " group=%d" % group if group > 1 else "")
                q = self.randn(heads * n * d).view(heads, n, d).to(dt)
                k, v = (self.randn(heads // group * n * d).view(heads // group, n, d)
                        .to(dt) for _ in range(2))
                kr, vr = (t.double().repeat_interleave(group, dim=0) for t in (k, v))
                s = q.double() @ kr.transpose(1, 2) / math.sqrt(d)
                hidden = torch.ones(n, n, dtype=torch.bool).triu(1)  # keys after the query
                if causal:
                    s = s.masked_fill(hidden, float("-inf"))
                ref = torch.softmax(s, dim=-1) @ vr
                dq, dk, dv = q.cuda(), k.cuda(), v.cuda()
                if not template:
                    self.checked_run(family, case, lambda o: kernel.launch(
                        q=dq, k=dk, v=dv, o=o, n=n, heads=heads, scale=1.0 / math.sqrt(d)),
                        ref, dt, tol)
                    continue
                spare_o = torch.empty(heads * n * d, dtype=dt, device="cuda")
                spare_l = torch.empty(heads * n, dtype=torch.float32, device="cuda")
                run = lambda o, l: kernel.launch(q=dq, k=dk, v=dv, o=o, lse=l, n=n, heads=heads,
                                                 group=group, scale=1.0 / math.sqrt(d),
                                                 causal=causal)
                self.checked_run(family, case, lambda o: run(o, spare_l), ref, dt, tol)
                # The log-sum-exp of a row is about its largest score, a dot product
                # that f32 accumulation computes to within u·D·Σ|q_i k_i|: its error is
                # measured against that magnitude (a score near zero by cancellation,
                # alone in a row of one key, made a relative error of 1e-5 flaky).
                mags = (q.double().abs() @ kr.abs().transpose(1, 2) / math.sqrt(d))
                if causal:
                    mags = mags.masked_fill(hidden, 0.0)
                self.checked_run(family, case + " lse", lambda l: run(spare_o, l),
                                 torch.logsumexp(s, dim=-1), torch.float32, 1e-5,
                                 scale=mags.amax(dim=-1))

    def attention_varlen(self, kernel, cases, tol=8e-3, family="attention_varlen"):
        """Packed variable-length attention (examples/attention/attention_varlen.mlir): Q, K,
        V, O token-major [total, heads, D] (K, V with heads / group heads), cumulative
        offsets cu_seqlens, LSE [heads, total]; each sequence against its own float64
        attention. `cases`: (lengths, heads, group, causal)."""
        torch = self.torch
        d = 64
        for lengths, heads, group, causal in cases:
            total, batch = sum(lengths), len(lengths)
            case = "lengths=%s heads=%d group=%d%s" % (
                ",".join(map(str, lengths)) if batch <= 4 else "%d seqs" % batch, heads, group,
                " causal" if causal else "")
            q = self.randn(total * heads * d).view(total, heads, d).to(torch.bfloat16)
            k, v = (self.randn(total * (heads // group) * d).view(total, heads // group, d)
                    .to(torch.bfloat16) for _ in range(2))
            ref_o = torch.empty(total, heads, d, dtype=torch.float64)
            ref_l = torch.empty(heads, total, dtype=torch.float64)
            mags = torch.empty(heads, total, dtype=torch.float64)
            start = 0
            for n in lengths:
                qs = q[start:start + n].double().transpose(0, 1)
                ks, vs = (t[start:start + n].double().transpose(0, 1).repeat_interleave(group, dim=0)
                          for t in (k, v))
                sc = qs @ ks.transpose(1, 2) / math.sqrt(d)
                mag = qs.abs() @ ks.abs().transpose(1, 2) / math.sqrt(d)
                if causal:
                    hidden = torch.ones(n, n, dtype=torch.bool).triu(1)
                    sc = sc.masked_fill(hidden, float("-inf"))
                    mag = mag.masked_fill(hidden, 0.0)
                ref_o[start:start + n] = (torch.softmax(sc, dim=-1) @ vs).transpose(0, 1)
                ref_l[:, start:start + n] = torch.logsumexp(sc, dim=-1)
                mags[:, start:start + n] = mag.amax(dim=-1)
                start += n
            cu = torch.tensor([0] + list(itertools.accumulate(lengths)), dtype=torch.int32,
                              device="cuda")
            dq, dk, dv = q.cuda(), k.cuda(), v.cuda()
            spare_o = torch.empty(total * heads * d, dtype=torch.bfloat16, device="cuda")
            spare_l = torch.empty(heads * total, dtype=torch.float32, device="cuda")
            run = lambda o, l: kernel.launch(q=dq, k=dk, v=dv, o=o, lse=l, cu=cu, total=total,
                                             max_n=max(lengths), batch=batch, heads=heads,
                                             group=group, scale=1.0 / math.sqrt(d), causal=causal)
            self.checked_run(family, case, lambda o: run(o, spare_l), ref_o, torch.bfloat16, tol)
            self.checked_run(family, case + " lse", lambda l: run(spare_o, l), ref_l,
                             torch.float32, 1e-5, scale=mags)

    def rowstats(self, kernel, cases, tol=1e-5, family="rowstats"):
        """Row sums and maxima, forward/reverse running sums of the first 16 columns and
        their transpose (check only, no timing)."""
        torch = self.torch
        for rows, cols in cases:
            case = "%dx%d" % (rows, cols)
            x = self.randn(rows * cols).view(rows, cols)
            bufs = {}
            for name, n in (("sums", rows), ("maxs", rows), ("fwd", rows * 16), ("rev", rows * 16),
                            ("tr", rows * 16), ("newest", rows * 16)):
                buf = torch.empty(n + CANARY_ELEMS, dtype=torch.float32, device="cuda")
                buf.view(torch.int32).fill_(CANARY_BITS)
                buf[:n].fill_(POISON)
                bufs[name] = (buf, n)
            try:
                kernel.launch(x=x.cuda(), rows=rows, cols=cols, **{k: v[0] for k, v in bufs.items()})
                torch.cuda.synchronize()
            except Exception as e:
                self.record(family, case, False, detail="launch failed: %s" % e)
                continue
            head = torch.zeros(rows, 16, dtype=torch.float64)
            head[:, :min(16, cols)] = x.double()[:, :16]
            refs = {"sums": (x.double().sum(dim=1), tol), "maxs": (x.double().amax(dim=1), 0.0),
                    "fwd": (head.cumsum(dim=1).flatten(), tol),
                    "rev": (head.flip(1).cumsum(dim=1).flip(1).flatten(), tol),
                    "tr": (head.t().contiguous().flatten(), 0.0),
                    "newest": (head.flatten(), 0.0)}
            ok_all, worst, details = True, 0.0, []
            for name, (ref, t) in refs.items():
                buf, n = bufs[name]
                ok, rel, detail = self.compare(buf[:n].cpu(), ref, t)
                cok, cdetail = self.canary_ok(buf, n)
                ok_all = ok_all and ok and cok
                worst = max(worst, rel)
                details += ["%s: %s" % (name, d) for d in (detail, "" if cok else cdetail) if d]
            self.record(family, case, ok_all, worst, "; ".join(details))

    def softmax(self, kernel, cases, tol=2e-5, family="softmax"):
        torch = self.torch
        for rows, cols, stride, scale, label in cases:
            case = "%dx%d stride %d%s" % (rows, cols, stride, (" " + label) if label else "")
            x = self.randn(rows * cols, scale).view(rows, cols)
            if "-inf" in label:
                x[torch.rand(rows, cols, generator=self.gen) < 0.1] = float("-inf")
                x[:, 0] = 0.0  # keep every row with a finite entry
            if "one finite entry" in label:
                x[:, 1:] = float("-inf")
            ref = torch.softmax(x.double(), dim=-1)
            # Padding columns of the input hold NaN: a kernel that reads them poisons its row.
            xb = torch.full((rows, stride), float("nan"), dtype=torch.float32)
            xb[:, :cols] = x
            dx = xb.cuda()
            yb = torch.empty(rows * stride + CANARY_ELEMS, dtype=torch.float32, device="cuda")
            yb.view(torch.int32).fill_(CANARY_BITS)
            y2 = yb[:rows * stride].view(rows, stride)
            y2[:, :cols].fill_(POISON)
            try:
                kernel.launch(x=dx, y=yb, rows=rows, cols=cols, stride=stride)
                torch.cuda.synchronize()
            except Exception as e:
                self.record(family, case, False, detail="launch failed: %s" % e)
                continue
            host = yb.cpu()
            out = host[:rows * stride].view(rows, stride)[:, :cols]
            ok, rel, detail = self.compare(out, ref, tol)
            pad = host[:rows * stride].view(rows, stride)[:, cols:].contiguous().view(torch.int32)
            bad_pad = int((pad != CANARY_BITS).sum())
            bad_tail = int((host[rows * stride:].view(torch.int32) != CANARY_BITS).sum())
            extra = []
            if bad_pad:
                extra.append("%d padding elements (between rows) overwritten" % bad_pad)
            if bad_tail:
                extra.append("%d canary elements past the end overwritten" % bad_tail)
            self.record(family, case, ok and not extra, rel, "; ".join([d for d in [detail] if d] + extra))


class SoftmaxDispatch:
    """Launches the smallest one-pass variant whose row capacity fits `cols`, else the
    two-pass kernel; `last` names the kernel the latest launch used."""

    def __init__(self, two_pass, variants):
        self.two_pass, self.variants, self.last = two_pass, variants, "softmax"
        self.attrs = getattr(two_pass, "attrs", {})

    def pick(self, cols):
        for cap, name, kernel in self.variants:
            if cols <= cap:
                return name, kernel
        return "softmax", self.two_pass

    def launch(self, **kw):
        self.last, kernel = self.pick(kw["cols"])
        return kernel.launch(**kw)


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


def context_alive(torch):
    try:
        torch.cuda.synchronize()
        t = torch.ones(4, device="cuda")
        return float(t.sum()) == 4.0
    except Exception:
        return False


def rel_l2(torch, out, ref64):
    d = torch.linalg.vector_norm(out.double() - ref64)
    r = torch.linalg.vector_norm(ref64)
    v = float(d / r)
    return v if not math.isnan(v) else float("inf")


# --------------------------------------------------------------------------------------------
# Self-test (no GPU, standard library only)
# --------------------------------------------------------------------------------------------


def self_test():
    import tempfile
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)
            print("  FAIL", what)

    # Grid expressions, against the C++ semantics in dialects/Kiln/GridExpr.cpp.
    ev = eval_grid_expr
    for n, want in ((1, 1), (1023, 1), (1024, 1), (1025, 2), (4099, 5), (2**20 + 3, 1025), (2**26, 65536)):
        check(ev("cdiv(n, 1024)", {"n": n}) == want, "cdiv(%d,1024) == %d" % (n, want))
    check(ev("rows", {"rows": 32768}) == 32768, "name")
    check(ev("2 + 3 * 4", {}) == 14, "precedence")
    check(ev("(2 + 3) * 4", {}) == 20, "parentheses")
    check(ev("10 - 4 - 3", {}) == 3, "left associative -")
    check(ev("100 / 10 / 5", {}) == 2, "left associative /")
    check(ev("0 - 7 / 2", {}) == -3, "C division truncates")
    check(ev("(0 - 7) / 2", {}) == -3, "C division truncates toward zero")
    check(ev("7 / 0", {}) == 0, "x/0 == 0")
    check(ev("cdiv(5, 0)", {}) == 0, "cdiv(x,0) == 0")
    check(ev("min(a, 7) + max(b, 2)", {"a": 9, "b": 1}) == 9, "min/max")
    check(ev(" cdiv( rows*cols , 256 ) ", {"rows": 3, "cols": 1000}) == 12, "spaces, nested")
    check(ev("max(1, cdiv(n, 4096))", {"n": 0}) == 1, "max(1, ...)")
    check(ev(4, {}) == 4, "int expression")
    for bad, frag in (("cdiv(n, 1024", "expected ')'"), ("foo(1, 2)", "unknown function"),
                      ("m", "not a scalar integer parameter"), ("1 2", "trailing input"),
                      ("", "unexpected end"), ("1 + ", "unexpected end"), ("3 % 2", "trailing"),
                      ("1234567890123456", "too large"), ("#", "unexpected character"),
                      ("-7", "unexpected character '-'")):
        try:
            ev(bad, {"n": 1})
            check(False, "grid expr %r should fail" % bad)
        except GridExprError as e:
            check(frag in str(e), "grid expr %r error mentions %r (got: %s)" % (bad, frag, e))

    # Manifests, marshalling, launch dims.
    vadd = {"kernels": [{"name": "vadd", "symbol": "kiln_program_vadd", "target": "sm_90a",
                         "binary": "vadd.cubin", "grid": ["cdiv(n, 1024)"], "threads": 128,
                         "shared_memory_bytes": 0,
                         "params": [{"name": "x", "kind": "ptr", "type": "f32"},
                                    {"name": "y", "kind": "ptr", "type": "f32"},
                                    {"name": "out", "kind": "ptr", "type": "f32"},
                                    {"name": "n", "kind": "scalar", "type": "i32"}]}]}
    softmax = {"kernels": [{"name": "softmax", "symbol": "kiln_program_softmax", "target": "sm_90a",
                            "binary": "softmax.cubin", "grid": ["rows"], "threads": 256,
                            "shared_memory_bytes": 65536,
                            "params": [{"name": "x", "kind": "ptr", "type": "f32"},
                                       {"name": "y", "kind": "ptr", "type": "f32"},
                                       {"name": "rows", "kind": "scalar", "type": "i32"},
                                       {"name": "cols", "kind": "scalar", "type": "i32"},
                                       {"name": "stride", "kind": "scalar", "type": "i32"}]}]}
    host = json.loads(json.dumps(vadd))
    host["kernels"][0].update(target="host", binary="vadd.o", threads=1)
    with tempfile.TemporaryDirectory() as d:
        for name, doc in (("vadd.json", vadd), ("softmax.json", softmax)):
            with open(os.path.join(d, name), "w") as f:
                json.dump(doc, f)
        with open(os.path.join(d, "other.json"), "w") as f:
            json.dump({"gpu": "x"}, f)  # not a manifest: ignored
        ks = load_manifests(d)
        check(sorted(ks) == ["softmax", "vadd"], "manifests found: %s" % sorted(ks))
        check(ks["vadd"]["binary_path"] == os.path.join(d, "vadd.cubin"), "binary path")
        check(check_gpu_meta(ks["vadd"]) == [], "vadd meta launchable")
        check(any("not an sm_*" in p for p in check_gpu_meta(host["kernels"][0])), "host manifest rejected")
        args, sc = marshal_args(ks["vadd"], {"x": 0x7f0000000000, "y": 0x7f0000001000, "out": 0x7f0000002000, "n": 1025})
        check([t for t, _ in args] == ["ptr", "ptr", "ptr", "int32"], "vadd arg tags %s" % args)
        check(sc == {"n": 1025}, "vadd scalars")
        check(launch_dims(ks["vadd"], sc) == ((2, 1, 1), (128, 1, 1)), "vadd launch dims")
        args, sc = marshal_args(ks["softmax"], {"y": 2**40, "x": 2**41, "stride": 4100, "cols": 4096, "rows": 32768})
        check([v for _, v in args] == [2**41, 2**40, 32768, 4096, 4100], "softmax args in params order")
        check(launch_dims(ks["softmax"], sc) == ((32768, 1, 1), (256, 1, 1)), "softmax launch dims")
        clustered = dict(ks["softmax"], grid=["(rows) * 8"], cluster=[8, 1, 1], threads=1024)
        check(launch_dims(clustered, {"rows": 3}) == ((24, 1, 1), (1024, 1, 1)), "cluster launch dims")
        try:
            launch_dims(dict(clustered, grid=["rows"]), {"rows": 3})
            check(False, "a grid of part clusters should be rejected")
        except GridExprError:
            pass
        for bad in ({"x": 1, "y": 2, "out": 3}, {"x": 1, "y": 2, "out": 3, "n": 2**31},
                    {"x": 1, "y": 2, "out": 3, "n": 1, "m": 4}, {"x": -1, "y": 2, "out": 3, "n": 1}):
            try:
                marshal_args(ks["vadd"], bad)
                check(False, "marshal %r should fail" % bad)
            except ValueError:
                pass
        try:
            launch_dims(ks["vadd"], {"n": 0})
            check(False, "grid 0 should be rejected")
        except GridExprError:
            pass
        with open(os.path.join(d, "dup.json"), "w") as f:
            json.dump(vadd, f)
        try:
            load_manifests(d)
            check(False, "duplicate kernel should be rejected")
        except ManifestError:
            pass

    # Interleaved timing (timing.py) under a fake timer: each contender's fn returns its
    # scripted ms for the round and logs the call, so order, pairing and statistics show.
    calls = []

    def fake(name, script):
        it = iter(script)

        def fn():
            calls.append(name)
            v = next(it)
            if isinstance(v, Exception):
                raise v
            return v
        return fn
    check([timing.rotated(list("abc"), r) for r in range(4)] ==
          [list("abc"), list("bca"), list("cab"), list("abc")], "rotation by one per round")
    ms, errors = timing.interleave(
        [("ours", fake("ours", [1.0, 2.0, 3.0, 4.0])), ("torch", fake("torch", [2.0, 2.0, 9.0, 8.0])),
         ("triton", fake("triton", [1.0] * 4))], 4, measure=lambda fn: fn(),
        warm=lambda fn: calls.append("warm"))
    check(calls == ["warm"] * 3 + ["ours", "torch", "triton", "torch", "triton", "ours",
                                   "triton", "ours", "torch", "ours", "torch", "triton"],
          "every contender once per round, order rotating: %s" % calls)
    check(errors == {} and ms["torch"] == [2.0, 2.0, 9.0, 8.0], "rounds kept in round order")
    # Per-round ratios 2, 1, 3, 2: median 2, spread [1, 3] (the ratio of medians is 2.4).
    check(timing.over_rounds(ms["ours"]) == (2.5, [1.0, 4.0]), "median ms over rounds")
    check(timing.ratio_over_rounds(ms["torch"], ms["ours"]) == (2.0, [1.0, 3.0]),
          "ratio: median of per-round ratios, spread min/max: %s"
          % (timing.ratio_over_rounds(ms["torch"], ms["ours"]),))
    # A contender that fails sits out later rounds; ratios pair only rounds both ran in.
    calls.clear()
    ms, errors = timing.interleave(
        [("A", fake("A", [1.0, 1.0, 1.0])), ("B", fake("B", [2.0, 4.0, RuntimeError("lost")]))],
        3, measure=lambda fn: fn())
    check(calls == ["A", "B", "B", "A", "A", "B"] and errors == {"B": "RuntimeError: lost"},
          "failed contender recorded: %s %s" % (calls, errors))
    check(ms["B"] == [2.0, 4.0, None]
          and timing.ratio_over_rounds(ms["B"], ms["A"]) == (3.0, [2.0, 4.0]),
          "ratios pair the rounds both were timed in: %s" % ms)
    calls.clear()
    ms, errors = timing.interleave([("A", fake("A", [RuntimeError("bad cubin")]))], 3,
                                   measure=lambda fn: 1.0, warm=lambda fn: fn())
    check(ms == {"A": [None] * 3} and "A" in errors and timing.over_rounds(ms["A"]) == (None, None),
          "a contender failing its warm-up is never timed")
    # Two identical kernels under a clock that slows 2% per measurement: interleaving
    # leaves their ratio near 1 (one after the other it would read about 1.1).
    clock = itertools.count()
    ms, _ = timing.interleave([("A", None), ("B", None)], 6,
                              measure=lambda fn: 1.0 + 0.02 * next(clock))
    r, spread = timing.ratio_over_rounds(ms["B"], ms["A"])
    check(abs(r - 1) < 0.01 and spread[0] < 1 < spread[1], "drift cancels: ratio %.4f %s" % (r, spread))

    # Results entries from rounds: a full run's peers and an A/B run's builds.
    pre = {"torch": {"rel_err": 1e-3}, "triton": {"error": NOT_TIMED + " (--no-peers)"},
           "ours": {"rel_err": 1e-6, "correct": True}}
    e = round_entries({"ours": [1.0, 2.0, 3.0], "torch": [2.0, 2.0, 9.0]}, {}, pre, ["ours"],
                      flops=1e9)
    check(list(e) == ["torch", "triton", "ours"], "an entry per contender")
    check(e["ours"]["ms"] == 2.0 and e["ours"]["tflops"] == 0.5 and e["ours"]["ms_spread"] == [1.0, 3.0]
          and e["ours"]["correct"] and "ratio" not in e["ours"], "ours entry: %s" % e["ours"])
    check(e["torch"]["ratio"] == 2.0 and e["torch"]["ratio_spread"] == [1.0, 3.0]
          and e["torch"]["rel_err"] == 1e-3, "peer ratio = ours' rate / the peer's: %s" % e["torch"])
    check(list(e["triton"]) == ["error"], "an untimed peer keeps its error only: %s" % e["triton"])
    e = round_entries({"A": [1.0, 1.1, 1.2], "B": [0.5, 1.1, 1.5]}, {"B": "RuntimeError: x"},
                      {"A": {}, "B": {}}, ["A", "B"], nbytes=2e9, copy_gbs=3000.0, keep_rounds=True)
    check(e["B"]["ratio"] == 1.0 and e["B"]["ratio_spread"] == [0.8, 2.0] and "ratio" not in e["A"],
          "A/B ratio = B's rate / A's, per round (2, 1, 0.8): %s" % e["B"])
    check(e["B"]["rounds_ms"] == [0.5, 1.1, 1.5] and e["B"]["error"] == "RuntimeError: x"
          and e["A"]["gbs"] == 1818.2, "A/B entry keeps rounds, errors and rates: %s" % e)
    ab_doc = {"gpu": "NVIDIA H100 80GB HBM3", "date": "2026-12-08", "commit": "abc123",
              "ceilings": {"copy_gbs": 3000.0}, "mode": "ab", "builds": {"A": "old", "B": "new"},
              "cases": [{"family": "softmax", "case": "32768x4096 f32", "baseline": "A", "builds": e}]}
    check(validate_results(ab_doc) == [], "A/B doc valid: %s" % validate_results(ab_doc))
    ab_table = format_table(ab_doc)
    check("builds: A = old, B = new" in ab_table and "baseline" in ab_table
          and "1.00x [0.80-2.00]" in ab_table, "A/B table:\n" + ab_table)
    bad = json.loads(json.dumps(ab_doc))
    bad["cases"][0]["baseline"] = "C"
    check(len(validate_results(bad)) == 1, "A/B baseline must be a build")

    # Variants (--variants) must be timed alike; every kernel has a harness.
    def attn(name, params=("q", "k", "v", "o", "lse", "n", "heads", "group", "scale", "causal")):
        return {"name": name, "params": [{"name": p, "kind": "ptr", "type": "bf16"} for p in params]}
    ms_ = {n: attn(n) for n in ("attention_d128_128x128_s2", "attention_d128_128x128_s2_ws",
                                "attention_d64_128x64_s2", "attention_d128_128x128_s2_f16")}
    ms_["attention"] = attn("attention", ("q", "k", "v", "o", "n", "heads", "scale"))
    check(variant_problems(ms_, ["attention_d128_128x128_s2", "attention_d128_128x128_s2_ws"]) == [],
          "D128 variants time alike")
    for names in (["attention_d128_128x128_s2", "attention_d64_128x64_s2"],
                  ["attention_d128_128x128_s2", "attention_d128_128x128_s2_f16"],
                  ["attention_d64_128x64_s2", "attention"], ["attention_d128_128x128_s2"],
                  ["attention_d128_128x128_s2", "nope"]):
        check(variant_problems(ms_, names), "variants %s rejected" % names)
    check([family_kind(n) for n in ("matmul", "matmul_128x256x64_s4", "attention_d64_1",
                                    "attention_varlen", "softmax", "linear_relu")] ==
          ["matmul", "matmul", "attention", "attention_varlen", "softmax", "linear_relu"],
          "family kinds")

    # Results JSON, file name, table.
    check(gpu_slug("NVIDIA H100 80GB HBM3") == "nvidia-h100-80gb-hbm3", "slug")
    check(result_basename("NVIDIA H200", "2026-11-27") == "nvidia-h200-2026-11-27-nvidia", "basename")
    m = measurement(ms=0.5, nbytes=12 * 2**26, copy_gbs=3000.0, rel_err=1.2345e-8)
    check(abs(m["gbs"] - 12 * 2**26 / 0.5e-3 / 1e9) / m["gbs"] < 1e-4, "gbs = bytes / time")
    check(abs(m["frac_copy"] - m["gbs"] / 3000.0) < 1e-3, "fraction of copy ceiling")
    doc = {"gpu": "NVIDIA H100 80GB HBM3", "date": "2026-11-27", "commit": "abc123",
           "ceilings": {"copy_gbs": 3001.2},
           "cases": [{"family": "vadd", "case": "n=67108864 f32", "ours": m,
                      "peers": {"torch": measurement(ms=0.27, nbytes=12 * 2**26, copy_gbs=3001.2)}},
                     {"family": "softmax", "case": "1024x131072 f32",
                      "ours": measurement(error="launch failed: CUDA_ERROR_INVALID_VALUE"),
                      "peers": {"torch": measurement(ms=0.4, nbytes=2 * 1024 * 131072 * 4),
                                "triton": measurement(error="out of resources")}}]}
    check(validate_results(doc) == [], "valid results doc: %s" % validate_results(doc))
    with tempfile.TemporaryDirectory() as d:
        path = write_results(doc, d)
        check(os.path.basename(path) == "nvidia-h100-80gb-hbm3-2026-11-27-nvidia.json", "results file name")
        with open(path) as f:
            check(json.load(f) == doc, "results JSON round-trips")
    bad = json.loads(json.dumps(doc))
    del bad["cases"][0]["ours"]["ms"]
    bad["date"] = "27/11/2026"
    check(len(validate_results(bad)) == 2, "schema problems found: %s" % validate_results(bad))
    try:
        validate_results(dict(doc, ceilings={"copy_gbs": float("nan")}))
        check(False, "NaN must not reach the JSON")
    except ValueError:
        pass
    table = format_table(doc)
    check("FAILED" in table and "vadd" in table and "0.54x" in table, "table:\n" + table)
    # A peer left untimed (--no-peers) is a dash, not a failure.
    untimed = dict(doc, cases=[dict(doc["cases"][0], peers={"torch": measurement(error=NOT_TIMED + " (--no-peers)")})])
    check(validate_results(untimed) == [] and "FAILED" not in format_table(untimed),
          "untimed peer:\n" + format_table(untimed))
    # Interleaved ratios in the table: the primary peer (cuDNN for attention) and spreads.
    attn_case = {"family": "attention_d128_128x128_s2", "case": "64x4096 D128 bf16",
                 "ours": measurement(ms=1.0, flops=5.5e11, rel_err=2e-3),
                 "peers": {"torch": measurement(ms=0.9, flops=5.5e11),
                           "cudnn": dict(measurement(ms=0.85, flops=5.5e11), ratio=0.86,
                                         ratio_spread=[0.84, 0.9]),
                           "triton": dict(measurement(ms=1.3, flops=5.5e11), ratio=1.3,
                                          ratio_spread=[1.25, 1.35])}}
    gemm_case = {"family": "matmul_128x256x64_s4", "case": "8192x8192x8192 bf16",
                 "ours": measurement(ms=1.7, flops=1.1e12),
                 "peers": {"cublas": dict(measurement(ms=1.45, flops=1.1e12), ratio=0.85,
                                          ratio_spread=[0.8, 0.9])}}
    rated = dict(doc, cases=doc["cases"] + [attn_case, gemm_case])
    table = format_table(rated)
    check("cudnn 647.1 TFLOP/s" in table and "0.86x [0.84-0.90]" in table
          and "1.30x [1.25-1.35]" in table and "cublas 758.6 TFLOP/s" in table,
          "interleaved ratios in the table:\n" + table)
    # Every family has a panel in the plot: bandwidth in GB/s, GEMM and attention in TFLOP/s.
    panels = plot_panels(rated)
    check([(t.split(":")[0], u, [c["family"] for c in cs]) for t, u, cs in panels] ==
          [("bandwidth-bound", "gbs", ["vadd", "softmax"]), ("GEMM", "tflops", ["matmul_128x256x64_s4"]),
           ("attention", "tflops", ["attention_d128_128x128_s2"])], "plot panels: %s" % panels)
    print(table)
    if failures:
        print("self-test: %d FAILED" % len(failures))
        return 1
    print("self-test: all passed")
    return 0


# --------------------------------------------------------------------------------------------
# The GPU run
# --------------------------------------------------------------------------------------------


def log(msg=""):
    print(msg, flush=True)


def variant_problems(manifests, names):
    """Why kernels `names` of one manifest set cannot be timed as variants of one another
    (bench.py --variants): they must share a harness and its parameters, and attention
    kernels their head dimension and element type. [] if they can."""
    missing = [n for n in names if n not in manifests]
    if missing:
        return ["no kernel %s" % ", ".join(missing)]
    problems = [] if len(set(names)) == len(names) >= 2 else \
        ["--variants needs two or more different kernels, got %s" % names]

    def signature(n):
        s = [family_kind(n)] + [(p["name"], p["kind"], p.get("type")) for p in manifests[n]["params"]]
        if family_kind(n) == "attention":
            s += [attention_head_dim(n), attention_dtype(n)]
        return s
    for n in names[1:]:
        if signature(n) != signature(names[0]):
            problems.append("%s is not timed like %s (harness, parameters, head dimension or "
                            "element type differ)" % (n, names[0]))
    return problems


def run_gpu(args):
    import torch
    if not torch.cuda.is_available():
        log("bench.py: torch sees no CUDA device (torch.cuda.is_available() is False); nothing run")
        return 2
    torch.cuda.init()
    torch.zeros(1, device="cuda")  # makes torch's primary context current before modules load
    props = torch.cuda.get_device_properties(0)
    gpu = torch.cuda.get_device_name(0)
    env = {"torch": torch.__version__, "cuda": torch.version.cuda, "python": sys.version.split()[0],
           "sm_count": props.multi_processor_count, "capability": "%d.%d" % (props.major, props.minor),
           "l2_bytes": getattr(props, "L2_cache_size", None)}
    log("device: %s (sm_%d%d, %d SMs), torch %s" % (gpu, props.major, props.minor,
                                                    props.multi_processor_count, torch.__version__))
    failed = []  # names of failed things that make the exit status 1
    ab = bool(args.ab or args.variants)

    dirs = [args.kernels] + list(args.ab or [])
    manifest_sets = [load_manifests(d) for d in dirs]
    manifests = manifest_sets[0]
    backend = make_backend(args.launcher)
    for d, man in zip(dirs, manifest_sets):
        log("launcher: %s; kernels from %s: %s" % (backend.name, d, ", ".join(sorted(man)) or "none"))
    families = [f for f in args.only.split(",") if f]
    for base in ("matmul", "attention") if not args.variants else ():
        if base in families:  # every tile variant compiled alongside
            families += sorted(n for n in manifests
                               if n.startswith(base + "_") and n not in families)
    unknown = sorted(n for n in manifests if n not in families
                     and not (n.startswith("softmax_row") and "softmax" in families))
    if unknown:
        log("not benchmarked here: %s" % ", ".join(unknown))
    kernel_info = {}

    def tag(name, label):
        """A build's name in logs, checks and failures: NAME, or NAME@LABEL in --ab runs."""
        return name if label in ("ours", name) else "%s@%s" % (name, label)

    def load(man, where, name, label):
        """The kernel `name` of one manifest set (softmax with its one-pass row variants),
        or None when it cannot be loaded (logged, and a failure of the run)."""
        key = tag(name, label)
        meta = man.get(name)
        if meta is None:
            log("FAIL: no kernel '%s' in %s" % (name, where))
            failed.append("missing kernel " + key)
            return None
        problems = check_gpu_meta(meta)
        if problems:
            log("FAIL: kernel %s (%s): %s" % (key, meta["manifest"], "; ".join(problems)))
            failed.append("bad manifest " + key)
            return None
        try:
            kernel = Kernel(backend, meta, torch)
        except Exception as e:
            log("FAIL: loading %s from %s: %s" % (key, meta["binary_path"], e))
            failed.append("load " + key)
            return None
        kernel_info[key] = {"symbol": meta["symbol"], "target": meta.get("target"),
                            "threads": meta.get("threads"), "grid": meta.get("grid"),
                            "shared_memory_bytes": meta.get("shared_memory_bytes"), **kernel.attrs}
        log("loaded %s: %s" % (key, json.dumps(kernel_info[key])))
        if kernel.attrs.get("local_size_bytes"):
            log("  note: %s uses %d bytes of local memory per thread (spills or stack arrays)"
                % (key, kernel.attrs["local_size_bytes"]))
        if name != "softmax":
            return kernel
        # One-pass row softmax variants (softmax_row<N>: rows of at most N columns) take the
        # rows they fit; longer rows go to the two-pass online-normalizer kernel.
        rows = []
        for v in sorted(n for n in man if n.startswith("softmax_row")):
            try:
                rows.append((int(v[len("softmax_row"):]), v, Kernel(backend, man[v], torch)))
                log("loaded %s (threads %s)" % (tag(v, label), man[v].get("threads")))
            except Exception as e:
                log("FAIL: loading %s: %s" % (tag(v, label), e))
                failed.append("load " + tag(v, label))
        return SoftmaxDispatch(kernel, sorted(rows, key=lambda r: r[0])) if rows else kernel

    # builds[family]: [(label, kernel)], the first the baseline. One build ("ours") in a full
    # run; with --ab, the family from each directory (A, B, ...); with --variants, each named
    # kernel, checked and timed as the first one is.
    builds = {}
    if args.variants:
        problems = variant_problems(manifests, families)
        if problems:
            log("FAIL: --variants: " + "; ".join(problems))
            return 1
        build_dirs = {n: "%s/%s" % (args.kernels, n) for n in families}
        got = [(n, load(manifests, args.kernels, n, n)) for n in families]
        if all(k for _, k in got):
            builds[families[0]] = got
        families = families[:1]
    else:
        labels = [chr(ord("A") + i) for i in range(len(dirs))] if ab else ["ours"]
        build_dirs = dict(zip(labels, dirs))
        for fam in families:
            got = [(l, load(man, d, fam, l)) for l, d, man in zip(labels, dirs, manifest_sets)]
            if all(k for _, k in got):  # an A/B pair needs every build
                builds[fam] = got

    # ---- correctness at edge shapes (fresh random inputs, poisoned outputs, canaries)
    seed = args.seed if args.seed is not None else int(time.time()) % 2**31
    log("\n== correctness (seed %d)" % seed)
    checks = Checks(torch, seed, log)
    for fam in families:
        kind = family_kind(fam)
        for label, k in builds.get(fam, []):
            name = label if args.variants else fam
            checks.tag = "" if label in ("ours", name) else "@" + label
            if kind == "vadd":
                checks.vadd(k, VADD_CHECK_N, family=name)
            elif kind == "softmax":
                checks.softmax(k, SOFTMAX_CHECKS, family=name)
            elif kind == "matmul":
                checks.matmul(k, MATMUL_CHECKS, family=name)
            elif kind == "linear_relu":
                checks.linear(k, [(1, 1, 1), (31, 33, 17), (128, 128, 64), (129, 257, 100),
                                  (300, 260, 1000)], family=name)
            elif kind == "attention":
                checks.attention(k, [(1, 1), (63, 2), (64, 1), (65, 3), (200, 2)], family=name)
            elif kind == "attention_varlen":
                checks.attention_varlen(k, VARLEN_CHECKS, family=name)
            elif kind == "rowstats":
                checks.rowstats(k, [(1, 1), (15, 17), (16, 16), (17, 33), (100, 1000)], family=name)
    checks.tag = ""
    n_bad = sum(not r["ok"] for r in checks.results)
    if n_bad:
        failed.append("%d correctness checks" % n_bad)
    if not context_alive(torch):
        log("FAIL: the CUDA context is unusable after the checks (sticky error); stopping")
        return 1
    if args.sanitize:
        log("\nsanitize run: %d checks, %d failed%s" % (len(checks.results), n_bad,
                                                         "" if not failed else "; FAILED: " + ", ".join(failed)))
        return 1 if failed else 0

    # ---- timing: ceiling, then each case, its contenders interleaved over rounds
    out_tag = args.tag or ("ab" if ab else "nvidia")
    doc = {"gpu": gpu, "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
           "commit": os.environ.get("KILN_COMMIT") or "unknown", "ceilings": {}, "cases": [],
           "checks": checks.results, "kernels": kernel_info,
           "timing": {"statistic": "each round times every contender once (the median of its "
                                   "reps), the order rotating by one; ms: median over rounds; "
                                   "ratio: median over rounds of the per-round ratio",
                      "rounds": args.rounds, "reps": args.reps, "warmup": args.warmup,
                      "l2_flush": "%s %d MiB between runs" % (args.flush, args.flush_mb),
                      "timer": "cuda events"},
           "env": dict(env, launcher=backend.name, seed=seed)}
    if ab:
        doc.update(mode="ab", builds=build_dirs)
    timer = timing.EventTimer(torch, args.reps, args.warmup, args.flush_mb, args.flush)
    started = time.time()
    alive = True

    def save():  # after each case, so a run killed later still leaves what it measured
        try:
            write_results(doc, args.out, out_tag)
        except Exception as e:
            log("  (results not saved yet: %s)" % e)

    def interleaved(contenders):
        return timing.interleave(contenders, args.rounds, timer.sample_ms, timer.warm)
    matmul_families = [f for f in families if family_kind(f) == "matmul" and f in builds]
    attention_families = [f for f in families if family_kind(f) == "attention" and f in builds]
    try:
        log("\n== ceiling: device-to-device copy, 1 GiB")
        src = torch.empty(2**30 // 4, dtype=torch.float32, device="cuda").normal_()
        dst = torch.empty_like(src)
        ms, errors = interleaved([("copy", lambda: dst.copy_(src))])
        if errors:
            raise RuntimeError("copy: " + errors["copy"])
        ms = timing.over_rounds(ms["copy"])[0]
        copy_gbs = 2 * 2**30 / (ms * 1e-3) / 1e9
        doc["ceilings"]["copy_gbs"] = _r(copy_gbs)
        log("  copy: %.3f ms, %.0f GB/s (read + write)" % (ms, copy_gbs))
        save()
        del src, dst

        triton_softmax = triton_attention = None
        if not (args.no_triton or args.no_peers or ab) and ("softmax" in builds or attention_families):
            try:
                import triton
                import triton_softmax
                import triton_attention
                env["triton"] = triton.__version__
            except Exception as e:
                log("  triton unavailable: %s" % e)

        def contest(fam, case, launch, prepare, check, tol, peers=None, nbytes=None,
                    flops=None, optional=False, **params):
            """One timed case: checks each build of `fam` (launch(kernel)) and each peer
            ({name: (fn, check or None)}) once at this size, times all that ran interleaved
            over the rounds, and records the case (params as fields beside it). A/B runs
            time builds only."""
            pre, runs, peer_runs = {}, [], []
            for name, (fn, peer_check) in ({} if ab else peers or {}).items():
                if args.no_peers:
                    pre[name] = {"error": NOT_TIMED + " (--no-peers)"}
                    continue
                try:
                    fn()
                    torch.cuda.synchronize()
                    pre[name] = {"rel_err": peer_check() if peer_check else None}
                    peer_runs.append((name, fn))
                except Exception as e:
                    pre[name] = {"error": "%s: %s" % (type(e).__name__, e)}
            labels = [label for label, _ in builds[fam]]
            for label, k in builds[fam]:
                fn = functools.partial(launch, k)
                try:  # poison, run once, compare with the float64 reference
                    prepare()
                    fn()
                    torch.cuda.synchronize()
                    rel = check()
                    pre[label] = {"rel_err": rel, "correct": math.isfinite(rel) and rel <= tol}
                    if isinstance(k, SoftmaxDispatch):
                        pre[label]["kernel"] = k.last
                    runs.append((label, fn))
                except Exception as e:
                    pre[label] = {"error": "%s: %s" % (type(e).__name__, e)}
            ms, errors = interleaved(runs + peer_runs)
            entries = round_entries(ms, errors, pre, labels, nbytes, flops, copy_gbs, keep_rounds=ab)
            for name, m in entries.items():
                log("  %-13s %s" % (name, json.dumps(m)))
            mine = {label: entries[label] for label in labels}
            for label, m in mine.items():
                what = "%s %s" % (tag(fam, label), case)
                if "error" in m and optional:
                    m["optional"] = True  # recorded, not a failure of the run
                elif "error" in m:
                    failed.append(what)
                elif not m["correct"]:
                    failed.append(what + ": bench-size result wrong")
            entry = {"family": fam, "case": case}
            if ab:
                entry.update(baseline=labels[0], builds=mine)
            else:
                entry.update(ours=mine["ours"],
                             peers={n: m for n, m in entries.items() if n not in mine})
            entry.update(params)
            doc["cases"].append(entry)
            save()
            return mine

        if "vadd" in builds:
            n = 2**26
            log("\n== vadd n=%d f32" % n)
            x = torch.randn(n, device="cuda")
            y = torch.randn(n, device="cuda")
            out = torch.empty(n, device="cuda")
            ref = x.double() + y.double()
            check = lambda: rel_l2(torch, out, ref)
            contest("vadd", "n=%d f32" % n, lambda k: k.launch(x=x, y=y, out=out, n=n),
                    lambda: out.fill_(POISON), check, 1e-6, nbytes=12 * n,
                    peers={"torch": (lambda: torch.add(x, y, out=out), check)})
            del x, y, out, ref
            alive = context_alive(torch)

        for fam in matmul_families:
            shapes = MATMUL_BASELINE_TIMED if fam == "matmul" else MATMUL_TIMED
            for m, n, kk in shapes:
                if not alive:
                    break
                log("\n== %s %dx%dx%d bf16 -> f32" % (fam, m, n, kk))
                a = torch.randn(m, kk, device="cuda").to(torch.bfloat16)
                b = torch.randn(kk, n, device="cuda").to(torch.bfloat16)
                c = torch.empty(m, n, device="cuda")
                ref = a.double() @ b.double()
                last = []

                def cublas():
                    last[:] = [torch.matmul(a, b)]
                contest(fam, "%dx%dx%d bf16" % (m, n, kk),
                        lambda k: k.launch(a=a, b=b, c=c, M=m, N=n, K=kk, lda=kk, ldb=n, ldc=n),
                        lambda: c.fill_(POISON), lambda: rel_l2(torch, c, ref), 1e-5,
                        flops=2.0 * m * n * kk, m=m, n=n, k=kk,
                        peers={"cublas": (cublas, lambda: rel_l2(torch, last[0].float(), ref))})
                del a, b, c, ref, last
                alive = context_alive(torch)

        for m, n, kk in [(4096, 4096, 4096), (8192, 8192, 8192)] if "linear_relu" in builds else []:
            if not alive:
                break
            log("\n== linear_relu %dx%dx%d bf16 -> bf16 (bias + ReLU fused)" % (m, n, kk))
            a = torch.randn(m, kk, device="cuda").to(torch.bfloat16)
            b = torch.randn(kk, n, device="cuda").to(torch.bfloat16)
            bias = torch.randn(n, device="cuda")
            y = torch.empty(m, n, device="cuda", dtype=torch.bfloat16)
            ref = torch.relu(a.double() @ b.double() + bias.double())
            bias16 = bias.to(torch.bfloat16)
            last = []

            def addmm_relu():
                last[:] = [torch.relu(torch.addmm(bias16, a, b))]

            def plain():
                last[:] = [torch.matmul(a, b)]
            contest("linear_relu", "%dx%dx%d bf16" % (m, n, kk),
                    lambda k: k.launch(a=a, b=b, bias=bias, y=y, M=m, N=n, K=kk, lda=kk, ldb=n, ldy=n),
                    lambda: y.fill_(POISON), lambda: rel_l2(torch, y.float(), ref), 4e-3,
                    flops=2.0 * m * n * kk, m=m, n=n, k=kk,
                    peers={"torch": (addmm_relu, lambda: rel_l2(torch, last[0].float(), ref)),
                           "cublas": (plain, None)})
            del a, b, y, ref, last
            alive = context_alive(torch)

        # The example: D = 64, full. Template kernels (attention_d<D>_...) with a causal
        # parameter: the attention issue's shapes (batch x heads folded), full and causal,
        # against SDPA's default choice and each of its flash, cuDNN and memory-efficient
        # back ends.
        runs = []
        for f in attention_families:
            d = attention_head_dim(f)
            if any(p["name"] == "causal" for p in builds[f][0][1].meta["params"]):
                shapes = {128: [(4, 16, 4096), (1, 16, 16384)],
                          256: [(4, 16, 4096)]}.get(d, [(8, 32, 2048)])
                runs += [(f, b * h, n, d, c) for b, h, n in shapes for c in (0, 1)]
            else:
                runs += [(f, h, n, d, None) for h, n in [(64, 4096), (256, 2048)]]
        for fam, heads, n, d, causal in runs:
            if not alive:
                break
            tname = attention_dtype(fam)
            log("\n== %s %d heads x n=%d, D=%d, %s (%s)"
                % (fam, heads, n, d, tname, "causal" if causal else "full"))
            dt = torch.float16 if tname == "f16" else torch.bfloat16
            q, kk_, v = (torch.randn(heads, n, d, device="cuda").to(dt) for _ in range(3))
            o = torch.empty_like(q)
            ref = torch.nn.functional.scaled_dot_product_attention(
                q.float().unsqueeze(0), kk_.float().unsqueeze(0), v.float().unsqueeze(0),
                is_causal=bool(causal)).squeeze(0).double()
            last = []

            def sdpa(sdp=None):  # SDPA's own choice, or the one back end `sdp`
                def run():
                    args = (q.unsqueeze(0), kk_.unsqueeze(0), v.unsqueeze(0))
                    if sdp is None:
                        last[:] = [torch.nn.functional.scaled_dot_product_attention(
                            *args, is_causal=bool(causal))]
                        return
                    from torch.nn.attention import sdpa_kernel
                    with sdpa_kernel([sdp]):
                        last[:] = [torch.nn.functional.scaled_dot_product_attention(
                            *args, is_causal=bool(causal))]
                return run
            check = lambda: rel_l2(torch, last[0].squeeze(0).float(), ref)
            peers = {"torch": (sdpa(), check)}
            if causal is not None and triton_attention is not None:
                to = torch.empty_like(q)
                peers["triton"] = (lambda: triton_attention.attention(
                    q, kk_, v, causal=bool(causal), out=to), lambda: rel_l2(torch, to.float(), ref))
            if causal is not None:
                from torch.nn.attention import SDPBackend
                for name, sdp in (("cudnn", SDPBackend.CUDNN_ATTENTION),
                                  ("flash", SDPBackend.FLASH_ATTENTION),
                                  ("mem_efficient", SDPBackend.EFFICIENT_ATTENTION)):
                    peers[name] = (sdpa(sdp), check)
            extra = {}
            if causal is not None:
                extra = {"causal": causal, "group": 1,
                         "lse": torch.empty(heads * n, dtype=torch.float32, device="cuda")}
            contest(fam, "%dx%d D%d %s%s" % (heads, n, d, tname, " causal" if causal else ""),
                    lambda k: k.launch(q=q, k=kk_, v=v, o=o, n=n, heads=heads,
                                       scale=1.0 / math.sqrt(d), **extra),
                    lambda: o.fill_(POISON), lambda: rel_l2(torch, o.float(), ref), 1e-2,
                    flops=4.0 * heads * n * n * d * (0.5 if causal else 1.0), peers=peers,
                    heads=heads, n=n, d=d, dtype=tname, causal=bool(causal))
            del q, kk_, v, o, ref, last, peers
            alive = context_alive(torch)

        # Varlen: ours against cuDNN on the same sequences padded to the longest (what a
        # caller without a varlen kernel runs; TFLOP/s count the unpadded work for both).
        for causal in (0, 1) if "attention_varlen" in builds and alive else ():
            rng = random.Random(VARLEN_TIMED_SEED)
            lengths = [rng.randrange(1024, 4097) for _ in range(VARLEN_TIMED_BATCH)]
            heads, d, total, batch = VARLEN_TIMED_HEADS, 64, sum(lengths), len(lengths)
            max_n = max(lengths)
            log("\n== attention_varlen %d sequences (%d tokens, longest %d) x %d heads, D=%d%s"
                % (batch, total, max_n, heads, d, " causal" if causal else ""))
            q, kk_, v = (torch.randn(total, heads, d, device="cuda").to(torch.bfloat16)
                         for _ in range(3))
            o = torch.empty_like(q)
            lse = torch.empty(heads * total, dtype=torch.float32, device="cuda")
            cu = torch.tensor([0] + list(itertools.accumulate(lengths)), dtype=torch.int32,
                              device="cuda")
            ref = torch.empty(total, heads, d, dtype=torch.float32, device="cuda")
            padded = [torch.zeros(batch, heads, max_n, d, dtype=torch.bfloat16, device="cuda")
                      for _ in range(3)]
            for b, (lo, n) in enumerate(zip(cu.tolist(), lengths)):
                seq = [t[lo:lo + n].transpose(0, 1) for t in (q, kk_, v)]
                ref[lo:lo + n] = torch.nn.functional.scaled_dot_product_attention(
                    *(x.float().unsqueeze(0) for x in seq), is_causal=bool(causal))[0].transpose(0, 1)
                for dst, x in zip(padded, seq):
                    dst[b, :, :n] = x
            from torch.nn.attention import SDPBackend, sdpa_kernel

            def padded_cudnn():
                with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
                    torch.nn.functional.scaled_dot_product_attention(*padded, is_causal=bool(causal))
            contest("attention_varlen", "%dx%d tokens D%d bf16%s (torch: padded)" % (
                        heads, total, d, " causal" if causal else ""),
                    lambda k: k.launch(q=q, k=kk_, v=v, o=o, lse=lse, cu=cu, total=total,
                                       max_n=max_n, batch=batch, heads=heads, group=1,
                                       scale=1.0 / math.sqrt(d), causal=causal),
                    lambda: o.fill_(POISON), lambda: rel_l2(torch, o.float(), ref), 1e-2,
                    flops=sum(4.0 * heads * n * n * d * (0.5 if causal else 1.0) for n in lengths),
                    peers={"torch": (padded_cudnn, None)}, heads=heads, tokens=total, d=d,
                    causal=bool(causal))
            del q, kk_, v, o, ref, padded
            alive = context_alive(torch)

        if "softmax" in builds and alive:
            shapes = [(32768, 4096, False), (4096, 32768, False)]
            if not args.no_long_rows:
                shapes += [(1024, 131072, True), (512, 262144, True)]
            for rows, cols, optional in shapes:
                if not alive:
                    break
                log("\n== softmax %dx%d f32%s" % (rows, cols, " (long rows: failure recorded, not fatal)" if optional else ""))
                x = torch.randn(rows, cols, device="cuda")
                y = torch.empty_like(x)
                ref = torch.softmax(x.double(), dim=-1)
                last = []

                def torch_softmax():
                    last[:] = [torch.softmax(x, dim=-1)]
                peers = {"torch": (torch_softmax, lambda: rel_l2(torch, last[0], ref))}
                yt = torch.empty_like(x) if triton_softmax is not None else None
                if triton_softmax is not None and cols > args.triton_max_cols:
                    log("  triton   not run: a one-pass row of %d f32 does not fit on chip (--triton-max-cols %d)"
                        % (cols, args.triton_max_cols))
                elif triton_softmax is not None:
                    peers["triton"] = (lambda: triton_softmax.softmax(x, out=yt),
                                       lambda: rel_l2(torch, yt, ref))
                contest("softmax", "%dx%d f32" % (rows, cols),
                        lambda k: k.launch(x=x, y=y, rows=rows, cols=cols, stride=cols),
                        lambda: y.fill_(POISON), lambda: rel_l2(torch, y, ref), 2e-5,
                        nbytes=2 * rows * cols * 4, optional=optional, peers=peers,
                        rows=rows, cols=cols)
                del x, y, ref, last, peers, yt
                alive = context_alive(torch)
                if not alive:
                    log("FAIL: CUDA context lost after softmax %dx%d; later cases skipped" % (rows, cols))
                    failed.append("context lost")
                torch.cuda.empty_cache() if alive else None
        if "vadd" in builds and not any(c["family"] == "vadd" for c in doc["cases"]):
            failed.append("vadd not timed")
    except Exception:
        log("FAIL: timing pass crashed:\n" + traceback.format_exc())
        failed.append("timing crashed")
    finally:
        os.makedirs(args.out, exist_ok=True)
        doc["env"] = dict(env, launcher=backend.name, seed=seed)
        doc["timing"]["wall_s"] = round(time.time() - started, 1)
        doc["failed"] = failed
        if "copy_gbs" not in doc["ceilings"]:
            doc["ceilings"]["copy_gbs"] = None
        out_dir = args.out
        try:
            path = write_results(doc, out_dir, out_tag)
            log("\nwrote %s" % path)
            png = path[:-5] + ".png"
            if write_plot(doc, png):
                log("wrote %s" % png)
        except Exception as e:
            log("FAIL: writing results: %s" % e)
            failed.append("results not written")
        table = format_table(doc)
        with open(os.path.join(out_dir, "table.txt"), "w") as f:
            f.write(table + "\n")
            f.write("checks: %d run, %d failed\n" % (len(checks.results), n_bad))
            f.write("RESULT: %s\n" % ("FAIL (" + ", ".join(failed) + ")" if failed else "PASS"))
        log("\n" + table)
        log("timing: %d rounds x %d reps, %.0f s" % (args.rounds, args.reps, doc["timing"]["wall_s"]))
        log("checks: %d run, %d failed" % (len(checks.results), n_bad))
        log("RESULT: %s" % ("FAIL (" + ", ".join(failed) + ")" if failed else "PASS"))
    return 1 if failed else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", help="directory of kilnc --target=sm_90a outputs (NAME.cubin + NAME.json)")
    ap.add_argument("--out", default="out", help="results directory (JSON, PNG, table.txt)")
    ap.add_argument("--sanitize", action="store_true", help="only the small correctness checks")
    ap.add_argument("--self-test", action="store_true", help="unit checks; no GPU, standard library only")
    ap.add_argument("--only", default="vadd,softmax,matmul,linear_relu,attention,rowstats",
                    help="comma-separated kernel families (default vadd,softmax,matmul,linear_relu,attention,rowstats; "
                         "matmul brings every matmul_* kernel found)")
    ap.add_argument("--launcher", choices=("auto", "cupy", "ctypes"), default="auto",
                    help="cupy RawModule, or the driver API through ctypes (auto: cupy, else ctypes)")
    ap.add_argument("--rounds", type=int, default=5,
                    help="interleaved rounds per case: each times every contender once, the order "
                         "rotating (default 5)")
    ap.add_argument("--reps", type=int, default=10,
                    help="timed runs of a contender in a round; their median is its round's time "
                         "(default 10, >= 5)")
    ap.add_argument("--warmup", type=int, default=5,
                    help="untimed runs of each contender before the first round")
    ap.add_argument("--flush-mb", type=int, default=256, help="L2 flush buffer size (MiB)")
    ap.add_argument("--flush", choices=("write", "read", "none"), default="write",
                    help="how the flush buffer evicts L2 between timed runs (write = zero_ it)")
    ap.add_argument("--seed", type=int, default=None, help="input seed for the checks (default: time)")
    ap.add_argument("--no-triton", action="store_true", help="skip the Triton peer")
    ap.add_argument("--no-peers", action="store_true", help="time only ours")
    ap.add_argument("--ab", action="append", metavar="DIR",
                    help="A/B run: each --only kernel from --kernels (build A) and from DIR (B; "
                         "repeat for C, ...), checked, then timed interleaved without peers; "
                         "ratios are each build's rate over A's")
    ap.add_argument("--variants", action="store_true",
                    help="A/B run of differently named kernels in --kernels: the --only names, "
                         "timed as the first one is; ratios are each one's rate over the first's")
    ap.add_argument("--tag", help="results file <gpu>-<date>-TAG.json (default nvidia; A/B: ab)")
    ap.add_argument("--no-long-rows", action="store_true", help="skip the softmax rows of 128k and 256k columns")
    ap.add_argument("--triton-max-cols", type=int, default=32768,
                    help="longest row the one-pass Triton peer is run on (default 32768)")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    if not args.kernels:
        ap.error("--kernels DIR is required")
    if args.reps < 5 or args.rounds < 1:
        ap.error("--reps must be >= 5 and --rounds >= 1")
    if args.ab and args.variants:
        ap.error("--ab (one kernel, several directories) and --variants (several kernels, one "
                 "directory) do not combine")
    ok, why = probe_cuda()
    if not ok:
        print("bench.py: no CUDA device: %s. Nothing was run (exit 2)." % why, file=sys.stderr)
        return 2
    try:
        import torch  # noqa: F401
    except ImportError as e:
        print("bench.py: torch is not importable (%s); it is needed for buffers, peers and timing. "
              "Nothing was run (exit 2)." % e, file=sys.stderr)
        return 2
    try:
        return run_gpu(args)
    except (ManifestError, LaunchError) as e:
        print("bench.py: FAIL: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
