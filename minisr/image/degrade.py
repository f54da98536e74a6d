"""Synthetic degradations: HR -> LR by blur, MATLAB bicubic downscale, noise and JPEG.

``degrade(hr, scale)`` with the defaults is exactly the papers' bicubic LR (clipped to
[0, 1]); the options add the classical degradation model y = JPEG((k * x) downarrow_s + n)
used to train models that survive real inputs (e.g. Real-ESRGAN's first-order pipeline).
The blur reuses the resize kernel: a convolution is a resample with scale 1 and a Gaussian
kernel. Read ``image/resize.py`` first.
"""
from __future__ import annotations

import io
import math

import imageio.v3 as iio
import numpy as np

from minisr.image.io import to_uint8
from minisr.image.resize import resize
from minisr.kernels.resize import resize_axis_cpu, symmetric_index

__all__ = ["gaussian_blur", "jpeg_roundtrip", "degrade"]


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable isotropic Gaussian blur with symmetric (edge-repeating) borders.

    g[k] = exp(-k^2 / (2 sigma^2)) / sum_k exp(...),  k = -r..r,  r = ceil(3 sigma)

    Shape:
        img: (H, W) or (H, W, C) float  ->  same shape and dtype
    """
    if sigma <= 0:
        return img.copy()
    r = int(math.ceil(3.0 * sigma))
    k = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-k * k / (2.0 * sigma * sigma))
    g /= g.sum()
    y = img
    for axis in (0, 1):
        n = img.shape[axis]
        weights = np.broadcast_to(g, (n, g.size))
        indices = np.array([[symmetric_index(i + j, n) for j in range(-r, r + 1)]
                            for i in range(n)], dtype=np.int64)
        y = resize_axis_cpu(y, weights, indices, axis)
    return y


def jpeg_roundtrip(img: np.ndarray, quality: int) -> np.ndarray:
    """Encode to JPEG at ``quality`` (1..100) in memory and decode, as a float image.

    Shape:
        img: (H, W, 1) or (H, W, 3) float in [0, 1]  ->  same shape and dtype, 8-bit grid
    """
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"jpeg_roundtrip: quality must be in 1..100, got {quality!r}")
    data = to_uint8(img)
    data = data[:, :, 0] if data.shape[2] == 1 else data
    buf = io.BytesIO(iio.imwrite("<bytes>", data, extension=".jpg", quality=int(quality)))
    out = iio.imread(buf, extension=".jpg").reshape(img.shape)
    return (out.astype(img.dtype) / img.dtype.type(255)).astype(img.dtype)


def degrade(hr: np.ndarray, scale: int, blur_sigma: float = 0.0, noise_sigma: float = 0.0,
            jpeg_quality: int | None = None, seed: int = 0) -> np.ndarray:
    """LR = clip(JPEG(clip(resize(blur(hr), 1 / scale) + noise)), 0, 1).

    Steps, each skipped at its default: Gaussian blur (std ``blur_sigma`` HR pixels);
    MATLAB bicubic downscale by ``scale`` with antialiasing (always); additive white
    Gaussian noise of std ``noise_sigma`` in [0, 1] units (5/255 is "noise level 5");
    a JPEG round trip at ``jpeg_quality``. The result is clipped to [0, 1] but not
    quantized unless JPEG is used (``image.io.quantize`` for the 8-bit protocol).
    Deterministic: the noise comes from ``np.random.default_rng(seed)``.

    Shape:
        hr: (H, W, C) float32/float64 in [0, 1], C = 1 or 3
        returns: (ceil(H / scale), ceil(W / scale), C), same dtype
    """
    if hr.ndim != 3 or hr.shape[2] not in (1, 3):
        raise ValueError(f"degrade: expected (H, W, 1) or (H, W, 3), got shape {hr.shape}")
    if not scale > 0:
        raise ValueError(f"degrade: scale must be positive, got {scale!r}")
    if blur_sigma < 0 or noise_sigma < 0:
        raise ValueError(f"degrade: sigmas must be >= 0, got {blur_sigma}, {noise_sigma}")
    x = gaussian_blur(hr, blur_sigma) if blur_sigma > 0 else hr
    lr = resize(x, 1.0 / scale)
    if noise_sigma > 0:
        rng = np.random.default_rng(seed)
        lr = lr + (noise_sigma * rng.standard_normal(lr.shape)).astype(lr.dtype)
    lr = np.clip(lr, 0.0, 1.0)
    if jpeg_quality is not None:
        lr = jpeg_roundtrip(lr, jpeg_quality)
    return lr
