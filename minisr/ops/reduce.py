"""Sum and mean over axes. Backward broadcasts the gradient back over the reduced axes.

Read next: ``ops/shape.py``.
"""
from __future__ import annotations

import numpy as np

from minisr.autograd import Function, Tensor

__all__ = ["Sum", "Mean", "sum", "mean", "adaptive_avg_pool2d"]


def _normalize_axes(axis, ndim: int):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = tuple(sorted(a % ndim for a in axes))
    if len(set(out)) != len(out) or any(not -ndim <= a < ndim for a in axes):
        raise ValueError(f"sum: invalid axis {axis} for a tensor with {ndim} dims")
    return out


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """y = sum of x over ``axes``. Backward: dx = dy broadcast to x's shape."""

    def forward(ctx, x, axes, keepdims):
        ctx.x_shape, ctx.axes = x.shape, axes
        return ctx.backend.sum(x, axis=axes, keepdims=keepdims)

    def backward(ctx, dy):
        dy = dy.reshape(_kept_shape(ctx.x_shape, ctx.axes))
        return ctx.backend.broadcast_to(dy, ctx.x_shape), None, None


class Mean(Function):
    """y = mean of x over ``axes``. Backward: dx = dy / count, broadcast to x's shape."""

    def forward(ctx, x, axes, keepdims):
        ctx.x_shape, ctx.axes = x.shape, axes
        ctx.count = int(np.prod([x.shape[a] for a in axes]))
        return ctx.backend.mean(x, axis=axes, keepdims=keepdims)

    def backward(ctx, dy):
        be = ctx.backend
        dy = be.div(dy.reshape(_kept_shape(ctx.x_shape, ctx.axes)),
                    be.full((), ctx.count, dy.dtype))
        return be.broadcast_to(dy, ctx.x_shape), None, None


def sum(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (an int, a tuple, or None for all axes)."""
    return Sum.apply(x, _normalize_axes(axis, x.ndim), keepdims)


def mean(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (an int, a tuple, or None for all axes)."""
    return Mean.apply(x, _normalize_axes(axis, x.ndim), keepdims)


def adaptive_avg_pool2d(x: Tensor, output_size) -> Tensor:
    """Average over equal windows so the last two axes become ``output_size``, as
    ``torch.nn.functional.adaptive_avg_pool2d`` where each output size divides the input's
    (size 1: the global average pool of classifier heads). One ``mean`` over a 6-D view:

    y[n, c, i, j] = mean_{p < H/OH, q < W/OW} x[n, c, i*H/OH + p, j*W/OW + q]

    Shape:
        x: (N, C, H, W)    y: (N, C, OH, OW), OH | H and OW | W
    """
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    if x.ndim != 4 or oh < 1 or ow < 1 or x.shape[2] % oh or x.shape[3] % ow:
        raise ValueError(f"adaptive_avg_pool2d: output size {(oh, ow)} must divide the "
                         f"spatial size of (N, C, H, W) input {x.shape}")
    N, C, H, W = x.shape
    if (oh, ow) == (1, 1):
        return mean(x, axis=(2, 3), keepdims=True)
    windows = x.reshape((N, C, oh, H // oh, ow, W // ow))
    return mean(windows, axis=(3, 5))
