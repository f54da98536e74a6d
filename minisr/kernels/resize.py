"""Separable resampling along one axis, exactly as MATLAB's ``imresize`` does it.

A resize is, per axis, a sparse matrix: output pixel i is sum_p w[i, p] * x[idx[i, p]].
``resize_weights`` builds (w, idx) the way MATLAB's ``contributions`` does (1-based
coordinates, kernel widened by 1/scale when antialiasing a downscale, rows normalised to
sum 1, symmetric borders, all-zero columns dropped); ``resize_axis_ref`` applies them with
plain loops and ``resize_axis_cpu`` with Numba. Facts: ``../shared/REFERENCE.md``.
Read next: ``image/resize.py`` (the public ``resize``: output size, dimension order).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
from numba import njit, prange

from minisr.kernels._shared import cubic_weight

__all__ = ["triangle_weight", "box_weight", "KERNELS", "symmetric_index", "resize_weights",
           "adjoint_weights", "resize_axis_ref", "resize_axis_cpu"]


@njit(cache=True)
def triangle_weight(x: float) -> float:
    """MATLAB's ``triangle`` (bilinear) kernel: 1 - |x| on [-1, 1], support width 2."""
    if -1.0 <= x < 0.0:
        return x + 1.0
    if 0.0 <= x <= 1.0:
        return 1.0 - x
    return 0.0


@njit(cache=True)
def box_weight(x: float) -> float:
    """MATLAB's ``box`` (nearest) kernel: 1 on [-0.5, 0.5), support width 1.

    The half-open interval is MATLAB's tie-break: a sample exactly between two pixels
    takes the right-hand one.
    """
    return 1.0 if -0.5 <= x < 0.5 else 0.0


# method name -> (kernel, support width), as MATLAB's getMethodInfo.
KERNELS: dict[str, tuple[Callable[[float], float], float]] = {
    "bicubic": (cubic_weight, 4.0),
    "bilinear": (triangle_weight, 2.0),
    "nearest": (box_weight, 1.0),
}


def symmetric_index(k: int, n: int) -> int:
    """Map a 0-based index k (possibly outside [0, n)) into [0, n) by mirroring with the
    edge repeated: ... 1 0 | 0 1 ... n-1 | n-1 n-2 ... (MATLAB ``padarray(..., 'symmetric')``).

    MATLAB writes this as ``aux = [1:n, n:-1:1]; aux(mod(k1 - 1, 2n) + 1)`` for 1-based k1.
    """
    m = k % (2 * n)  # Python's % is non-negative, as MATLAB's mod
    return m if m < n else 2 * n - 1 - m


def resize_weights(in_len: int, out_len: int, scale: float,
                   kernel: Callable[[float], float], kernel_width: float,
                   antialias: bool) -> tuple[np.ndarray, np.ndarray]:
    """Interpolation weights and 0-based source indices for every output pixel (MATLAB's
    ``contributions``).

    With 1-based output coordinate x, the input coordinate is
        u = x / scale + 0.5 * (1 - 1 / scale)
    (pixel edges line up: 0.5 maps to 0.5). When scale < 1 and antialias, the kernel becomes
    h(t) = scale * kernel(scale * t) with width kernel_width / scale (a low-pass filter
    matched to the new sampling rate). The P = ceil(width) + 2 candidate pixels start at
    floor(u - width / 2); their weights h(u - j) are divided by their sum, indices are
    mirrored into range, and columns that are zero for every output pixel are dropped.
    O(out_len * P) work, so both the ref and the fast path use this function.

    Shape:
        returns: weights (out_len, P) float64, rows sum to 1;  indices (out_len, P) int64
    """
    if scale < 1.0 and antialias:
        def h(t: float) -> float:
            return scale * kernel(scale * t)
        width = kernel_width / scale
    else:
        h = kernel
        width = kernel_width
    P = int(math.ceil(width)) + 2
    weights = np.zeros((out_len, P))
    indices = np.zeros((out_len, P), dtype=np.int64)
    for i in range(out_len):
        x = i + 1.0  # MATLAB's 1-based output coordinate
        u = x / scale + 0.5 * (1.0 - 1.0 / scale)
        left = math.floor(u - width / 2.0)
        for p in range(P):
            j = left + p  # 1-based input index, may fall outside [1, in_len]
            weights[i, p] = h(u - j)
            indices[i, p] = symmetric_index(j - 1, in_len)
        weights[i] /= weights[i].sum()
    keep = np.any(weights != 0.0, axis=0)
    return weights[:, keep], indices[:, keep]


