"""CUDA bilinear resizing (torch's ``F.interpolate(mode="bilinear")``), forward and backward;
the CPU twins and the math are in ``kernels/upsample.py``.

Both passes use the per-axis tap tables of ``kernels.upsample.linear_taps``, built on the
host and uploaded (a few hundred numbers). Forward: one thread per output pixel, the CPU's
operations in the CPU's order (equal to rounding: a GPU may fuse a multiply and an add).
Backward: one thread per INPUT pixel (a gather, where the
CPU scatters): the transposed tables of ``kernels.resize.adjoint_weights`` list, for every
input row (column), the output rows (columns) that read it and with what weight, so

    dx[n, c, h, w] = sum_p aT[h, p] * sum_q bT[w, q] * dy[n, c, hT[h, p], wT[w, q]]

with no atomics. The order of additions differs from the CPU's, so the backward agrees
with it to rounding.
"""
from __future__ import annotations

import numpy as np
from numba import cuda

from minisr.kernels.cuda._launch import device, empty, grid_1d, unravel4
from minisr.kernels.resize import adjoint_weights
from minisr.kernels.upsample import linear_taps

__all__ = ["upsample_bilinear2d_forward_cuda", "upsample_bilinear2d_backward_cuda"]


@cuda.jit
def _upsample_bilinear2d_forward_kernel(x, a, hi, b, wi, y):
    k = cuda.grid(1)
    if k >= y.size:
        return
    n, c, i, j = unravel4(k, y.shape)
    h0, h1, w0, w1 = hi[i, 0], hi[i, 1], wi[j, 0], wi[j, 1]
    top = b[j, 0] * x[n, c, h0, w0] + b[j, 1] * x[n, c, h0, w1]
    bottom = b[j, 0] * x[n, c, h1, w0] + b[j, 1] * x[n, c, h1, w1]
    y[n, c, i, j] = a[i, 0] * top + a[i, 1] * bottom


@cuda.jit
def _upsample_bilinear2d_backward_kernel(dy, aT, hT, bT, wT, dx):
    k = cuda.grid(1)
    if k >= dx.size:
        return
    n, c, h, w = unravel4(k, dx.shape)
    zero = dx.dtype.type(0)
    acc = zero
    for p in range(aT.shape[1]):          # padded entries have weight 0 and index 0
        row = zero
        for q in range(bT.shape[1]):
            row += bT[w, q] * dy[n, c, hT[h, p], wT[w, q]]
        acc += aT[h, p] * row
    dx[n, c, h, w] = acc


def _taps(in_len: int, out_len: int, scale, dtype, adjoint: bool):
    """One axis's tables as device arrays: (weights, indices), transposed if ``adjoint``."""
    weights, indices = linear_taps(in_len, out_len, scale, dtype)
    if adjoint:
        weights, indices = adjoint_weights(weights.astype(np.float64), indices, in_len)
    return device(weights, dtype), device(indices, "int64")


def upsample_bilinear2d_forward_cuda(x, size: tuple[int, int], scales: tuple):
    """The CUDA twin of ``upsample_bilinear2d_forward_cpu``: same signature, same results to
    rounding.

    Shape:
        x: (N, C, H, W) device array    y: (N, C, OH, OW) device array, same dtype
    """
    N, C, H, W = x.shape
    (OH, OW), (sh, sw) = size, scales
    a, hi = _taps(H, OH, sh, x.dtype, adjoint=False)
    b, wi = _taps(W, OW, sw, x.dtype, adjoint=False)
    y = empty((N, C, OH, OW), x.dtype)
    _upsample_bilinear2d_forward_kernel[grid_1d(y.size)](x, a, hi, b, wi, y)
    return y


def upsample_bilinear2d_backward_cuda(dy, in_size: tuple[int, int], scales: tuple):
    """The CUDA twin of ``upsample_bilinear2d_backward_cpu`` (to rounding), as a gather.

    Shape:
        dy: (N, C, OH, OW) device array    in_size: (H, W)    dx: (N, C, H, W) device array
    """
    N, C, OH, OW = dy.shape
    (H, W), (sh, sw) = in_size, scales
    aT, hT = _taps(H, OH, sh, dy.dtype, adjoint=True)
    bT, wT = _taps(W, OW, sw, dy.dtype, adjoint=True)
    dx = empty((N, C, H, W), dy.dtype)
    _upsample_bilinear2d_backward_kernel[grid_1d(dx.size)](dy, aT, hT, bT, wT, dx)
    return dx
