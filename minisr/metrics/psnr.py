"""PSNR, and the preprocessing every SR metric shares (8-bit rounding, Y channel, border crop).

The papers (SRCNN, FSRCNN, ESPCN, VDSR, EDSR) round the output to 8 bits, convert RGB to
BT.601 studio-swing Y (MATLAB ``rgb2ycbcr``), remove ``scale`` pixels per border and report
PSNR = 10 log10(255^2 / MSE) on Y; see ``../shared/REFERENCE.md``. :func:`prepare_pair`
does the first three steps and is reused by ``ssim.py`` (read next).
"""
from __future__ import annotations

import numpy as np

from minisr.image.color import rgb_to_y

__all__ = ["prepare_pair", "psnr"]


# Integer images whose dtype fixes the scale (what imread decodes): rescaled to [0, data_range].
_INT_MAX = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}
# How far a float image may stray outside [0, L], as a fraction of L. Unclipped outputs do
# overshoot: bicubic (a = -0.5) halfway between samples has taps (-1, 9, 9, -1)/16, so on a
# worst-case 2-D pattern it reaches (18/16)^2 + (2/16)^2 = 1.28 and -2 (18/16)(2/16) = -0.28
# (``quantize`` saturates such values, as MATLAB's uint8() does). A 0..255 image passed
# with L = 1 reaches 2 unless it is black, and [-1, 1] data reaches -1. Half the range
# separates the two cases.
_SLACK = 0.5


def _as_hwc(img: np.ndarray, name: str) -> np.ndarray:
    """(H, W) or (H, W, C) with C in {1, 3} -> (H, W, C), dtype unchanged."""
    img = np.asarray(img)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[-1] not in (1, 3):
        raise ValueError(f"{name}: expected (H, W), (H, W, 1) or (H, W, 3), got {img.shape}")
    if img.dtype.kind not in "fiu":
        raise ValueError(f"{name}: expected a float, uint8 or uint16 image, got {img.dtype}")
    return img


def _to_scale(img: np.ndarray, L: float, name: str, which: str) -> np.ndarray:
    """float64 on the [0, L] scale: uint8/uint16 divided by 255/65535 and times L; any other
    dtype taken as already on that scale, and refused if it is clearly not (see _SLACK)."""
    x = img.astype(np.float64)
    if img.dtype in _INT_MAX:
        top = _INT_MAX[img.dtype]
        return x if L == top else x / top * L  # divide first: uint8 u and u / 255 agree exactly
    lo, hi = float(x.min()), float(x.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"{name}: {which} contains NaN or inf")
    if lo < -_SLACK * L or hi > (1 + _SLACK) * L:
        raise ValueError(f"{name}: {which} has values in [{lo:g}, {hi:g}] but data_range is "
                         f"{L:g}; pass floats in [0, {L:g}], uint8/uint16 arrays, or the "
                         f"data_range of your values (e.g. data_range=255.0)")
    return x


