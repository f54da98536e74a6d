"""Max pooling over k x k windows, forward and backward, as ``torch.nn.functional.max_pool2d``.

RLFN's enhanced spatial attention (Kong et al., 2022; ESA from RFANet, Liu et al., 2020)
shrinks a feature map with a 7 x 7, stride-3 max pool before its attention convs. The
forward keeps, per window, the largest value and where it was (the argmax, a flat index
into the (H, W) plane, as torch's ``return_indices``); the backward routes each output
gradient to that position. Windows overlap when stride < kernel, so one input pixel can
win several windows: its gradient is the sum of theirs. Padding is implicit -inf (it never
wins), which is the same as clipping each window to the image. Ties go to the first
position in row-major window order and NaN wins, as in torch's CPU kernel.
Read next: ``ops/pool.py``.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["pool_out_size", "max_pool2d_forward_ref", "max_pool2d_backward_ref",
           "max_pool2d_forward_cpu", "max_pool2d_backward_cpu"]


def pool_out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """PyTorch's output length with ceil_mode=False: (size + 2*padding - kernel) // stride + 1."""
    return (size + 2 * padding - kernel) // stride + 1


# --- reference --------------------------------------------------------------------------

def max_pool2d_forward_ref(x: np.ndarray, kernel_size: tuple[int, int],
                           stride: tuple[int, int], padding: tuple[int, int]):
    """The largest value of each window and its position; the readable reference.

    y[n, c, i, j]       = max_{p < KH, q < KW} x_pad[n, c, i*sh + p, j*sw + q]
    indices[n, c, i, j] = h * W + w of that maximum in x (unpadded coordinates)

    with x_pad = x padded by (ph, pw) with -inf. Each window is clipped to the image, so
    the padding never wins; torch's padding <= kernel // 2 keeps every clipped window
    non-empty. A later value replaces the running maximum only if it is strictly larger
    (ties keep the first, row-major) or NaN (NaN propagates, the last NaN's index kept).

    Shape:
        x: (N, C, H, W)    y, indices: (N, C, OH, OW), indices int64
        OH = (H + 2*ph - KH) // sh + 1,  OW = (W + 2*pw - KW) // sw + 1

    Parameters
    ----------
    x : ndarray
        Input, float32 or float64.
    kernel_size, stride, padding : (int, int)
        (KH, KW), (sh, sw) and (ph, pw), as ``torch.nn.functional.max_pool2d``.

    Returns
    -------
    y : ndarray
        The maxima, in x's dtype.
    indices : ndarray
        int64 flat positions in each (H, W) plane, what the backward needs.

    References
    ----------
    Kong et al., "Residual Local Feature Network for Efficient Super-Resolution", CVPRW 2022.
    """
    N, C, H, W = x.shape
    (KH, KW), (sh, sw), (ph, pw) = kernel_size, stride, padding
    OH, OW = pool_out_size(H, KH, sh, ph), pool_out_size(W, KW, sw, pw)
    y = np.empty((N, C, OH, OW), dtype=x.dtype)
    indices = np.empty((N, C, OH, OW), dtype=np.int64)
    for i in range(OH):
        for j in range(OW):
            h0, w0 = max(i * sh - ph, 0), max(j * sw - pw, 0)          # the clipped window
            h1, w1 = min(i * sh - ph + KH, H), min(j * sw - pw + KW, W)
            best = np.full((N, C), -np.inf, dtype=x.dtype)
            arg = np.full((N, C), h0 * W + w0, dtype=np.int64)
            for h in range(h0, h1):
                for w in range(w0, w1):
                    v = x[:, :, h, w]
                    take = (v > best) | np.isnan(v)
                    best = np.where(take, v, best)
                    arg = np.where(take, h * W + w, arg)
            y[:, :, i, j], indices[:, :, i, j] = best, arg
    return y, indices


