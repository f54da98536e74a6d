"""Gaussian 'valid' filtering: the local weighted means behind SSIM.

Wang et al. (2004) compute SSIM's local statistics with an 11x11 Gaussian window (sigma 1.5,
normalised to sum 1, MATLAB ``fspecial('gaussian', 11, 1.5)``) applied in 'valid' mode: only
window positions that lie fully inside the image, so an (H, W) image gives (H-10, W-10).
The 2-D window is the outer product of a 1-D one, so the fast kernel filters rows then
columns (2K instead of K^2 taps per pixel). Read next: ``metrics/ssim.py``.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["gaussian_window", "gaussian_filter_valid_ref", "gaussian_filter_valid_cpu"]


def gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    """1-D Gaussian taps normalised to sum 1; ``np.outer(g, g)`` is the 2-D SSIM window.

    g[k] = exp(-(k - c)^2 / (2 sigma^2)) / sum_k exp(-(k - c)^2 / (2 sigma^2)),  c = (size-1)/2

    The outer product equals ``fspecial('gaussian', size, sigma)``: exp(-(i^2 + j^2)/2s^2)
    factorises and so does its sum. (``fspecial`` also zeroes taps below eps * max; for
    size 11, sigma 1.5 the smallest 2-D tap is ~1e-6 of the largest, so nothing is zeroed.)

    Shape:
        returns: (size,) float64
    """
    if size < 1 or sigma <= 0:
        raise ValueError(f"gaussian_window: need size >= 1 and sigma > 0, got {size}, {sigma}")
    k = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(k * k) / (2.0 * sigma * sigma))
    return g / g.sum()


def gaussian_filter_valid_ref(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Correlate x with the 2-D window outer(g, g), 'valid' mode; the readable reference.

    y[i, j] = sum_{p, q} w[p, q] * x[i + p, j + q],   w = outer(g, g)

    (The window is symmetric, so correlation and MATLAB ``filter2``'s convolution agree.)

    Shape:
        x: (H, W) float    g: (K,)
        y: (H - K + 1, W - K + 1), dtype of x
    """
    K = g.shape[0]
    H, W = x.shape
    w = np.outer(g, g).astype(x.dtype)
    y = np.empty((H - K + 1, W - K + 1), dtype=x.dtype)
    for i in range(H - K + 1):
        for j in range(W - K + 1):
            y[i, j] = np.sum(w * x[i:i + K, j:j + K])
    return y


@njit(parallel=True, cache=True)
def gaussian_filter_valid_cpu(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Same as :func:`gaussian_filter_valid_ref`, as two separable 1-D passes.

    t[i, j] = sum_q g[q] * x[i, j + q]  (rows),   y[i, j] = sum_p g[p] * t[i + p, j]  (columns)

    Shape:
        x: (H, W) float    g: (K,)
        y: (H - K + 1, W - K + 1), dtype of x
    """
    K = g.shape[0]
    H, W = x.shape
    H_out = H - K + 1
    W_out = W - K + 1
    gx = g.astype(x.dtype)  # taps in the input's precision, as the reference uses
    t = np.empty((H, W_out), dtype=x.dtype)
    for i in prange(H):  # each i writes only row i of t
        for j in range(W_out):
            acc = x.dtype.type(0)
            for q in range(K):
                acc += gx[q] * x[i, j + q]
            t[i, j] = acc
    y = np.empty((H_out, W_out), dtype=x.dtype)
    for i in prange(H_out):  # each i writes only row i of y
        for j in range(W_out):
            acc = x.dtype.type(0)
            for p in range(K):
                acc += gx[p] * t[i + p, j]
            y[i, j] = acc
    return y
