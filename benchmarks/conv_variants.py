"""Losing conv variants, kept for teaching: each one was measured against the winner in _cpu.

    python benchmarks/conv_variants.py [--repeats N]

Every variant is a correct float32/float64 conv (groups = 1, square stride/padding) checked
against the ``_cpu`` winner before it is timed. Why each lost is in benchmarks/README.md:
  forward_numba_im2col   Numba-parallel im2col (signed indices) + np.matmul per image
  forward_wide           padded-width im2col: rows are contiguous memcpys, batch stacked
  forward_direct         Numba row-accumulating direct convolution (no BLAS)
  transpose_numpy_col2im col2im as KH*KW strided NumPy adds (the winner uses a Numba gather)
  transpose_parallel_col2im  the same gather with prange (fights OpenBLAS's threads)
"""
from __future__ import annotations

import argparse

import numpy as np
from numba import njit, prange
from numpy.lib.stride_tricks import as_strided

from minisr.kernels import _conv_blocks as cb
from minisr.kernels import _conv_gemm
from minisr.kernels.conv2d import conv2d_forward_cpu
from minisr.kernels.conv_transpose2d import conv_transpose2d_forward_cpu


# ----------------------------------------------------------------------------- Numba im2col
@njit(parallel=True, cache=True)
def _im2col_signed(xp, cols, s, KH, KW, H_out, W_out):
    """cols[(c, p, q), (i, j)] = xp[c, i*s + p, j*s + q]; one thread per column-matrix row."""
    C = xp.shape[0]
    for k in prange(C * KH * KW):
        c, p, q = k // (KH * KW), (k // KW) % KH, k % KW
        for i in range(H_out):
            for j in range(W_out):
                # signed index j*s + q: Numba adds a wraparound check -> no vectorisation
                cols[k, i * W_out + j] = xp[c, i * s + p, j * s + q]


def forward_numba_im2col(x, w, b, s=1, p=0):
    N, C, H, W = x.shape
    C_out, _, KH, KW = w.shape
    H_out, W_out = (H + 2 * p - KH) // s + 1, (W + 2 * p - KW) // s + 1
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    cols = np.empty((C * KH * KW, H_out * W_out), dtype=x.dtype)
    y = np.empty((N, C_out, H_out * W_out), dtype=x.dtype)
    for n in range(N):
        _im2col_signed(xp[n], cols, s, KH, KW, H_out, W_out)
        np.matmul(w.reshape(C_out, -1), cols, out=y[n])
    y += b.reshape(1, -1, 1)
    return y.reshape(N, C_out, H_out, W_out)


# ----------------------------------------------------------------------------- wide im2col
def forward_wide(x, w, b, s=1, p=0):
    """Stride 1 only. Pad every image, stack the batch along one flat axis per channel and
    compute on the padded grid: im2col row (c, p, q) is then ONE contiguous slice."""
    assert s == 1
    N, C, H, W = x.shape
    C_out, _, KH, KW = w.shape
    Hp, Wp = H + 2 * p, W + 2 * p
    L, tail = N * Hp * Wp, (KH - 1) * Wp + KW - 1
    xw = np.zeros((C, L + tail), dtype=x.dtype)
    xw[:, :L].reshape(C, N, Hp, Wp)[:, :, p:p + H, p:p + W] = x.transpose(1, 0, 2, 3)
    yw = np.empty((C_out, L), dtype=x.dtype)
    K = C * KH * KW
    Lt = max(256, cb.TILE_BYTES // (K * x.itemsize))
    cols = np.empty((K, Lt), dtype=x.dtype)
    e0, e1 = xw.strides
    for l0 in range(0, L, Lt):
        n = min(Lt, L - l0)
        src = as_strided(xw[:, l0:], (C, KH, KW, n), (e0, Wp * e1, e1, e1), writeable=False)
        np.copyto(cols[:, :n].reshape(C, KH, KW, n), src)
        np.matmul(w.reshape(C_out, K), cols[:, :n], out=yw[:, l0:l0 + n])
    H_out, W_out = Hp - KH + 1, Wp - KW + 1
    y = yw.reshape(C_out, N, Hp, Wp)[:, :, :H_out, :W_out] + b.reshape(-1, 1, 1, 1)
    return np.ascontiguousarray(y.transpose(1, 0, 2, 3))


# ----------------------------------------------------------------------------- direct
@njit(parallel=True, cache=True)
def _direct(xp, w, b, y, s):
    N, C_out, H_out, W_out = y.shape
    _, C, KH, KW = w.shape
    for t in prange(N * C_out * H_out):
        n, r = t // (C_out * H_out), t % (C_out * H_out)
        o, i = r // H_out, r % H_out
        yr = y[n, o, i]
        yr[:] = b[o]
        for c in range(C):
            for p in range(KH):
                xrow = xp[n, c, i * s + p]
                for q in range(KW):
                    wv = w[o, c, p, q]
                    xr = xrow[q:q + s * (W_out - 1) + 1:s]     # a view per tap: overhead
                    for j in range(W_out):
                        yr[j] += wv * xr[j]


def forward_direct(x, w, b, s=1, p=0):
    N, C, H, W = x.shape
    C_out, _, KH, KW = w.shape
    y = np.empty((N, C_out, (H + 2 * p - KH) // s + 1, (W + 2 * p - KW) // s + 1), x.dtype)
    _direct(np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))), w, b, y, s)
    return y


