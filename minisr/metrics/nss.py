"""Natural-scene statistics: MSCN coefficients and the (asymmetric) generalized Gaussian fits.

Ruderman's observation, as BRISQUE and NIQE (Mittal, Moorthy, Bovik 2012; Mittal,
Soundararajan, Bovik 2013) use it: divide an image by its local mean and contrast and the
result (MSCN coefficients) is close to a unit generalized Gaussian on natural photographs,
and products of neighbouring coefficients follow an asymmetric one. Distortions bend both
shapes. Here: :func:`mscn`, the moment-matching fits :func:`ggd_fit` and :func:`aggd_fit`
(the MATLAB releases' ``estimateggdparam`` / ``estimateaggdparam``), and the 18 numbers per
patch NIQE uses (:func:`patch_features_ref` loops, :func:`patch_features_cpu` is Numba).
Read next: ``niqe.py``.
"""
from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit, prange

from minisr.kernels.filter import gaussian_filter_valid_cpu, gaussian_window

__all__ = ["MSCN_WINDOW", "MSCN_SIGMA", "MSCN_C", "ALPHA_GRID", "NUM_FEATURES", "mscn",
           "ggd_fit", "aggd_fit", "patch_features_ref", "patch_features_cpu"]

# The releases' window: fspecial('gaussian', 7, 7/6) normalised to sum 1, and C = 1 on the
# 0..255 scale (so flat regions do not divide by ~0).
MSCN_WINDOW, MSCN_SIGMA, MSCN_C = 7, 7.0 / 6.0, 1.0
# Shape parameters searched by moment matching: MATLAB's 0.2:0.001:10 (9801 values), as
# exact decimals k/1000.
ALPHA_GRID = np.arange(200, 10001) / 1000.0
NUM_FEATURES = 18  # per patch and scale: 2 for the MSCN, 4 for each of the 4 products


@functools.lru_cache(maxsize=None)
def _tables() -> dict[str, np.ndarray]:
    """Gamma-function ratios on ALPHA_GRID (math.gamma; 9801 values, built once).

    r_aggd(a) = G(2/a)^2 / (G(1/a) G(3/a)) = E|x|^2 / E[x^2] of a GGD with shape a; it
    rises strictly from 0.063 (a = 0.2) through 1/2 (Laplace) and 2/pi (Gauss) to 0.74.
    r_ggd = 1 / r_aggd is BRISQUE's ratio E[x^2] / E|x|^2.
    """
    g1 = np.array([math.gamma(1.0 / a) for a in ALPHA_GRID])
    g2 = np.array([math.gamma(2.0 / a) for a in ALPHA_GRID])
    g3 = np.array([math.gamma(3.0 / a) for a in ALPHA_GRID])
    t = {"r_aggd": g2 * g2 / (g1 * g3), "r_ggd": g1 * g3 / (g2 * g2),
         "g1_over_g3": g1 / g3, "g2_over_g1": g2 / g1}
    for v in t.values():
        v.flags.writeable = False
    return t


