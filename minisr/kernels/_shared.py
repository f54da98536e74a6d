"""Scalar ``@njit`` helpers called by CPU loops and, later, by CUDA kernels.

One definition of each piece of scalar math (the cubic interpolation weight, the SSIM
term, ...) keeps the CPU and GPU paths from drifting apart.
"""
from __future__ import annotations

from numba import njit  # noqa: F401  (used by the helpers below)


@njit(cache=True)
def ssim_term(mu_x: float, mu_y: float, var_x: float, var_y: float, cov_xy: float,
              c1: float, c2: float) -> float:
    """SSIM at one pixel from its five local moments (Wang et al. 2004, eq. 13).

    ssim = (2 mu_x mu_y + C1)(2 cov_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(var_x + var_y + C2))

    With x == y the numerator and denominator are bit-identical (doubling is exact), so
    SSIM(x, x) is exactly 1; swapping x and y gives bit-identical results too.
    """
    num = (2.0 * mu_x * mu_y + c1) * (2.0 * cov_xy + c2)
    den = (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
    return num / den


@njit(cache=True)
def cubic_weight(x: float, a: float = -0.5) -> float:
    """Keys' cubic convolution kernel at offset x; a = -0.5 is MATLAB's ``imresize`` cubic.

    w(x) = (a+2)|x|^3 - (a+3)|x|^2 + 1          for |x| <= 1
           a|x|^3 - 5a|x|^2 + 8a|x| - 4a          for 1 < |x| <= 2
           0                                      otherwise

    With a = -0.5 this is MATLAB's 1.5|x|^3 - 2.5|x|^2 + 1 and -0.5|x|^3 + 2.5|x|^2 - 4|x| + 2.
    OpenCV and PyTorch use a = -0.75.

    References:
        R. Keys, "Cubic Convolution Interpolation for Digital Image Processing",
        IEEE Trans. ASSP 29(6), 1981.
    """
    ax = abs(x)
    ax2 = ax * ax
    ax3 = ax2 * ax
    if ax <= 1.0:
        return (a + 2.0) * ax3 - (a + 3.0) * ax2 + 1.0
    if ax <= 2.0:
        return a * ax3 - 5.0 * a * ax2 + 8.0 * a * ax - 4.0 * a
    return 0.0