# ----------------------------------------------------------------------------- col2im
def _transpose_with(col2im, x, w, b, s, p, op):
    """conv_transpose2d forward through ``_conv_gemm`` with another col2im plugged in."""
    saved = _conv_gemm.col2im
    _conv_gemm.col2im = col2im
    try:
        return conv_transpose2d_forward_cpu(x, w, b, s, p, op)
    finally:
        _conv_gemm.col2im = saved


def _col2im_numpy(cols, yp, s, d, i0):
    KH, KW, nr, W = cols.shape[2:]
    for p in range(KH):
        r0 = i0 * s[0] + p * d[0]
        for q in range(KW):
            c0 = q * d[1]
            yp[:, :, r0:r0 + s[0] * (nr - 1) + 1:s[0], c0:c0 + s[1] * (W - 1) + 1:s[1]] += \
                cols[:, :, p, q]


@njit(parallel=True, cache=True)
def _col2im_rows_parallel(cols, yp, sh, sw, dh, dw, h_lo, h_hi):
    nb, C, KH, KW, nr, W = cols.shape
    nh = h_hi - h_lo
    for t in prange(nb * C * nh):
        n, r = t // (C * nh), t % (C * nh)
        c, h = r // nh, h_lo + r % nh
        for p in range(KH):
            rel = h - h_lo - p * dh
            if rel < 0 or rel % sh != 0 or rel // sh >= nr:
                continue
            for q in range(KW):
                row = yp[n, c, h, q * dw:q * dw + sw * (W - 1) + 1:sw]
                src = cols[n, c, p, q, rel // sh]
                for j in range(W):
                    row[j] += src[j]


def _col2im_parallel(cols, yp, s, d, i0):
    KH, nr = cols.shape[2], cols.shape[4]
    h_lo = i0 * s[0]
    h_hi = min(yp.shape[2], (i0 + nr - 1) * s[0] + (KH - 1) * d[0] + 1)
    _col2im_rows_parallel(cols, yp, s[0], s[1], d[0], d[1], h_lo, h_hi)


def transpose_numpy_col2im(x, w, b, s=1, p=0, op=0):
    return _transpose_with(_col2im_numpy, x, w, b, s, p, op)


def transpose_parallel_col2im(x, w, b, s=1, p=0, op=0):
    return _transpose_with(_col2im_parallel, x, w, b, s, p, op)


# ----------------------------------------------------------------------------- timing
def main():
    import sys
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from bench_kernels import median_times
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    repeats = ap.parse_args().repeats
    rng = np.random.default_rng(0)
    f32 = np.float32
    print(f"{'shape (batch 16, 48x48)':<28} {'variant':<26} {'GFLOP/s':>8} {'winner':>8}")
    for C_in, C_out, K in [(64, 64, 3), (1, 64, 9), (32, 1, 5)]:
        x = rng.standard_normal((16, C_in, 48, 48), dtype=f32)
        w = rng.standard_normal((C_out, C_in, K, K), dtype=f32)
        b = rng.standard_normal(C_out, dtype=f32)
        flops = 2 * 16 * C_out * 48 * 48 * C_in * K * K
        win = lambda: conv2d_forward_cpu(x, w, b, 1, K // 2)            # noqa: E731
        for name, f in [("forward_numba_im2col", forward_numba_im2col),
                        ("forward_wide", forward_wide), ("forward_direct", forward_direct)]:
            v = lambda: f(x, w, b, 1, K // 2)                           # noqa: E731
            np.testing.assert_allclose(v(), win(), rtol=1e-3, atol=1e-3 * K * K * C_in)
            t_v, t_w = median_times([v, win], repeats)
            print(f"{f'conv {K}x{K} {C_in}->{C_out}':<28} {name:<26} {flops / t_v / 1e9:8.1f} "
                  f"{flops / t_w / 1e9:8.1f}")
    for C_in, C_out, K, s, h in [(56, 1, 9, 3, 16), (64, 64, 3, 1, 48)]:
        x = rng.standard_normal((16, C_in, h, h), dtype=f32)
        w = rng.standard_normal((C_in, C_out, K, K), dtype=f32)
        b = rng.standard_normal(C_out, dtype=f32)
        p, op = (4, 2) if s == 3 else (1, 0)
        flops = 2 * 16 * C_in * h * h * C_out * K * K
        win = lambda: conv_transpose2d_forward_cpu(x, w, b, s, p, op)     # noqa: E731
        for name, f in [("transpose_numpy_col2im", transpose_numpy_col2im),
                        ("transpose_parallel_col2im", transpose_parallel_col2im)]:
            v = lambda: f(x, w, b, s, p, op)                            # noqa: E731
            np.testing.assert_allclose(v(), win(), rtol=1e-4, atol=1e-3 * K * K)
            t_v, t_w = median_times([v, win], repeats)
            print(f"{f'conv_transpose {K}x{K}/{s} {C_in}->{C_out}':<28} {name:<26} "
                  f"{flops / t_v / 1e9:8.1f} {flops / t_w / 1e9:8.1f}")


if __name__ == "__main__":
    main()