def max_pool2d_backward_ref(dy: np.ndarray, indices: np.ndarray, x_shape: tuple,
                            kernel_size: tuple[int, int], stride: tuple[int, int],
                            padding: tuple[int, int]) -> np.ndarray:
    """dx: each dy[n, c, i, j] added at its window's argmax (a scatter-add).

    dx[n, c, h, w] = sum_{i, j : indices[n, c, i, j] = h*W + w} dy[n, c, i, j]

    Outputs are added in row-major (i, j) order, starting from 0. ``kernel_size``, ``stride``
    and ``padding`` are the forward's: the scatter needs only ``indices``, the CUDA twin
    (a gather) uses them to find the windows that cover a pixel.

    Shape:
        dy, indices: (N, C, OH, OW)    x_shape: (N, C, H, W)    dx: x_shape, dy's dtype
    """
    N, C, H, W = x_shape
    _, _, OH, OW = dy.shape
    dx = np.zeros((N * C, H * W), dtype=dy.dtype)
    planes = np.arange(N * C)
    for i in range(OH):
        for j in range(OW):
            # one position per plane: no two writes of this statement collide
            dx[planes, indices[:, :, i, j].ravel()] += dy[:, :, i, j].ravel()
    return dx.reshape(N, C, H, W)


# --- fast -------------------------------------------------------------------------------

@njit(parallel=True, cache=True)
def _max_pool2d_forward_loop(x, KH, KW, sh, sw, ph, pw, y, indices):
    # One (n, c) plane per iteration: disjoint writes. The running maximum starts at the
    # window's first pixel (as good as -inf: it is taken again by the first comparison
    # only if it is NaN, which keeps the same index).
    N, C, H, W = x.shape
    _, _, OH, OW = y.shape
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        for i in range(OH):
            h0, h1 = max(i * sh - ph, 0), min(i * sh - ph + KH, H)
            for j in range(OW):
                w0, w1 = max(j * sw - pw, 0), min(j * sw - pw + KW, W)
                best, arg = x[n, c, h0, w0], h0 * W + w0
                for h in range(h0, h1):
                    for w in range(w0, w1):
                        v = x[n, c, h, w]
                        if v > best or np.isnan(v):
                            best, arg = v, h * W + w
                y[n, c, i, j] = best
                indices[n, c, i, j] = arg


@njit(parallel=True, cache=True)
def _max_pool2d_backward_loop(dy, indices, dx):
    # dx: (N, C, H*W). The scatter stays inside one plane, so planes run in parallel; within
    # a plane outputs are added in row-major order, as in the reference.
    N, C, OH, OW = dy.shape
    zero = dx.dtype.type(0)
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        for k in range(dx.shape[2]):
            dx[n, c, k] = zero
        for i in range(OH):
            for j in range(OW):
                dx[n, c, indices[n, c, i, j]] += dy[n, c, i, j]


def max_pool2d_forward_cpu(x: np.ndarray, kernel_size: tuple[int, int],
                           stride: tuple[int, int], padding: tuple[int, int]):
    """Same as :func:`max_pool2d_forward_ref` (bit for bit), multi-threaded over (n, c).

    Shape:
        x: (N, C, H, W)    y, indices: (N, C, OH, OW), indices int64
    """
    x = np.ascontiguousarray(x)
    N, C, H, W = x.shape
    (KH, KW), (sh, sw), (ph, pw) = kernel_size, stride, padding
    OH, OW = pool_out_size(H, KH, sh, ph), pool_out_size(W, KW, sw, pw)
    y = np.empty((N, C, OH, OW), dtype=x.dtype)
    indices = np.empty((N, C, OH, OW), dtype=np.int64)
    _max_pool2d_forward_loop(x, KH, KW, sh, sw, ph, pw, y, indices)
    return y, indices


def max_pool2d_backward_cpu(dy: np.ndarray, indices: np.ndarray, x_shape: tuple,
                            kernel_size: tuple[int, int], stride: tuple[int, int],
                            padding: tuple[int, int]) -> np.ndarray:
    """Same as :func:`max_pool2d_backward_ref` (bit for bit: the same order of additions),
    multi-threaded over (n, c) planes.

    Shape:
        dy, indices: (N, C, OH, OW)    x_shape: (N, C, H, W)    dx: x_shape, dy's dtype
    """
    N, C, H, W = x_shape
    dx = np.empty((N, C, H * W), dtype=dy.dtype)
    _max_pool2d_backward_loop(np.ascontiguousarray(dy), np.ascontiguousarray(indices), dx)
    return dx.reshape(N, C, H, W)
