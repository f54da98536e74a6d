"""RGB <-> YCbCr with ITU-R BT.601 studio-swing coefficients, as MATLAB's ``rgb2ycbcr``.

SR papers measure PSNR/SSIM on the Y channel computed exactly this way. OpenCV's YCrCb
(full-range JPEG coefficients) gives different numbers; see ``../shared/REFERENCE.md``.
Read next: ``metrics/psnr.py``, which uses ``rgb_to_y``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Y_WEIGHTS", "rgb_to_ycbcr", "ycbcr_to_rgb", "rgb_to_y"]

# Rows give Y, Cb, Cr on the 0..255 scale for R, G, B in [0, 1] (MATLAB rgb2ycbcr).
_RGB_TO_YCBCR = np.array([[65.481, 128.553, 24.966],
                          [-37.797, -74.203, 112.0],
                          [112.0, -93.786, -18.214]])
_OFFSET = np.array([16.0, 128.0, 128.0])
_YCBCR_TO_RGB = np.linalg.inv(_RGB_TO_YCBCR)
# dY / d(R, G, B) for RGB and Y both in [0, 1]: what a difference in RGB does to Y.
Y_WEIGHTS = tuple(float(v) for v in _RGB_TO_YCBCR[0] / 255.0)


def _float_dtype(img: np.ndarray) -> np.dtype:
    return img.dtype if img.dtype in (np.float32, np.float64) else np.dtype(np.float64)


def rgb_to_ycbcr(img: np.ndarray) -> np.ndarray:
    """RGB in [0, 1] -> YCbCr in [0, 1] (Y in [16, 235]/255, Cb/Cr in [16, 240]/255).

    Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255, likewise Cb and Cr (BT.601).

    Shape:
        img: (..., 3) float RGB in [0, 1]  ->  (..., 3) YCbCr, same float dtype
    """
    if img.shape[-1] != 3:
        raise ValueError(f"rgb_to_ycbcr: expected (..., 3) RGB, got shape {img.shape}")
    dt = _float_dtype(img)
    out = (img.astype(np.float64) @ _RGB_TO_YCBCR.T + _OFFSET) / 255.0
    return out.astype(dt)


def ycbcr_to_rgb(img: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_ycbcr` (MATLAB ``ycbcr2rgb``); the result is not clipped.

    Shape:
        img: (..., 3) float YCbCr in [0, 1]  ->  (..., 3) RGB, same float dtype
    """
    if img.shape[-1] != 3:
        raise ValueError(f"ycbcr_to_rgb: expected (..., 3) YCbCr, got shape {img.shape}")
    dt = _float_dtype(img)
    out = (img.astype(np.float64) * 255.0 - _OFFSET) @ _YCBCR_TO_RGB.T
    return out.astype(dt)


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    """Luma Y in [16, 235]/255 of an RGB or gray image in [0, 1].

    A gray channel g counts as R = G = B = g, so Y = (16 + 219 g) / 255: the coefficients
    sum to 219. (The papers' evaluation scripts instead use a 1-channel image directly as
    Y; ``metrics.prepare_pair`` follows them, not this mapping.)

    Shape:
        img: (H, W, 3) or (H, W, 1) or (H, W) float in [0, 1]  ->  (H, W), same float dtype
    """
    dt = _float_dtype(img)
    x = img.astype(np.float64)
    if x.ndim == 3 and x.shape[-1] == 3:
        y = (16.0 + x @ _RGB_TO_YCBCR[0]) / 255.0
    elif x.ndim == 2 or (x.ndim == 3 and x.shape[-1] == 1):
        g = x.reshape(x.shape[:2])
        y = (16.0 + 219.0 * g) / 255.0
    else:
        raise ValueError(f"rgb_to_y: expected (H, W), (H, W, 1) or (H, W, 3), got {img.shape}")
    return y.astype(dt)