def adjoint_weights(weights: np.ndarray, indices: np.ndarray,
                    in_len: int) -> tuple[np.ndarray, np.ndarray]:
    """The transpose of a resize table, as a table of the same form: the backward pass.

    The forward map is y[i] = sum_p w[i, p] x[idx[i, p]], a sparse matrix A (out_len x
    in_len). Its adjoint dx = A^T dy gathers, for every input pixel j, the pairs (i, p) with
    idx[i, p] = j: dx[j] = sum_q wT[j, q] dy[iT[j, q]]. Rows are padded with zero weights
    (index 0), so ``resize_axis_*`` apply the adjoint with no scatter and no atomics.
    Duplicate (i, j) pairs (mirrored borders) are summed into one entry first.

    Shape:
        weights, indices: (out_len, P)    returns: (in_len, Q) float64, (in_len, Q) int64
    """
    dense = np.zeros((in_len, weights.shape[0]))
    rows = np.repeat(np.arange(weights.shape[0]), weights.shape[1])
    np.add.at(dense, (indices.ravel(), rows), weights.ravel())
    nz = dense != 0.0
    Q = max(int(nz.sum(axis=1).max()), 1)
    wT = np.zeros((in_len, Q))
    iT = np.zeros((in_len, Q), dtype=np.int64)
    for j in range(in_len):
        (cols,) = np.nonzero(nz[j])
        wT[j, :cols.size] = dense[j, cols]
        iT[j, :cols.size] = cols
    return wT, iT


def resize_axis_ref(x: np.ndarray, weights: np.ndarray, indices: np.ndarray,
                    axis: int) -> np.ndarray:
    """Resample x along ``axis``: y[.., i, ..] = sum_p weights[i, p] * x[.., indices[i, p], ..].

    Plain loops over output positions and taps; sums in x's dtype starting from zero, taps
    in order p = 0, 1, ... (the fast path adds in the same order).

    Shape:
        x: (..., L_in, ...) float    weights, indices: (L_out, P)
        returns: (..., L_out, ...) same dtype as x, L_out at position ``axis``
    """
    xm = np.moveaxis(x, axis, 0)
    w = weights.astype(x.dtype)
    ym = np.zeros((weights.shape[0],) + xm.shape[1:], dtype=x.dtype)
    for i in range(weights.shape[0]):
        for p in range(weights.shape[1]):
            ym[i] += w[i, p] * xm[indices[i, p]]
    return np.moveaxis(ym, 0, axis)


@njit(parallel=True, cache=True)
def _resize_axis_loop(x: np.ndarray, w: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """y[a, i, b] = sum_p w[i, p] * x[a, idx[i, p], b]; prange over disjoint (a, i) rows."""
    A, _, B = x.shape
    L_out, P = w.shape
    y = np.empty((A, L_out, B), dtype=x.dtype)
    for t in prange(A * L_out):
        a = t // L_out
        i = t % L_out
        for b in range(B):
            y[a, i, b] = x.dtype.type(0)
        for p in range(P):
            wp = w[i, p]
            src = idx[i, p]
            for b in range(B):  # contiguous in b
                y[a, i, b] += wp * x[a, src, b]
    return y


def resize_axis_cpu(x: np.ndarray, weights: np.ndarray, indices: np.ndarray,
                    axis: int) -> np.ndarray:
    """Numba version of :func:`resize_axis_ref`, same signature and results.

    The array is viewed as (A, L_in, B) with the resized axis in the middle, so one loop
    serves every axis and layout.

    Shape:
        x: (..., L_in, ...) float    weights, indices: (L_out, P)
        returns: (..., L_out, ...) same dtype as x, L_out at position ``axis``
    """
    axis = axis % x.ndim
    A = math.prod(x.shape[:axis])
    B = math.prod(x.shape[axis + 1:])
    x3 = np.ascontiguousarray(x).reshape(A, x.shape[axis], B)
    y3 = _resize_axis_loop(x3, np.ascontiguousarray(weights, dtype=x.dtype),
                           np.ascontiguousarray(indices, dtype=np.int64))
    return y3.reshape(x.shape[:axis] + (weights.shape[0],) + x.shape[axis + 1:])
