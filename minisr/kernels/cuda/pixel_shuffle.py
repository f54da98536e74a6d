"""CUDA pixel shuffle and unshuffle (ESPCN's sub-pixel layer), PyTorch's channel order. Each
is the other's inverse and adjoint, so each one's backward is the other's forward. The CPU
twins are in ``kernels/pixel_shuffle.py``. One thread per output element (a gather).
"""
from __future__ import annotations

from numba import cuda

from minisr.kernels.cuda._launch import empty, grid_1d, unravel4

__all__ = ["pixel_shuffle_cuda", "pixel_unshuffle_cuda"]


@cuda.jit
def _pixel_shuffle_forward_kernel(x, r, y):
    k = cuda.grid(1)
    if k >= y.size:
        return
    n, c, hh, ww = unravel4(k, y.shape)
    y[n, c, hh, ww] = x[n, c * r * r + (hh % r) * r + ww % r, hh // r, ww // r]


@cuda.jit
def _pixel_unshuffle_forward_kernel(x, r, y):
    k = cuda.grid(1)
    if k >= y.size:
        return
    n, cc, h, w = unravel4(k, y.shape)
    c, i, j = cc // (r * r), (cc // r) % r, cc % r
    y[n, cc, h, w] = x[n, c, h * r + i, w * r + j]


def pixel_shuffle_cuda(x, r: int):
    """y[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j, h, w]. Backward: unshuffle.

    Shape:
        x: (N, C*r*r, H, W)    y: (N, C, H*r, W*r)
    """
    N, Crr, H, W = x.shape
    y = empty((N, Crr // (r * r), H * r, W * r), x.dtype)
    _pixel_shuffle_forward_kernel[grid_1d(y.size)](x, r, y)
    return y


def pixel_unshuffle_cuda(x, r: int):
    """The inverse (and adjoint) of :func:`pixel_shuffle_cuda`. Backward: shuffle.

    Shape:
        x: (N, C, H*r, W*r)    y: (N, C*r*r, H, W)
    """
    N, C, Hr, Wr = x.shape
    y = empty((N, C * r * r, Hr // r, Wr // r), x.dtype)
    _pixel_unshuffle_forward_kernel[grid_1d(y.size)](x, r, y)
    return y
