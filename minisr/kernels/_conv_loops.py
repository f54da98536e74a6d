"""The Numba loops of the GEMM conv paths: im2col, col2im, the direct dL/dw loop, and the
epilogue (bias and activation) that runs on each tile of output while it is in cache.

All serial on purpose: a Numba thread pool woken between two multi-threaded BLAS calls
fights OpenBLAS's spinning threads for the cores (5x slower measured, benchmarks/README.md),
and the copies are memory-bound while BLAS already keeps both cores busy. Column indices are
unsigned: with a signed ``j + off`` Numba emits a negative-index wraparound check per
element, which stops LLVM vectorising (8-11x slower). Read first: ``_conv_gemm.py``.
"""
from __future__ import annotations

import numpy as np
from numba import njit, uint64

from minisr.kernels._shared import ACT_NONE, ACT_TANH, activate


@njit(cache=True, nogil=True)
def im2col(xp, cols, rn, rk, KH, KW, sh, sw, dil_h, dil_w, i0, nr, W_out):
    """cols[n*rn + k*rk, i*W_out + j] = xp[n, c, (i0 + i)*sh + p*dil_h, j*sw + q*dil_w].

    k = (c, p, q). xp holds padded images; (rn, rk) = (K, 1) lays the columns out as
    (nb, K, L) and (1, nb) as (K, nb, L), both through a C-contiguous 2-D ``cols`` so that
    LLVM knows the rows are contiguous. 1.5x NumPy's ``copyto`` from a window view.
    """
    nb, C = xp.shape[0], xp.shape[1]
    W_u, sw_u = uint64(W_out), uint64(sw)
    for n in range(nb):
        for c in range(C):
            for p in range(KH):
                for q in range(KW):
                    row = n * rn + ((c * KH + p) * KW + q) * rk
                    off = uint64(q * dil_w)
                    for i in range(nr):
                        h = (i0 + i) * sh + p * dil_h
                        base = uint64(i * W_out)
                        if sw == 1:
                            for j in range(W_u):
                                cols[row, base + j] = xp[n, c, h, j + off]
                        else:
                            for j in range(W_u):
                                cols[row, base + j] = xp[n, c, h, j * sw_u + off]


def col2im(cols, yp, s, d, i0):
    """yp[n, c, (i0 + i)*sh + p*dil_h, j*sw + q*dil_w] += cols[n, c, p, q, i, j] (yp uncropped).

    A gather: each canvas row (n, c, h) collects every column entry that lands on it, so rows
    are independent (no atomics, deterministic sums).
    """
    nb, C, KH, KW, nr, W = cols.shape
    h_lo = i0 * s[0]
    h_hi = min(yp.shape[2], (i0 + nr - 1) * s[0] + (KH - 1) * d[0] + 1)
    _col2im_rows(cols, yp, s[0], s[1], d[0], d[1], h_lo, h_hi)


@njit(cache=True, nogil=True)
def _col2im_rows(cols, yp, sh, sw, dil_h, dil_w, h_lo, h_hi):
    nb, C, KH, KW, nr, W = cols.shape
    W_u, sw_u = uint64(W), uint64(sw)
    for n in range(nb):
        for c in range(C):
            for h in range(h_lo, h_hi):
                for p in range(KH):
                    rel = h - h_lo - p * dil_h
                    if rel < 0 or rel % sh != 0 or rel // sh >= nr:
                        continue
                    i = rel // sh
                    for q in range(KW):
                        off = uint64(q * dil_w)
                        if sw == 1:
                            for j in range(W_u):
                                yp[n, c, h, j + off] += cols[n, c, p, q, i, j]
                        else:
                            for j in range(W_u):
                                yp[n, c, h, j * sw_u + off] += cols[n, c, p, q, i, j]


