"""SSIM exactly as Wang et al.'s ``ssim_index.m`` (the script the SR papers use).

Local means, variances and covariance under an 11x11 Gaussian window (sigma 1.5, sum 1),
'valid' positions only, K1 = 0.01, K2 = 0.03, L = data range, SSIM = mean of the map; for
several channels, the mean of the per-channel SSIMs. No downsampling: that is MATLAB's
``ssim.m``, not ``ssim_index.m``. :func:`ssim_map_ref` loops over window positions;
:func:`ssim_map_cpu` filters x, y, x^2, y^2, xy with ``kernels/filter.py`` (read that first).
The per-pixel formula is ``ssim_term`` in ``kernels/_shared.py``.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from minisr.kernels._shared import ssim_term
from minisr.kernels.filter import gaussian_filter_valid_cpu, gaussian_window
from minisr.metrics.psnr import prepare_pair

__all__ = ["WINDOW_SIZE", "SIGMA", "K1", "K2", "ssim_map_ref", "ssim_map_cpu", "ssim"]

WINDOW_SIZE, SIGMA, K1, K2 = 11, 1.5, 0.01, 0.03


def _constants(data_range: float) -> tuple[float, float]:
    """C1 = (K1 L)^2, C2 = (K2 L)^2: keep the ratios finite in flat regions."""
    return (K1 * data_range) ** 2, (K2 * data_range) ** 2


def ssim_map_ref(x: np.ndarray, y: np.ndarray, data_range: float) -> np.ndarray:
    """SSIM map by explicit loops over window positions; the readable reference.

    For each position, with w = outer(g, g) the Gaussian window and X, Y the patches:
    mu_x = sum w X,  var_x = sum w (X - mu_x)^2,  cov_xy = sum w (X - mu_x)(Y - mu_y),
    then ``ssim_term``. (``ssim_index.m`` writes var_x = E_w[X^2] - mu_x^2; same value, and
    the centred form here is what the fast path is checked against.) Slow: small images only.

    Shape:
        x, y: (H, W) float64, H, W >= 11
        returns: (H - 10, W - 10) float64
    """
    c1, c2 = _constants(data_range)
    K = WINDOW_SIZE
    g = gaussian_window(K, SIGMA)
    w = np.outer(g, g)
    H, W = x.shape
    out = np.empty((H - K + 1, W - K + 1))
    for i in range(H - K + 1):
        for j in range(W - K + 1):
            X, Y = x[i:i + K, j:j + K], y[i:i + K, j:j + K]
            mu_x, mu_y = np.sum(w * X), np.sum(w * Y)
            dX, dY = X - mu_x, Y - mu_y
            # w * (dX * dY), not (w * dX) * dY: keeps the result bit-symmetric in x and y.
            var_x, var_y = np.sum(w * (dX * dX)), np.sum(w * (dY * dY))
            cov_xy = np.sum(w * (dX * dY))
            out[i, j] = ssim_term(mu_x, mu_y, var_x, var_y, cov_xy, c1, c2)
    return out


@njit(parallel=True, cache=True)
def _ssim_from_moments(mu_x, mu_y, e_xx, e_yy, e_xy, c1, c2):
    """Per-pixel ``ssim_term`` from filtered x, y, x^2, y^2, xy (variance = E[x^2] - mu^2).

    Shape:
        mu_x, mu_y, e_xx, e_yy, e_xy: (H_out, W_out) float64  ->  (H_out, W_out) float64
    """
    out = np.empty_like(mu_x)
    for i in prange(mu_x.shape[0]):  # each i writes only row i
        for j in range(mu_x.shape[1]):
            mx, my = mu_x[i, j], mu_y[i, j]
            out[i, j] = ssim_term(mx, my, e_xx[i, j] - mx * mx, e_yy[i, j] - my * my,
                                  e_xy[i, j] - mx * my, c1, c2)
    return out


def ssim_map_cpu(x: np.ndarray, y: np.ndarray, data_range: float) -> np.ndarray:
    """Same as :func:`ssim_map_ref` via five separable Gaussian filterings (Numba).

    mu_x = G * x, mu_y = G * y, var_x = G * x^2 - mu_x^2, var_y = G * y^2 - mu_y^2,
    cov_xy = G * xy - mu_x mu_y  ('valid' filtering, as ``ssim_index.m``). The subtraction
    cancels about log10(mu^2 / var) digits; on 0..255 data that is ~1e-11 absolute in the
    variances, far below C2 = 58.5, so the map agrees with the reference to ~1e-14.

    Shape:
        x, y: (H, W) float64, H, W >= 11
        returns: (H - 10, W - 10) float64
    """
    c1, c2 = _constants(data_range)
    g = gaussian_window(WINDOW_SIZE, SIGMA)
    x, y = np.ascontiguousarray(x), np.ascontiguousarray(y)
    f = gaussian_filter_valid_cpu
    return _ssim_from_moments(f(x, g), f(y, g), f(x * x, g), f(y * y, g), f(x * y, g), c1, c2)


_MAPS = {"ref": ssim_map_ref, "cpu": ssim_map_cpu}


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 1.0, crop_border: int = 0,
         y_channel: bool = False, quantize: bool = False, impl: str = "cpu") -> float:
    """Structural similarity (Wang et al. 2004), mean of the 'valid' SSIM map, in float64.

    SSIM = mean_{i,j} (2 mu_x mu_y + C1)(2 cov_xy + C2) / ((mu_x^2 + mu_y^2 + C1)
    (var_x + var_y + C2)),  C1 = (0.01 L)^2, C2 = (0.03 L)^2, 11x11 Gaussian window, sigma 1.5.

    Preprocessing (``data_range``, ``crop_border``, ``y_channel``, ``quantize``) is the same
    as :func:`minisr.metrics.psnr`: with ``y_channel`` or ``quantize``, L = 255 on the
    0..255 scale, else L = data_range. Unlike PSNR, SSIM is not offset-invariant, so the
    Y channel's +16 matters: use ``y_channel=True`` to compare with the papers.

    Shape:
        a, b: (H, W), (H, W, 1) or (H, W, 3), same shape, at least 11x11 after cropping:
        float in [0, data_range], or uint8/uint16 (as in :func:`minisr.metrics.psnr`)

    Parameters
    ----------
    a, b : the two images (the result is symmetric in a and b).
    data_range, crop_border, y_channel, quantize : as in :func:`minisr.metrics.psnr`.
    impl : ``'cpu'`` (separable Numba filtering) or ``'ref'`` (loops; tiny images only).

    Returns
    -------
    float, SSIM in [-1, 1]; 1.0 exactly for identical images. For C = 3 without
    ``y_channel``, the mean of the three per-channel SSIMs.

    References
    ----------
    Wang, Bovik, Sheikh, Simoncelli, "Image Quality Assessment: From Error Visibility to
    Structural Similarity", IEEE TIP 13(4), 2004.
    """
    if impl not in _MAPS:
        raise ValueError(f"ssim: impl must be one of {sorted(_MAPS)}, got {impl!r}")
    x, y, L = prepare_pair(a, b, data_range, crop_border, y_channel, quantize, name="ssim")
    if min(x.shape[:2]) < WINDOW_SIZE:
        raise ValueError(f"ssim: need at least {WINDOW_SIZE}x{WINDOW_SIZE} pixels after "
                         f"cropping, got {x.shape[:2]} from {a.shape}")
    ssim_map = _MAPS[impl]
    per_channel = [ssim_map(x[:, :, ch], y[:, :, ch], L).mean() for ch in range(x.shape[2])]
    return float(np.mean(per_channel))
