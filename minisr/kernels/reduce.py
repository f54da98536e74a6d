"""Reductions: sum and mean over axes, and ``sum_to_shape`` (the adjoint of broadcasting).

NumPy's ``sum`` uses pairwise summation, which is both compiled and more accurate than a
plain running sum in float32, so it serves as the CPU path as well as the reference.
``sum_to_shape`` is what every broadcasting op's backward uses to fold a gradient back
onto the shape of an operand. Read next: ``ops/reduce.py``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["sum_ref", "mean_ref", "broadcast_to_ref", "sum_to_shape_ref", "sum_cpu", "mean_cpu",
           "broadcast_to_cpu", "sum_to_shape_cpu", "sum_of_squares_ref", "sum_of_squares_cpu"]


def sum_ref(x, axis=None, keepdims: bool = False):
    """y = sum of x over `axis` (None: all axes), in x's dtype.

    Shape:
        x: any    y: x's shape without `axis` (kept as size 1 when keepdims)
    """
    return np.asarray(np.sum(x, axis=axis, keepdims=keepdims), dtype=x.dtype)


def mean_ref(x, axis=None, keepdims: bool = False):
    """y = mean of x over `axis` (None: all axes), in x's dtype."""
    return np.asarray(np.mean(x, axis=axis, keepdims=keepdims), dtype=x.dtype)


def broadcast_to_ref(x, shape):
    """A contiguous copy of x broadcast to `shape` (the adjoint of ``sum_to_shape``)."""
    return np.ascontiguousarray(np.broadcast_to(x, shape))


def sum_to_shape_ref(g, shape):
    """Sum g over the axes that broadcasting added or stretched, so the result has `shape`.

    If y = broadcast(x) then dL/dx = sum_to_shape(dL/dy, x.shape).

    Shape:
        g: (*lead, *shape')  where each dim of shape' equals shape's or shape's is 1
        returns: shape
    """
    shape = tuple(shape)
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    return np.sum(g, axis=axes, keepdims=True).reshape(shape).astype(g.dtype, copy=False)


def sum_of_squares_ref(x) -> float:
    """sum(x^2) accumulated in float64, as a Python float (the global norm of gradient
    clipping).

    Shape:
        x: any    returns: a float
    """
    return float(np.sum(np.square(x, dtype=np.float64)))


sum_cpu = sum_ref
sum_of_squares_cpu = sum_of_squares_ref
mean_cpu = mean_ref
broadcast_to_cpu = broadcast_to_ref
sum_to_shape_cpu = sum_to_shape_ref