@njit(cache=True, nogil=True)
def forward_direct(xw, w, yw, Wp, dil_h, dil_w, k0, k1):
    """yw[o, k] = sum_{c,p,q} w[o, c, p, q] * xw[c, k + p*dil_h*Wp + q*dil_w] for k0 <= k < k1:
    one image (or band of it) of an ungrouped stride-1 conv without bias, on the padded image
    flattened row by row.

    xw is the padded image (width Wp) flattened, plus a tail for the largest shift; output
    pixel (i, j) is yw[o, i*Wp + j], and its last dil_w*(KW - 1) columns per row are garbage,
    as in kn2row (``_conv_gemm.forward_kn2row``). For layers with few output channels, where
    a column matrix or one product per tap moves far more memory than there is arithmetic:
    each tap adds one long shifted row into the output, one written array per loop, so
    LLVM vectorises it.
    """
    C_out, C_in, KH, KW = w.shape
    lo, hi = uint64(k0), uint64(k1)
    taps = KH * KW
    offs = np.empty(taps, dtype=np.uint64)
    for t in range(taps):
        offs[t] = (t // KW) * dil_h * Wp + (t % KW) * dil_w
    for o in range(C_out):
        acc = yw[o]
        acc[k0:k1] = 0
        for c in range(C_in):
            src, wc = xw[c], w[o, c].ravel()
            t = 0
            while t + 4 <= taps:               # four taps per pass: a quarter of the stores
                w0, w1, w2, w3 = wc[t], wc[t + 1], wc[t + 2], wc[t + 3]
                o0, o1, o2, o3 = offs[t], offs[t + 1], offs[t + 2], offs[t + 3]
                for k in range(lo, hi):
                    acc[k] += (w0 * src[k + o0] + w1 * src[k + o1]) \
                        + (w2 * src[k + o2] + w3 * src[k + o3])
                t += 4
            while t < taps:
                wv, off = wc[t], offs[t]
                for k in range(lo, hi):
                    acc[k] += wv * src[k + off]
                t += 1


@njit(cache=True, nogil=True)
def backward_weight_direct(xp, dy, dw, sh, sw, dil_h, dil_w, t0, t1):
    """dw[o, c, p, q] = sum_{n,i,j} dy[n,o,i,j] * xp[n, g*Cg+c, i*sh + p*dil_h, j*sw + q*dil_w]

    For layers with one or two output channels, where a column matrix would cost far more
    memory traffic than arithmetic. The sum over j is kept as a row of partial sums
    (vectorises without fastmath) and reduced at the end. Only the (o, c) pairs
    t = o*Cg + c in [t0, t1) are written, so threads can share the pairs.
    """
    N, C_out, H_out, W_out = dy.shape
    _, Cg, KH, KW = dw.shape
    Cog = C_out // (xp.shape[1] // Cg)
    W_u, sw_u = uint64(W_out), uint64(sw)
    for t in range(t0, t1):
        o, c = t // Cg, t % Cg
        xc = (o // Cog) * Cg + c
        acc = np.zeros((KH, KW, W_out), dtype=dw.dtype)
        for n in range(N):
            for i in range(H_out):
                for p in range(KH):
                    h = i * sh + p * dil_h
                    for q in range(KW):
                        off = uint64(q * dil_w)
                        if sw == 1:
                            for j in range(W_u):
                                acc[p, q, j] += dy[n, o, i, j] * xp[n, xc, h, j + off]
                        else:
                            for j in range(W_u):
                                acc[p, q, j] += dy[n, o, i, j] * xp[n, xc, h, j * sw_u + off]
        for p in range(KH):
            for q in range(KW):
                dw[o, c, p, q] = acc[p, q].sum()


@njit(cache=True, nogil=True)
def _bias_act(y, b, has_bias, act, slope):
    N, C, L = y.shape
    zero = y.dtype.type(0)
    for n in range(N):
        for c in range(C):
            bc, sc = (b[c] if has_bias else zero), slope[c]
            row = y[n, c]
            for k in range(L):
                row[k] = activate(act, row[k] + bc if has_bias else row[k], sc, zero)


def epilogue(y, b, act: int, slope) -> None:
    """In place: y[n, c, k] = act(y[n, c, k] + b[c]), one pass over a (N, C, L) block.

    b is (C,) or None; slope (C,) holds PReLU's per-channel slopes (any (C,) array for the
    other activations). tanh runs as NumPy's SIMD ``np.tanh`` on the block: Numba's scalar
    libm ``tanhf`` is 10x slower (``activation.tanh_forward_cpu``).
    """
    has_bias = b is not None
    if act == ACT_TANH:
        if has_bias:
            _bias_act(y, b, True, ACT_NONE, slope)
        np.tanh(y, out=y)
    elif has_bias or act != ACT_NONE:
        _bias_act(y, b if has_bias else slope, has_bias, act, slope)
