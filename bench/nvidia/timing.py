"""Interleaved timing for the NVIDIA bench: every contender once per round, order rotating.

Clocks and power drift within a run (cuDNN moved between 520 and 672 TFLOP/s on one case,
PERFORMANCE.md); timing contenders one after another puts that drift into their ratio. So
each round times every contender once (median of a few L2-flushed event-timed reps), the
order rotating by one from round to round, and a ratio is taken within each round before
its median over rounds is reported, with its min and max.

The core (rotated, interleave, over_rounds, ratio_over_rounds) is standard library only, so
the GPU-free self-test drives it with a fake timer; EventTimer needs torch and a device.
"""

import statistics


def rotated(names, r):
    """Round r's order: `names` rotated left by r, so each takes every place in turn."""
    if not names:
        return []
    k = r % len(names)
    return names[k:] + names[:k]


def _why(e):
    return "%s: %s" % (type(e).__name__, e)


def interleave(contenders, rounds, measure, warm=None):
    """Times [(name, fn)] over `rounds` rounds, calling measure(fn) -> ms in rotated order.

    Returns ({name: [ms of round r, or None]}, {name: error}). warm(fn), if given, runs once
    per contender before the first round. A contender that raises keeps its error and sits
    out later rounds; the others go on (their ratios pair only rounds both were timed in).
    """
    names = [n for n, _ in contenders]
    fns = dict(contenders)
    if len(fns) != len(names):
        raise ValueError("contender names repeat: %s" % names)
    ms = {n: [None] * rounds for n in names}
    errors = {}
    for n in names if warm else ():
        try:
            warm(fns[n])
        except Exception as e:
            errors[n] = _why(e)
    for r in range(rounds):
        for n in rotated(names, r):
            if n in errors:
                continue
            try:
                ms[n][r] = float(measure(fns[n]))
            except Exception as e:
                errors[n] = _why(e)
    return ms, errors


def over_rounds(series):
    """(median, [min, max]) of one contender's timed rounds; (None, None) if none was."""
    v = [x for x in series if x is not None]
    if not v:
        return None, None
    return statistics.median(v), [min(v), max(v)]


def ratio_over_rounds(num, den):
    """(median, [min, max]) over rounds of num[r] / den[r], rounds where both were timed.

    With ms series, ratio_over_rounds(peer_ms, ours_ms) is ours' rate over the peer's.
    It is the median of per-round ratios, not the ratio of medians: a drift that slows a
    whole round cancels inside that round."""
    v = [a / b for a, b in zip(num, den) if a is not None and b is not None and b > 0]
    if not v:
        return None, None
    return statistics.median(v), [min(v), max(v)]


class EventTimer:
    """CUDA-event timing with an L2 flush before each run (torch)."""

    def __init__(self, torch, reps, warmup, flush_mb, flush_mode):
        self.torch, self.reps, self.warmup = torch, reps, warmup
        self.flush_mode = flush_mode
        self.flush_buf = None
        if flush_mode != "none":
            self.flush_buf = torch.empty(flush_mb * 2**20 // 4, dtype=torch.float32, device="cuda")
            self.flush_buf.fill_(1.0)

    def flush(self):
        if self.flush_mode == "write":
            self.flush_buf.zero_()
        elif self.flush_mode == "read":
            self.flush_buf.sum()

    def warm(self, fn):
        for _ in range(self.warmup):
            self.flush()
            fn()
        self.torch.cuda.synchronize()

    def sample_ms(self, fn):
        """Median event-timed ms of fn() over self.reps runs, L2 flushed before each."""
        torch = self.torch
        starts = [torch.cuda.Event(enable_timing=True) for _ in range(self.reps)]
        ends = [torch.cuda.Event(enable_timing=True) for _ in range(self.reps)]
        for i in range(self.reps):
            self.flush()
            starts[i].record()
            fn()
            ends[i].record()
        torch.cuda.synchronize()
        return statistics.median([s.elapsed_time(e) for s, e in zip(starts, ends)])
