"""Autograd for MATLAB-exact bicubic upsampling of NCHW tensors (residual over bicubic).

A resize is linear: per axis y = A x with A a sparse (L_out x L_in) table
(``kernels.resize.resize_weights``), so its backward is dx = A^T dy, applied by the same
primitive with the transposed table (``adjoint_weights``), the last axis first. Models that
learn a residual over bicubic (``residual=True``) add ``upsample_bicubic(x, scale)`` to their
output: exactly the bicubic the evaluation protocol uses, so the network learns what
bicubic misses. Read next: ``models/espcn.py``.
"""
from __future__ import annotations

from functools import lru_cache

from minisr.autograd import Function, Tensor
from minisr.kernels.resize import KERNELS, adjoint_weights, resize_weights

__all__ = ["Resize", "upsample_bicubic"]


class Resize(Function):
    """y = A_W (A_H x) along axes 2 then 3 (MATLAB's order for equal scales).
    Backward: dx = A_H^T (A_W^T dy)."""

    def forward(ctx, x, tables):
        ctx.tables = tables
        for axis, (w, idx, _, _) in tables:
            x = ctx.backend.resize_axis(x, w, idx, axis)
        return x

    def backward(ctx, dy):
        for axis, (_, _, wT, iT) in reversed(ctx.tables):
            dy = ctx.backend.resize_axis(dy, wT, iT, axis)
        return dy, None  # the tables are not tensors


@lru_cache(maxsize=64)
def _bicubic_table(in_len: int, scale: int):
    """(weights, indices, adjoint weights, adjoint indices) for an integer upscale."""
    w, idx = resize_weights(in_len, in_len * scale, float(scale), *KERNELS["bicubic"],
                            antialias=True)
    return (w, idx) + adjoint_weights(w, idx, in_len)


def upsample_bicubic(x: Tensor, scale: int) -> Tensor:
    """Bicubic x ``scale`` of every (H, W) plane, equal to ``image.resize(plane, scale)``.

    Unlike PyTorch's ``F.interpolate(mode='bicubic')`` (a = -0.75, clamped borders) this is
    MATLAB's ``imresize``: a = -0.5 and mirrored borders, as in the papers' protocol.

    Shape:
        x: (N, C, H, W)    y: (N, C, H * scale, W * scale)
    """
    if not isinstance(scale, int) or scale < 1:
        raise ValueError(f"upsample_bicubic: scale must be a positive int, got {scale!r}")
    if x.ndim != 4:
        raise ValueError(f"upsample_bicubic: need (N, C, H, W), got {x.shape}")
    tables = tuple((axis, _bicubic_table(x.shape[axis], scale)) for axis in (2, 3))
    return Resize.apply(x, tables)
