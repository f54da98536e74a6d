"""Sum and mean over axes. Backward broadcasts the gradient back over the reduced axes.

Read next: ``ops/shape.py``.
"""
from __future__ import annotations

import numpy as np

from minisr.autograd import Function, Tensor

__all__ = ["Sum", "Mean", "sum", "mean"]


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
