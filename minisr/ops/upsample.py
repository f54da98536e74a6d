"""Autograd for bilinear resizing of feature maps, as ``torch.nn.functional.interpolate(x,
size or scale_factor, mode="bilinear", align_corners=False)``.

Resizing is linear, so its backward is its adjoint (``kernels/upsample.py``: the four
weights of each output, scattered back). RLFN's spatial attention resizes a pooled map
back to its input's exact size. This is torch's half-pixel bilinear, for feature maps;
the MATLAB-exact bicubic of the evaluation protocol is ``ops/resize.py``.
Read next: ``nn/layers.py`` (``Upsample``).
"""
from __future__ import annotations

import math
import numbers

from minisr.autograd import Function, Tensor

__all__ = ["UpsampleBilinear2d", "interpolate"]


class UpsampleBilinear2d(Function):
    """y = bilinear resize of x to ``size``. Backward: dx = its adjoint applied to dy."""

    def forward(ctx, x, size, scales):
        ctx.in_size, ctx.scales = x.shape[2:], scales
        return ctx.backend.upsample_bilinear2d_forward(x, size, scales)

    def backward(ctx, dy):
        dx = ctx.backend.upsample_bilinear2d_backward(dy, ctx.in_size, ctx.scales)
        return dx, None, None  # size and scales are not tensors


def _pair(v, name: str, kind: type) -> tuple:
    """v or (v, v) as a pair of positive, finite ``kind`` values (int or float; an int
    also counts as a float)."""
    number = numbers.Real if kind is float else numbers.Integral
    pair = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(pair) != 2 or any(isinstance(e, bool) or not isinstance(e, number)
                             or not math.isfinite(e) or e <= 0 for e in pair):
        raise ValueError(f"interpolate: {name} must be a positive {kind.__name__} or a pair "
                         f"of them, got {v!r}")
    return tuple(kind(e) for e in pair)


def interpolate(x: Tensor, size=None, scale_factor=None, mode: str = "bilinear",
                align_corners: bool | None = False) -> Tensor:
    """Resize every (H, W) plane bilinearly, as ``torch.nn.functional.interpolate`` with
    ``mode="bilinear", align_corners=False`` (the only mode here, hence the default; torch's
    is 'nearest'). No antialiasing: downscaling samples, it does not average.

    src = max(ratio * (i + 0.5) - 0.5, 0),  ratio = 1 / scale_factor, or H / OH given size
    y[n, c, i, j] = bilinear mix of the 2 x 2 pixels around (src_i, src_j)

    Given ``scale_factor``, the output is floor(H * scale_factor) and the sampling ratio is
    1 / scale_factor (torch's rule), not H / OH; an axis whose size does not change is
    copied. Formulas: ``kernels.upsample.linear_taps``.

    Shape:
        x: (N, C, H, W)    y: (N, C, OH, OW), (OH, OW) = size or floor((H, W) * scale_factor)

    Parameters
    ----------
    x : the input, float32 or float64.
    size : int or (OH, OW), the output size; or
    scale_factor : float or (sh, sw), the ratio of output to input size (exactly one of the
        two).
    mode : 'bilinear' only.
    align_corners : False (or None, torch's default, which means False for bilinear).
    """
    if mode != "bilinear":
        raise ValueError(f"interpolate: only mode='bilinear' is implemented, got {mode!r}")
    if align_corners not in (False, None):
        raise ValueError(f"interpolate: only align_corners=False is implemented, got "
                         f"{align_corners!r}")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"interpolate: give exactly one of size and scale_factor, got "
                         f"size={size!r}, scale_factor={scale_factor!r}")
    if x.ndim != 4:
        raise ValueError(f"interpolate: need x (N, C, H, W), got {x.shape}")
    if size is not None:
        out, scales = _pair(size, "size", int), (None, None)
    else:
        scales = _pair(scale_factor, "scale_factor", float)
        out = tuple(math.floor(x.shape[2 + a] * scales[a]) for a in range(2))
        if min(out) < 1:
            raise ValueError(f"interpolate: scale_factor {scale_factor!r} makes the output "
                             f"{out} of input {x.shape} empty")
    return UpsampleBilinear2d.apply(x, out, scales)
