"""Shape ops: reshape, channel concat, pad, indexing, transpose of the last two axes.

Each backward is the forward's adjoint: reshape back, split, crop (or fold the reflected
borders), scatter into zeros, transpose back. Read next: ``ops/conv.py``.
"""
from __future__ import annotations

import numpy as np

from minisr.autograd import Function, Tensor

__all__ = ["Reshape", "Concat", "Pad", "GetItem", "TransposeLast", "reshape", "concat", "pad",
           "getitem", "transpose_last"]


class Reshape(Function):
    """y = x viewed with a new shape. Backward: dx = dy reshaped to x's shape."""

    def forward(ctx, x, shape):
        ctx.x_shape = x.shape
        return x.reshape(shape)

    def backward(ctx, dy):
        return dy.reshape(ctx.x_shape), None


class Concat(Function):
    """y = concatenation of the inputs along ``axis``. Backward: dy split into pieces."""

    def forward(ctx, *xs, axis=1):
        ctx.sizes, ctx.axis = [x.shape[axis] for x in xs], axis
        return ctx.backend.concat(list(xs), axis=axis)

    def backward(ctx, dy):
        return tuple(ctx.backend.split(dy, ctx.sizes, axis=ctx.axis))


class Pad(Function):
    """y = x padded on its last two axes. Backward: the adjoint (crop, or fold mirrors)."""

    def forward(ctx, x, padding, mode):
        ctx.padding, ctx.mode = padding, mode
        return ctx.backend.pad_forward(x, padding, mode)

    def backward(ctx, dy):
        return ctx.backend.pad_backward(dy, ctx.padding, ctx.mode), None, None


class GetItem(Function):
    """y = x[index]. Backward: dy scattered into zeros of x's shape."""

    def forward(ctx, x, index):
        ctx.x_shape, ctx.index = x.shape, index
        return ctx.backend.getitem(x, index)

    def backward(ctx, dy):
        return ctx.backend.getitem_backward(dy, ctx.x_shape, ctx.index), None


class TransposeLast(Function):
    """y = x with its last two axes swapped. Backward: swap them back."""

    def forward(ctx, x):
        return ctx.backend.transpose_last(x)

    def backward(ctx, dy):
        return ctx.backend.transpose_last(dy)


def reshape(x: Tensor, *shape) -> Tensor:
    """x with a new shape of the same size (one entry may be -1)."""
    shape = tuple(shape[0]) if len(shape) == 1 and not isinstance(shape[0], int) else shape
    try:
        np.empty(x.shape, dtype=np.uint8).reshape(shape)  # validates, costs nothing
    except ValueError:
        raise ValueError(f"reshape: cannot reshape {x.shape} into {shape}") from None
    return Reshape.apply(x, shape)


def concat(xs, axis: int = 1) -> Tensor:
    """Concatenate tensors along ``axis`` (channels by default, as in skip connections)."""
    xs = list(xs)
    ref = xs[0].shape
    for x in xs[1:]:
        if x.ndim != len(ref) or any(a != b for i, (a, b) in enumerate(zip(x.shape, ref))
                                     if i != axis % len(ref)):
            raise ValueError(f"concat: shapes {[t.shape for t in xs]} differ off axis {axis}")
    return Concat.apply(*xs, axis=axis)


def pad(x: Tensor, padding, mode: str = "zeros") -> Tensor:
    """Pad the last two axes by an int or ``(top, bottom, left, right)``; mode 'zeros' or
    'reflect' (which needs each pad smaller than the padded side)."""
    padding = (padding,) * 4 if isinstance(padding, int) else tuple(int(p) for p in padding)
    if len(padding) != 4 or min(padding) < 0 or mode not in ("zeros", "reflect"):
        raise ValueError(f"pad: need 4 non-negative pads and mode 'zeros'|'reflect', got "
                         f"{padding}, {mode!r}")
    H, W = x.shape[-2:]
    if mode == "reflect" and (max(padding[:2]) >= H or max(padding[2:]) >= W):
        raise ValueError(f"pad: reflect padding {padding} needs pads < the size {(H, W)}")
    return Pad.apply(x, padding, mode)


def getitem(x: Tensor, index) -> Tensor:
    """x[index] (basic or advanced NumPy indexing), differentiable."""
    return GetItem.apply(x, index)


def transpose_last(x: Tensor) -> Tensor:
    """x with its last two axes swapped (``x.mT`` in PyTorch)."""
    if x.ndim < 2:
        raise ValueError(f"transpose_last: need at least 2 dims, got shape {x.shape}")
    return TransposeLast.apply(x)
