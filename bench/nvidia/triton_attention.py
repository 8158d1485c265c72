"""FlashAttention-2-style forward attention in Triton: the Triton peer of Kiln's attention.

One program per BLOCK_M query rows of one head; key/value blocks of BLOCK_N stream through
with a running row maximum and sum (scores kept in base 2: the scale is folded with
log2(e) so the exponentials are exp2), the accumulator rescaled as the maximum grows;
causal programs stop at their last query row and mask the diagonal block. Q, K, V, O are
[heads, n, D] contiguous bf16. Block sizes are tuned by triton.autotune over a few
configurations per (n, D, causal).

Imported lazily by bench.py (triton and torch are needed only when this module is used).
"""

import math

import torch
import triton
import triton.language as tl


def _configs():
    out = []
    for bm, bn, warps, stages in [(128, 64, 4, 3), (128, 64, 8, 3), (128, 128, 8, 3),
                                  (64, 64, 4, 4)]:
        out.append(triton.Config({"BLOCK_M": bm, "BLOCK_N": bn}, num_warps=warps,
                                 num_stages=stages))
    return out


@triton.autotune(configs=_configs(), key=["n", "D", "CAUSAL"])
@triton.jit
def _attention_kernel(q_ptr, k_ptr, v_ptr, o_ptr, n, qk_scale,
                      D: tl.constexpr, CAUSAL: tl.constexpr,
                      BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    start = tl.program_id(0) * BLOCK_M
    head = tl.program_id(1).to(tl.int64)
    base = head * n * D
    rows = start + tl.arange(0, BLOCK_M)
    dims = tl.arange(0, D)
    q = tl.load(q_ptr + base + rows[:, None] * D + dims[None, :], mask=rows[:, None] < n,
                other=0.0)
    m = tl.full([BLOCK_M], -float("inf"), tl.float32)
    l = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, D], tl.float32)
    end = tl.minimum(start + BLOCK_M, n) if CAUSAL else n
    for kb in range(0, end, BLOCK_N):
        keys = kb + tl.arange(0, BLOCK_N)
        kt = tl.load(k_ptr + base + keys[None, :] * D + dims[:, None], mask=keys[None, :] < n,
                     other=0.0)
        s = tl.dot(q, kt) * qk_scale
        valid = keys[None, :] < n
        if CAUSAL:
            valid = valid & (keys[None, :] <= rows[:, None])
        s = tl.where(valid, s, -float("inf"))
        m_new = tl.maximum(m, tl.max(s, axis=1))
        p = tl.math.exp2(s - m_new[:, None])
        alpha = tl.math.exp2(m - m_new)
        l = l * alpha + tl.sum(p, axis=1)
        vb = tl.load(v_ptr + base + keys[:, None] * D + dims[None, :], mask=keys[:, None] < n,
                     other=0.0)
        acc = acc * alpha[:, None] + tl.dot(p.to(vb.dtype), vb)
        m = m_new
    out = acc / l[:, None]
    tl.store(o_ptr + base + rows[:, None] * D + dims[None, :], out.to(o_ptr.dtype.element_ty),
             mask=rows[:, None] < n)


def attention(q, k, v, causal=False, out=None):
    """softmax(q k^T / sqrt(D)) v for [heads, n, D] bf16 tensors."""
    heads, n, d = q.shape
    out = torch.empty_like(q) if out is None else out
    scale = 1.0 / math.sqrt(d) * 1.4426950408889634  # log2(e): exp2 in the kernel
    grid = lambda meta: (triton.cdiv(n, meta["BLOCK_M"]), heads)
    _attention_kernel[grid](q, k, v, out, n, scale, D=d, CAUSAL=causal)
    return out