def prepare_pair(a: np.ndarray, b: np.ndarray, data_range: float = 1.0, crop_border: int = 0,
                 y_channel: bool = False, quantize: bool = False,
                 name: str = "metric") -> tuple[np.ndarray, np.ndarray, float]:
    """Bring two images to the float64 arrays a metric compares, and their data range L.

    Steps, in the papers' order:

    1. Cast to float64 (float32 input is widened; the metric arithmetic is always float64).
       uint8 and uint16 images are rescaled from 0..255 or 0..65535 to [0, data_range], so
       ``psnr(img_u8, img_u8 / 255)`` is inf and a uint8 image compares with a float one.
       Other arrays must already be on [0, data_range]: one that strays outside by more
       than half the range (0..255 floats with data_range = 1, or [-1, 1] data) raises a
       ``ValueError`` instead of returning a wrong number; NaN or inf raise too.
    2. If ``quantize`` or ``y_channel``: rescale to 0..255 (x * 255 / data_range) and L = 255.
       Otherwise keep the input's own scale and L = data_range (PSNR and SSIM are invariant
       to a common rescaling of the images and L, so nothing is gained by rescaling).
    3. ``quantize``: round to the 8-bit grid, floor(x + 0.5) clipped to [0, 255], as MATLAB's
       ``uint8(255 * img)`` does to the model output (half away from zero, saturating).
    4. ``y_channel``: Y = 16 + 65.481 R + 128.553 G + 24.966 B on 0..255 (``rgb_to_y`` * 255).
       With ``quantize`` Y is rounded to the 8-bit grid as well, because MATLAB's
       ``rgb2ycbcr`` on a uint8 image returns uint8 (the papers' scripts). A 1-channel image
       is used as it is, as those scripts do (they call ``rgb2ycbcr`` only on 3 channels;
       Set14's ``bridge``): mapping it to 16 + 219 g would shift PSNR by 1.32 dB.
    5. Remove ``crop_border`` pixels on each side.

    Shape:
        a, b: (H, W) or (H, W, C), C in {1, 3}: float in [0, data_range], or uint8/uint16
        returns x, y: (H - 2 crop_border, W - 2 crop_border, C') float64, C' = 1 if y_channel
        else C;  L: float (255.0 on the 8-bit/Y scale, else data_range)
    """
    if a.shape != b.shape:
        raise ValueError(f"{name}: images differ in shape, {a.shape} vs {b.shape}")
    if data_range <= 0:
        raise ValueError(f"{name}: data_range must be > 0, got {data_range}")
    if crop_border < 0:
        raise ValueError(f"{name}: crop_border must be >= 0, got {crop_border}")
    x, y = _as_hwc(a, name), _as_hwc(b, name)
    H, W = x.shape[:2]
    if 2 * crop_border >= min(H, W):
        raise ValueError(f"{name}: crop_border {crop_border} leaves nothing of a {a.shape} image")
    L = float(data_range)
    x, y = _to_scale(x, L, name, "the first image"), _to_scale(y, L, name, "the second image")
    c = crop_border
    x, y = x[c:H - c, c:W - c], y[c:H - c, c:W - c]  # pixelwise steps commute with cropping
    if quantize or y_channel:
        x, y = x * (255.0 / L), y * (255.0 / L)
        L = 255.0
    if quantize:
        x, y = np.clip(np.floor(x + 0.5), 0.0, 255.0), np.clip(np.floor(y + 0.5), 0.0, 255.0)
    if y_channel and x.shape[-1] == 3:
        # rgb_to_y takes [0, 1] and returns [16, 235]/255; go back to the 0..255 scale.
        x = (rgb_to_y(x / 255.0) * 255.0)[:, :, None]
        y = (rgb_to_y(y / 255.0) * 255.0)[:, :, None]
        if quantize:
            x, y = np.floor(x + 0.5), np.floor(y + 0.5)
    return x, y, L


def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 1.0, crop_border: int = 0,
         y_channel: bool = False, quantize: bool = False) -> float:
    """Peak signal-to-noise ratio in dB, float64 throughout.

    PSNR = 10 log10(L^2 / MSE),  MSE = mean over all pixels and channels of (x - y)^2

    ``inf`` when the prepared images are identical. ``data_range`` is the range of the
    *input* (1.0 for [0, 1] images, 255.0 for [0, 255]). With ``y_channel`` or ``quantize``
    the images are measured on the 0..255 scale with L = 255 (see :func:`prepare_pair`),
    which is the papers' protocol: ``psnr(sr, hr, crop_border=scale, y_channel=True,
    quantize=True)`` for [0, 1] RGB images.

    Shape:
        a, b: (H, W), (H, W, 1) or (H, W, 3), same shape: float in [0, data_range], or
        uint8/uint16 (rescaled to [0, data_range]; see :func:`prepare_pair`, which also
        says which out-of-range floats raise)

    Parameters
    ----------
    a, b : the two images (order does not matter).
    data_range : float, the value range of float inputs (1.0 for [0, 1], 255.0 for
        0..255); uint8/uint16 inputs are rescaled onto it.
    crop_border : int, pixels removed from each side before measuring.
    y_channel : bool, measure on BT.601 studio-swing Y instead of every channel.
    quantize : bool, round both images to the 8-bit grid first.

    Returns
    -------
    float, PSNR in dB (``inf`` for identical images).

    References
    ----------
    Dong et al., "Image Super-Resolution Using Deep Convolutional Networks", TPAMI 2016.
    """
    x, y, L = prepare_pair(a, b, data_range, crop_border, y_channel, quantize, name="psnr")
    mse = float(np.mean((x - y) ** 2))
    if mse == 0.0:
        return float("inf")
    return float(10.0 * np.log10(L * L / mse))