def mscn(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean-subtracted contrast-normalised coefficients, and the local deviation.

    mu = w * y,  sigma = sqrt(|w * y^2 - mu^2|),  mscn = (y - mu) / (sigma + C),  C = 1

    w = 7x7 Gaussian, sigma 7/6, sum 1; '*' is correlation with replicated borders and the
    input's size (MATLAB ``imfilter(y, w, 'replicate')``). The window is separable, so this
    filters rows then columns (``kernels/filter.py``); it agrees with the 2-D sum to ~1e-13
    on 0..255 data. |.| guards the cancellation in E[y^2] - mu^2, as the release does.

    Shape:
        y: (H, W) float, gray on the 0..255 scale (C = 1 assumes it)
        returns mscn, sigma: (H, W) float64 each
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    g = gaussian_window(MSCN_WINDOW, MSCN_SIGMA)
    r = MSCN_WINDOW // 2
    mu = gaussian_filter_valid_cpu(np.pad(y, r, mode="edge"), g)
    e_yy = gaussian_filter_valid_cpu(np.pad(y * y, r, mode="edge"), g)
    sigma = np.sqrt(np.abs(e_yy - mu * mu))
    return (y - mu) / (sigma + MSCN_C), sigma


def _moments(x: np.ndarray) -> np.ndarray:
    """(n_neg, sum x^2 over x < 0, n_pos, sum x^2 over x > 0, sum |x|, sum x^2, n) of x."""
    x = np.asarray(x, dtype=np.float64).ravel()
    neg, pos = x[x < 0], x[x > 0]
    return np.array([neg.size, neg @ neg, pos.size, pos @ pos, np.abs(x).sum(), x @ x,
                     x.size], dtype=np.float64)


def _nearest(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """argmin_k (r[k] - v)^2 for each v, the first k on a tie, for strictly rising r.

    The squared distance falls until r passes v and rises after, so the minimum is at one
    of the two grid points around v (``searchsorted``): 2 comparisons instead of 9801.
    NaN gives k = 0, as MATLAB's ``min`` over an all-NaN vector returns its first index.
    """
    v = np.asarray(v, dtype=np.float64)
    i = np.searchsorted(r, v)
    lo, hi = np.clip(i - 1, 0, r.size - 1), np.clip(i, 0, r.size - 1)
    k = np.where((r[lo] - v) ** 2 <= (r[hi] - v) ** 2, lo, hi)
    return np.where(np.isnan(v), 0, k)


def _aggd_from_moments(m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """AGGD (alpha, beta_l, beta_r) and alpha's grid index from ``_moments`` rows; see
    :func:`aggd_fit`.

    An empty side (no negative or no positive value) makes its std NaN, as MATLAB's mean of
    an empty vector does, so betas come out NaN and alpha = 0.2 (the grid's first value).
    """
    t = _tables()
    with np.errstate(invalid="ignore", divide="ignore"):
        left = np.sqrt(m[..., 1] / m[..., 0])
        right = np.sqrt(m[..., 3] / m[..., 2])
        g = left / right
        n = m[..., 6]
        rhat = (m[..., 4] / n) ** 2 / (m[..., 5] / n)
        rnorm = rhat * (g ** 3 + 1) * (g + 1) / (g ** 2 + 1) ** 2
    k = _nearest(t["r_aggd"], rnorm)
    scale = np.sqrt(t["g1_over_g3"][k])
    return ALPHA_GRID[k], left * scale, right * scale, k


def aggd_fit(x: np.ndarray) -> tuple[float, float, float]:
    """Asymmetric generalized Gaussian (alpha, beta_l, beta_r) by moment matching.

    Density: f(x) = alpha / ((beta_l + beta_r) G(1/alpha)) exp(-(-x / beta_l)^alpha) for
    x < 0, and likewise with beta_r for x >= 0. With s_l, s_r the root mean squares of the
    negative and positive samples, g = s_l / s_r and rhat = (mean |x|)^2 / mean x^2:

        R = rhat (g^3 + 1)(g + 1) / (g^2 + 1)^2
        alpha = the grid value minimising (G(2/a)^2 / (G(1/a) G(3/a)) - R)^2
        beta_l = s_l sqrt(G(1/alpha) / G(3/alpha)),  beta_r = s_r sqrt(G(1/alpha) / G(3/alpha))

    as ``estimateaggdparam.m`` (grid 0.2:0.001:10). Zeros count in rhat, in neither side.

    Shape:
        x: any shape, float (flattened)
    """
    a, bl, br, _ = _aggd_from_moments(_moments(x))
    return float(a), float(bl), float(br)


def ggd_fit(x: np.ndarray) -> tuple[float, float]:
    """Zero-mean generalized Gaussian (alpha, sigma) by moment matching.

    Density: f(x) = alpha / (2 beta G(1/alpha)) exp(-(|x| / beta)^alpha), variance
    sigma^2 = beta^2 G(3/alpha) / G(1/alpha). With rho = mean x^2 / (mean |x|)^2:

        alpha = the grid value minimising |G(1/a) G(3/a) / G(2/a)^2 - rho|,  sigma = sqrt(mean x^2)

    as BRISQUE's ``estimateggdparam.m`` (grid 0.2:0.001:10; first minimum on a tie). NIQE's
    release fits the MSCN with :func:`aggd_fit` instead and keeps (beta_l + beta_r) / 2.

    Shape:
        x: any shape, float (flattened)
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    s2 = float(x @ x) / x.size
    e = float(np.abs(x).sum()) / x.size
    k = int(np.argmin(np.abs(s2 / (e * e) - _tables()["r_ggd"]))) if e > 0 else 0
    return float(ALPHA_GRID[k]), math.sqrt(s2)


def _features_from_moments(m: np.ndarray) -> np.ndarray:
    """(P, 5, 7) moments of the MSCN and its 4 products -> (P, 18) features.

    [alpha, (beta_l + beta_r) / 2] of the MSCN, then per product (horizontal, vertical,
    main diagonal, anti-diagonal) [alpha, eta, beta_l, beta_r] with the AGGD mean
    eta = (beta_r - beta_l) G(2/alpha) / G(1/alpha)  (``computefeature.m``).
    """
    a, bl, br, k = _aggd_from_moments(m)
    eta = (br - bl) * _tables()["g2_over_g1"][k]
    out = np.empty((m.shape[0], NUM_FEATURES))
    out[:, 0], out[:, 1] = a[:, 0], (bl[:, 0] + br[:, 0]) / 2
    for s in range(4):
        out[:, 2 + 4 * s:6 + 4 * s] = np.stack([a[:, s + 1], eta[:, s + 1], bl[:, s + 1],
                                                br[:, s + 1]], axis=1)
    return out


# MATLAB circshift(B, [di dj]) per product: B(i, j) times B(i - di, j - dj), wrapping inside
# the patch. NumPy's np.roll(B, (di, dj), axis=(0, 1)) is the same shift.
_SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))


def patch_features_ref(m: np.ndarray, p: int) -> np.ndarray:
    """18 NSS features of each p x p patch of an MSCN map; the readable reference.

    Patches tile the map without overlap, in row-major order; each is fitted on its own,
    neighbours wrapping around inside it (``blkproc`` + ``circshift``, as the release).

    Shape:
        m: (H, W) float64, H and W multiples of p
        returns: (H // p * W // p, 18) float64
    """
    rows = []
    for i in range(0, m.shape[0], p):
        for j in range(0, m.shape[1], p):
            b = m[i:i + p, j:j + p]
            vecs = [b] + [b * np.roll(b, s, axis=(0, 1)) for s in _SHIFTS]
            rows.append(np.stack([_moments(v) for v in vecs]))
    return _features_from_moments(np.stack(rows))


@njit(parallel=True, cache=True)
def _patch_moments_cpu(m, p):
    """``_moments`` of the MSCN and its 4 wrapped products, for every p x p patch.

    Shape:
        m: (H, W) float64, H and W multiples of p  ->  (H // p * W // p, 5, 7) float64
    """
    nx = m.shape[1] // p
    n = (m.shape[0] // p) * nx
    out = np.zeros((n, 5, 7))
    for k in prange(n):  # each k writes only out[k]
        r0, c0 = (k // nx) * p, (k % nx) * p
        for i in range(p):
            iu = i - 1 if i > 0 else p - 1
            for j in range(p):
                jl = j - 1 if j > 0 else p - 1
                jr = j + 1 if j < p - 1 else 0
                v = m[r0 + i, c0 + j]
                for s in range(5):
                    if s == 0:
                        x = v
                    elif s == 1:
                        x = v * m[r0 + i, c0 + jl]
                    elif s == 2:
                        x = v * m[r0 + iu, c0 + j]
                    elif s == 3:
                        x = v * m[r0 + iu, c0 + jl]
                    else:
                        x = v * m[r0 + iu, c0 + jr]
                    xx = x * x
                    if x < 0:
                        out[k, s, 0] += 1.0
                        out[k, s, 1] += xx
                    elif x > 0:
                        out[k, s, 2] += 1.0
                        out[k, s, 3] += xx
                    out[k, s, 4] += abs(x)
                    out[k, s, 5] += xx
        for s in range(5):
            out[k, s, 6] = p * p
    return out


def patch_features_cpu(m: np.ndarray, p: int) -> np.ndarray:
    """Same as :func:`patch_features_ref`: one Numba pass gathers each patch's sums, then
    the grid matching runs vectorised over all patches. Sums differ from the reference's
    only in their order (~1e-15 relative).

    Shape:
        m: (H, W) float64, H and W multiples of p
        returns: (H // p * W // p, 18) float64
    """
    return _features_from_moments(_patch_moments_cpu(np.ascontiguousarray(m, np.float64), p))
