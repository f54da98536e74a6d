"""Bilinear resizing of feature maps, forward and backward, as PyTorch's
``F.interpolate(x, size or scale_factor, mode="bilinear", align_corners=False)``.

RLFN's enhanced spatial attention (Kong et al., 2022) pools a feature map down, convolves
it, and resizes it back to the input's exact H x W (a non-integer ratio in general) before
the sigmoid gate. This is torch's half-pixel convention, not MATLAB's ``imresize``
(``kernels/resize.py``: mirrored borders, antialiasing): output pixel i samples the input
at src = scale * (i + 0.5) - 0.5, clamped at 0, between its two neighbours; per axis that
is a table of two taps per output (``linear_taps``). The backward is the adjoint: each
dy is scattered back to the four pixels it was made from, with the same four weights.
Read next: ``ops/upsample.py``.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["linear_taps", "upsample_bilinear2d_forward_ref", "upsample_bilinear2d_backward_ref",
           "upsample_bilinear2d_forward_cpu", "upsample_bilinear2d_backward_cpu"]


def linear_taps(in_len: int, out_len: int, scale_factor: float | None,
                dtype) -> tuple[np.ndarray, np.ndarray]:
    """The two source pixels and weights of every output pixel along one axis, computed in
    ``dtype`` as torch's CPU kernel computes them in its scalar type.

    ratio = 1 / scale_factor if one was given, else in_len / out_len
    src   = max(ratio * (i + 0.5) - 0.5, 0)          (the half-pixel centre, clamped at 0)
    i0    = min(floor(src), in_len - 1),  i1 = min(i0 + 1, in_len - 1)
    l1    = min(src - i0, 1),  l0 = 1 - l1           y[i] = l0 * x[i0] + l1 * x[i1]

    An axis whose length does not change is copied (i0 = i1 = i, l0 = 1), even when a
    scale_factor (e.g. 1.2 on 3 pixels) would say otherwise: torch does the same. Torch uses
    1 / scale_factor, not in_len / out_len, whenever a scale_factor is given, so a scale
    factor of 1.5 on 5 pixels samples differently from asking for 7 pixels.

    Shape:
        returns: weights (out_len, 2) in ``dtype``, [l0, l1];  indices (out_len, 2) int64,
        [i0, i1]: the layout of ``kernels.resize.resize_weights``
    """
    t = np.dtype(dtype).type
    i = np.arange(out_len)
    if in_len == out_len:
        l1 = np.zeros(out_len, dtype=dtype)
        return np.stack([1 - l1, l1], axis=1), np.stack([i, i], axis=1)
    # every step in dtype, elementwise, as torch's scalar loop (float32 stays float32)
    ratio = t(1.0 / scale_factor) if scale_factor else t(in_len) / t(out_len)
    src = np.maximum(ratio * (i.astype(dtype) + t(0.5)) - t(0.5), t(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), in_len - 1)
    l1 = np.minimum(src - i0.astype(dtype), t(1))
    return np.stack([t(1) - l1, l1], axis=1), np.stack([i0, np.minimum(i0 + 1, in_len - 1)], 1)


# --- reference --------------------------------------------------------------------------

def upsample_bilinear2d_forward_ref(x: np.ndarray, size: tuple[int, int],
                                    scales: tuple) -> np.ndarray:
    """Bilinear resize of every (H, W) plane to ``size``; the readable reference.

    With the taps (a0, a1 at rows h0, h1) of output row i and (b0, b1 at columns w0, w1) of
    output column j from :func:`linear_taps`:

    y[n, c, i, j] = a0 * (b0 * x[n, c, h0, w0] + b1 * x[n, c, h0, w1])
                  + a1 * (b0 * x[n, c, h1, w0] + b1 * x[n, c, h1, w1])

    Shape:
        x: (N, C, H, W)    y: (N, C, OH, OW), same dtype as x

    Parameters
    ----------
    x : ndarray
        Input, float32 or float64.
    size : (int, int)
        (OH, OW), the output size.
    scales : (float or None, float or None)
        The scale factors the user gave (torch's ``scales_h, scales_w``): they set the
        sampling ratio 1 / scale; None uses H / OH (and W / OW).

    Returns
    -------
    y : ndarray
        A new C-contiguous array.

    References
    ----------
    Kong et al., "Residual Local Feature Network for Efficient Super-Resolution", CVPRW 2022.
    """
    N, C, H, W = x.shape
    (OH, OW), (sh, sw) = size, scales
    a, hi = linear_taps(H, OH, sh, x.dtype)
    b, wi = linear_taps(W, OW, sw, x.dtype)
    y = np.empty((N, C, OH, OW), dtype=x.dtype)
    for i in range(OH):
        (h0, h1), (a0, a1) = hi[i], a[i]
        for j in range(OW):
            (w0, w1), (b0, b1) = wi[j], b[j]
            top = b0 * x[:, :, h0, w0] + b1 * x[:, :, h0, w1]
            bottom = b0 * x[:, :, h1, w0] + b1 * x[:, :, h1, w1]
            y[:, :, i, j] = a0 * top + a1 * bottom
    return y


def upsample_bilinear2d_backward_ref(dy: np.ndarray, in_size: tuple[int, int],
                                     scales: tuple) -> np.ndarray:
    """The adjoint of the forward: each dy[n, c, i, j] is added to the four pixels that
    made y[n, c, i, j], times their weights (a scatter-add, outputs in row-major order).

    dx[n, c, h_p, w_q] += a_p * b_q * dy[n, c, i, j]    for p, q in {0, 1}

    so <upsample(x), dy> = <x, dx> for every x.

    Shape:
        dy: (N, C, OH, OW)    in_size: (H, W)    dx: (N, C, H, W), dy's dtype
    """
    N, C, OH, OW = dy.shape
    (H, W), (sh, sw) = in_size, scales
    a, hi = linear_taps(H, OH, sh, dy.dtype)
    b, wi = linear_taps(W, OW, sw, dy.dtype)
    dx = np.zeros((N, C, H, W), dtype=dy.dtype)
    for i in range(OH):
        for j in range(OW):
            g = dy[:, :, i, j]
            for p in range(2):
                for q in range(2):
                    dx[:, :, hi[i, p], wi[j, q]] += a[i, p] * b[j, q] * g
    return dx


# --- fast -------------------------------------------------------------------------------

@njit(parallel=True, cache=True)
def _forward_loop(x, a, hi, b, wi, y):
    # One (n, c) plane per iteration (disjoint writes), the reference's operations in order.
    N, C, _, _ = x.shape
    _, _, OH, OW = y.shape
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        for i in range(OH):
            h0, h1, a0, a1 = hi[i, 0], hi[i, 1], a[i, 0], a[i, 1]
            for j in range(OW):
                w0, w1, b0, b1 = wi[j, 0], wi[j, 1], b[j, 0], b[j, 1]
                top = b0 * x[n, c, h0, w0] + b1 * x[n, c, h0, w1]
                bottom = b0 * x[n, c, h1, w0] + b1 * x[n, c, h1, w1]
                y[n, c, i, j] = a0 * top + a1 * bottom


@njit(parallel=True, cache=True)
def _backward_loop(dy, a, hi, b, wi, dx):
    # The scatter stays inside one plane, so planes run in parallel; within a plane the
    # additions come in the reference's order.
    N, C, OH, OW = dy.shape
    _, _, H, W = dx.shape
    zero = dx.dtype.type(0)
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        for h in range(H):
            for w in range(W):
                dx[n, c, h, w] = zero
        for i in range(OH):
            for j in range(OW):
                g = dy[n, c, i, j]
                for p in range(2):
                    for q in range(2):
                        dx[n, c, hi[i, p], wi[j, q]] += a[i, p] * b[j, q] * g


def upsample_bilinear2d_forward_cpu(x: np.ndarray, size: tuple[int, int],
                                    scales: tuple) -> np.ndarray:
    """Same as :func:`upsample_bilinear2d_forward_ref` (bit for bit), multi-threaded over
    (n, c) planes.

    Shape:
        x: (N, C, H, W)    y: (N, C, OH, OW), same dtype as x
    """
    x = np.ascontiguousarray(x)
    N, C, H, W = x.shape
    (OH, OW), (sh, sw) = size, scales
    a, hi = linear_taps(H, OH, sh, x.dtype)
    b, wi = linear_taps(W, OW, sw, x.dtype)
    y = np.empty((N, C, OH, OW), dtype=x.dtype)
    _forward_loop(x, a, hi, b, wi, y)
    return y


def upsample_bilinear2d_backward_cpu(dy: np.ndarray, in_size: tuple[int, int],
                                     scales: tuple) -> np.ndarray:
    """Same as :func:`upsample_bilinear2d_backward_ref` (bit for bit: the same additions
    in the same order), multi-threaded over (n, c) planes.

    Shape:
        dy: (N, C, OH, OW)    in_size: (H, W)    dx: (N, C, H, W), dy's dtype
    """
    dy = np.ascontiguousarray(dy)
    N, C, OH, OW = dy.shape
    (H, W), (sh, sw) = in_size, scales
    a, hi = linear_taps(H, OH, sh, dy.dtype)
    b, wi = linear_taps(W, OW, sw, dy.dtype)
    dx = np.empty((N, C, H, W), dtype=dy.dtype)
    _backward_loop(dy, a, hi, b, wi, dx)
    return dx
