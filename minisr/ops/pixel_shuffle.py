"""Autograd for the sub-pixel shuffle of ESPCN (Shi et al., CVPR 2016).

pixel_shuffle is a permutation of elements, so its backward is its inverse,
pixel_unshuffle, and vice versa. Read next: ``nn/layers.py`` (``PixelShuffle``).
"""
from __future__ import annotations

from minisr.autograd import Function, Tensor

__all__ = ["PixelShuffle", "PixelUnshuffle", "pixel_shuffle", "pixel_unshuffle"]


class PixelShuffle(Function):
    """y = pixel_shuffle(x, r). Backward: dx = pixel_unshuffle(dy, r) (a permutation)."""

    def forward(ctx, x, r):
        ctx.r = r
        return ctx.backend.pixel_shuffle(x, r)

    def backward(ctx, dy):
        return ctx.backend.pixel_unshuffle(dy, ctx.r), None  # r is not a tensor


class PixelUnshuffle(Function):
    """y = pixel_unshuffle(x, r). Backward: dx = pixel_shuffle(dy, r)."""

    def forward(ctx, x, r):
        ctx.r = r
        return ctx.backend.pixel_unshuffle(x, r)

    def backward(ctx, dy):
        return ctx.backend.pixel_shuffle(dy, ctx.r), None


def _check_r(op: str, r) -> None:
    if not isinstance(r, int) or r < 1:
        raise ValueError(f"{op}: upscale factor must be a positive int, got {r!r}")


def pixel_shuffle(x: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange channels into space, PyTorch's order (ONNX DepthToSpace 'CRD').

    y[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j, h, w]

    Shape:
        x: (N, C * r * r, H, W)    y: (N, C, H * r, W * r)
    """
    r = upscale_factor
    _check_r("pixel_shuffle", r)
    if x.ndim != 4 or x.shape[1] % (r * r):
        raise ValueError(f"pixel_shuffle: need (N, C*{r*r}, H, W), got {x.shape}")
    return PixelShuffle.apply(x, r)


def pixel_unshuffle(x: Tensor, downscale_factor: int) -> Tensor:
    """The inverse of :func:`pixel_shuffle`.

    Shape:
        x: (N, C, H * r, W * r)    y: (N, C * r * r, H, W)
    """
    r = downscale_factor
    _check_r("pixel_unshuffle", r)
    if x.ndim != 4 or x.shape[2] % r or x.shape[3] % r:
        raise ValueError(f"pixel_unshuffle: need (N, C, H*{r}, W*{r}), got {x.shape}")
    return PixelUnshuffle.apply(x, r)
