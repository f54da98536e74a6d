"""MATLAB-compatible ``imresize`` (bicubic, bilinear, nearest) and ``modcrop``.

SR papers make their low-resolution inputs with MATLAB's ``imresize(hr, 1/s, 'bicubic')``:
cubic kernel a = -0.5, antialiasing when downscaling, symmetric borders, output size
``ceil(scale * size)``, and the axis with the smaller scale resized first. Any other bicubic
(PIL, OpenCV, PyTorch) gives LR images the published models never saw and PSNRs that do not
match the tables (``../shared/REFERENCE.md``). The per-axis math and loops live in
``kernels/resize.py``; read that next.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from minisr.kernels.resize import KERNELS, resize_axis_cpu, resize_axis_ref, resize_weights

__all__ = ["MAX_WEIGHTS", "output_size", "resize", "modcrop", "imresize_to_lr"]

_IMPLS = {"cpu": resize_axis_cpu, "ref": resize_axis_ref}


# The weight table of one axis has (output length) x (kernel taps) entries. Antialiased
# downscaling widens the kernel to width / scale taps, so a tiny scale (1e-9) would ask for
# billions: refused, like an output above the CLI's pixel limit.
MAX_WEIGHTS = 50_000_000


def _pair(value: float | Sequence[float], name: str) -> tuple[float, float]:
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"resize: {name} must be a number or a pair, got {value!r}")
    return float(pair[0]), float(pair[1])


def output_size(in_size: tuple[int, int], scale: float | Sequence[float] | None = None,
                size: Sequence[int] | None = None) -> tuple[tuple[int, int], tuple[float, float]]:
    """Resolve ``(H_out, W_out)`` and the per-axis scale exactly as ``imresize`` does.

    Given ``scale``: H_out = ceil(sh * H), W_out = ceil(sw * W), and the weights use the
    given scale (1/3, not 4/10, for a 10-pixel axis). Given ``size``: scale = out / in.
    Exactly one of ``scale`` and ``size`` must be given.
    """
    if (scale is None) == (size is None):
        raise ValueError("resize: give exactly one of scale and size")
    H, W = in_size
    if scale is not None:
        sh, sw = _pair(scale, "scale")
        if not (sh > 0 and sw > 0 and math.isfinite(sh) and math.isfinite(sw)):
            raise ValueError(f"resize: scale must be positive and finite, got {scale!r}")
        return (math.ceil(sh * H), math.ceil(sw * W)), (sh, sw)
    if len(size) != 2 or any(int(n) != n or n < 1 for n in size):
        raise ValueError(f"resize: size must be two positive integers, got {size!r}")
    Ho, Wo = int(size[0]), int(size[1])
    return (Ho, Wo), (Ho / H, Wo / W)


def resize(img: np.ndarray, scale: float | Sequence[float] | None = None,
           size: Sequence[int] | None = None, method: str = "bicubic",
           antialias: bool | None = None, impl: str = "cpu") -> np.ndarray:
    """Resize an image like MATLAB's ``imresize(img, scale)`` or ``imresize(img, [H W])``.

    Separable: each axis is resampled with ``kernels.resize`` weights, the axis with the
    smaller scale first (height first on a tie: MATLAB sorts the scales stably). The two
    passes commute in exact arithmetic; following MATLAB's order keeps the rounding (and the
    cost: the smaller intermediate first) the same.

    No clipping: bicubic overshoots slightly near edges (MATLAB clips only because it
    returns uint8 for uint8 input). Clip with ``np.clip(y, 0, 1)`` or round with
    ``image.io.quantize`` when you need an 8-bit-valid image.

    Shape:
        img: (H, W) or (H, W, C) float32/float64, any range
        returns: (H_out, W_out) or (H_out, W_out, C), same dtype;
                 H_out = ceil(sh * H), W_out = ceil(sw * W) (or ``size``)

    Parameters
    ----------
    scale : float or (sh, sw)
        Scale factor(s); 0.5 halves, 2 doubles. Mutually exclusive with ``size``.
    size : (H_out, W_out)
        Output size; the scale per axis is then H_out / H and W_out / W.
    method : {'bicubic', 'bilinear', 'nearest'}
        Cubic (a = -0.5, width 4), triangle (width 2) or box (width 1) kernel.
    antialias : bool, optional
        Widen the kernel by 1/scale when downscaling. None means MATLAB's default:
        True, except for 'nearest'.
    impl : {'cpu', 'ref'}
        Numba loops (default) or the readable reference; they agree to rounding.
    """
    if not isinstance(img, np.ndarray) or img.dtype not in (np.float32, np.float64):
        kind = img.dtype if isinstance(img, np.ndarray) else type(img).__name__
        raise ValueError(f"resize: expected a float32/float64 array, got {kind}")
    if img.ndim not in (2, 3) or img.shape[0] < 1 or img.shape[1] < 1:
        raise ValueError(f"resize: expected (H, W) or (H, W, C), got shape {img.shape}")
    if method not in KERNELS:
        raise ValueError(f"resize: method must be one of {sorted(KERNELS)}, got {method!r}")
    if impl not in _IMPLS:
        raise ValueError(f"resize: impl must be 'cpu' or 'ref', got {impl!r}")
    kernel, width = KERNELS[method]
    if antialias is None:
        antialias = method != "nearest"
    out_hw, scales = output_size(img.shape[:2], scale, size)
    for axis in (0, 1):  # refuse a runaway weight table before building it
        s = scales[axis]
        taps = math.ceil(width / s if s < 1.0 and antialias else width) + 2
        if out_hw[axis] * taps > MAX_WEIGHTS:
            raise ValueError(f"resize: scale {s:g} needs a {out_hw[axis]:,} x {taps:,} weight "
                             f"table, above the limit of {MAX_WEIGHTS:,} entries; resize in "
                             f"steps, or without antialiasing")
    order = (0, 1) if scales[0] <= scales[1] else (1, 0)
    y = img
    for axis in order:
        weights, indices = resize_weights(img.shape[axis], out_hw[axis], scales[axis],
                                          kernel, width, antialias)
        y = _IMPLS[impl](y, weights, indices, axis)
    return y


def modcrop(img: np.ndarray, scale: int) -> np.ndarray:
    """Crop H and W down to multiples of ``scale``, keeping the top-left corner.

    Step 1 of the evaluation protocol, so that HR -> LR -> x scale returns to HR's size.
    Returns a view.

    Shape:
        img: (H, W) or (H, W, C)  ->  (H - H % scale, W - W % scale[, C])
    """
    if int(scale) != scale or scale < 1:
        raise ValueError(f"modcrop: scale must be a positive integer, got {scale!r}")
    scale = int(scale)
    H, W = img.shape[:2]
    return img[:H - H % scale, :W - W % scale]


def imresize_to_lr(hr: np.ndarray, scale: int) -> np.ndarray:
    """The papers' LR: ``resize(modcrop(hr, scale), 1 / scale)``, bicubic, antialiased.

    Not clipped or quantized; the protocol stores LR as 8-bit (``image.io.quantize``).

    Shape:
        hr: (H, W[, C]) float  ->  (H // scale, W // scale[, C]), same dtype
    """
    return resize(modcrop(hr, scale), 1.0 / scale)
