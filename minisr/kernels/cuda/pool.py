"""CUDA max pooling, forward and backward; the CPU twins and the math (ties, NaN, padding)
are in ``kernels/pool.py``.

Forward: one thread per output element scans its clipped window. Backward: one thread per
INPUT pixel (a gather, where the CPU scatters) visits the windows that cover it, rows
ceil((h + ph - KH + 1) / sh) .. floor((h + ph) / sh) and likewise for columns, and adds the
dy of each window whose argmax is this pixel. Windows are visited in row-major order, the
CPU scatter's order, so the sums agree bit for bit, and no atomics are needed when windows
overlap.
"""
from __future__ import annotations

import math

from numba import cuda

from minisr.kernels.cuda._launch import empty, grid_1d, unravel4
from minisr.kernels.pool import pool_out_size

__all__ = ["max_pool2d_forward_cuda", "max_pool2d_backward_cuda"]


@cuda.jit
def _max_pool2d_forward_kernel(x, KH, KW, sh, sw, ph, pw, y, indices):
    k = cuda.grid(1)
    if k >= y.size:
        return
    n, c, i, j = unravel4(k, y.shape)
    H, W = x.shape[2], x.shape[3]
    h0, h1 = max(i * sh - ph, 0), min(i * sh - ph + KH, H)
    w0, w1 = max(j * sw - pw, 0), min(j * sw - pw + KW, W)
    best, arg = x[n, c, h0, w0], h0 * W + w0
    for h in range(h0, h1):
        for w in range(w0, w1):
            v = x[n, c, h, w]
            if v > best or math.isnan(v):
                best, arg = v, h * W + w
    y[n, c, i, j] = best
    indices[n, c, i, j] = arg


@cuda.jit(device=True)
def _covering(t, K, s, p, n_out):
    """The range [lo, hi) of windows (along one axis) whose span i*s - p .. i*s - p + K - 1
    contains input position t."""
    first = t + p - K + 1                  # i*s >= first
    lo = 0 if first <= 0 else (first + s - 1) // s
    hi = min((t + p) // s + 1, n_out)
    return lo, hi


@cuda.jit
def _max_pool2d_backward_kernel(dy, indices, KH, KW, sh, sw, ph, pw, dx):
    k = cuda.grid(1)
    if k >= dx.size:
        return
    n, c, h, w = unravel4(k, dx.shape)
    OH, OW = dy.shape[2], dy.shape[3]
    me = h * dx.shape[3] + w
    i_lo, i_hi = _covering(h, KH, sh, ph, OH)
    j_lo, j_hi = _covering(w, KW, sw, pw, OW)
    acc = dx.dtype.type(0)
    for i in range(i_lo, i_hi):
        for j in range(j_lo, j_hi):
            if indices[n, c, i, j] == me:
                acc += dy[n, c, i, j]
    dx[n, c, h, w] = acc


def max_pool2d_forward_cuda(x, kernel_size: tuple[int, int], stride: tuple[int, int],
                            padding: tuple[int, int]):
    """The CUDA twin of ``max_pool2d_forward_cpu``: same signature and results (bit for bit).

    Shape:
        x: (N, C, H, W) device array    y, indices: (N, C, OH, OW) device arrays, int64 indices
    """
    N, C, H, W = x.shape
    (KH, KW), (sh, sw), (ph, pw) = kernel_size, stride, padding
    shape = (N, C, pool_out_size(H, KH, sh, ph), pool_out_size(W, KW, sw, pw))
    y, indices = empty(shape, x.dtype), empty(shape, "int64")
    _max_pool2d_forward_kernel[grid_1d(y.size)](x, KH, KW, sh, sw, ph, pw, y, indices)
    return y, indices


def max_pool2d_backward_cuda(dy, indices, x_shape: tuple, kernel_size: tuple[int, int],
                             stride: tuple[int, int], padding: tuple[int, int]):
    """The CUDA twin of ``max_pool2d_backward_cpu`` (bit for bit: the same additions in the
    same order), as a gather over input pixels.

    Shape:
        dy, indices: (N, C, OH, OW) device arrays    x_shape: (N, C, H, W)    dx: x_shape
    """
    (KH, KW), (sh, sw), (ph, pw) = kernel_size, stride, padding
    dx = empty(tuple(x_shape), dy.dtype)
    _max_pool2d_backward_kernel[grid_1d(dx.size)](dy, indices, KH, KW, sh, sw, ph, pw, dx)
    return dx
