"""Elementwise arithmetic with broadcasting, and the Tensor operators built on it.

Each Function's backward folds a broadcast gradient back onto its operand with
``sum_to_shape`` (the adjoint of broadcasting). Python scalars become constant 0-d arrays
of the tensor's dtype, made by its backend's ``full`` (so on its device), so ``x * 0.5``
stays float32. Read next: ``ops/reduce.py``.
"""
from __future__ import annotations

import numpy as np

from minisr.autograd import Function, Tensor
from minisr.backend import backend_for

__all__ = ["Add", "Sub", "Mul", "Div", "Neg", "Pow", "Abs", "Sqrt", "add", "sub",
           "mul", "div", "neg", "pow", "abs", "sqrt"]


def _as_tensor(value, like: Tensor) -> Tensor:
    """``value`` as a Tensor: itself if it is one, else a constant of ``like``'s dtype."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray) and value.ndim:
        return Tensor(np.asarray(value, dtype=like.dtype))
    return Tensor(backend_for(like.data).full((), float(value), like.dtype))


def _operands(a, b) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors; a Python scalar takes the other operand's dtype."""
    if isinstance(a, Tensor):
        return a, _as_tensor(b, a)
    return _as_tensor(a, b), b


class Add(Function):
    """y = a + b. Backward: da = dy, db = dy (each summed to its operand's shape)."""

    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return ctx.backend.add(a, b)

    def backward(ctx, dy):
        sa, sb = ctx.shapes
        return ctx.backend.sum_to_shape(dy, sa), ctx.backend.sum_to_shape(dy, sb)


class Sub(Function):
    """y = a - b. Backward: da = dy, db = -dy."""

    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return ctx.backend.sub(a, b)

    def backward(ctx, dy):
        sa, sb = ctx.shapes
        be = ctx.backend
        db = be.sum_to_shape(be.neg(dy), sb) if ctx.needs_input_grad[1] else None
        return be.sum_to_shape(dy, sa), db


class Mul(Function):
    """y = a * b. Backward: da = dy * b, db = dy * a."""

    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.backend.mul(a, b)

    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        be = ctx.backend
        da = be.sum_to_shape(be.mul(dy, b), a.shape) if ctx.needs_input_grad[0] else None
        db = be.sum_to_shape(be.mul(dy, a), b.shape) if ctx.needs_input_grad[1] else None
        return da, db


class Div(Function):
    """y = a / b. Backward: da = dy / b, db = -dy * y / b."""

    def forward(ctx, a, b):
        y = ctx.backend.div(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    def backward(ctx, dy):
        a, b, y = ctx.saved_tensors
        be = ctx.backend
        da = be.sum_to_shape(be.div(dy, b), a.shape) if ctx.needs_input_grad[0] else None
        db = None
        if ctx.needs_input_grad[1]:
            db = be.sum_to_shape(be.neg(be.div(be.mul(dy, y), b)), b.shape)
        return da, db


class Neg(Function):
    """y = -x. Backward: dx = -dy."""

    def forward(ctx, x):
        return ctx.backend.neg(x)

    def backward(ctx, dy):
        return ctx.backend.neg(dy)


class Pow(Function):
    """y = x ** p for a constant p. Backward: dx = dy * p * x ** (p - 1)."""

    def forward(ctx, x, p):
        ctx.save_for_backward(x)
        ctx.p = p
        return ctx.backend.pow(x, p)

    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        be = ctx.backend
        slope = be.mul(be.pow(x, ctx.p - 1), be.full((), ctx.p, x.dtype))
        return be.mul(dy, slope), None


class Abs(Function):
    """y = |x|. Backward: dx = dy * sign(x) (0 at x = 0)."""

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.backend.abs(x)

    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return ctx.backend.mul(dy, ctx.backend.sign(x))


class Sqrt(Function):
    """y = sqrt(x). Backward: dx = dy / (2 y)."""

    def forward(ctx, x):
        y = ctx.backend.sqrt(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        be = ctx.backend
        return be.div(dy, be.add(y, y))


def add(a, b) -> Tensor:
    """a + b with broadcasting; either may be a Python scalar."""
    return Add.apply(*_operands(a, b))


def sub(a, b) -> Tensor:
    """a - b with broadcasting; either may be a Python scalar."""
    return Sub.apply(*_operands(a, b))


def mul(a, b) -> Tensor:
    """a * b with broadcasting; either may be a Python scalar."""
    return Mul.apply(*_operands(a, b))


def div(a, b) -> Tensor:
    """a / b with broadcasting; either may be a Python scalar."""
    return Div.apply(*_operands(a, b))


def neg(x: Tensor) -> Tensor:
    """-x."""
    return Neg.apply(x)


def pow(x: Tensor, p: float) -> Tensor:  # noqa: A001 - PyTorch's name
    """x ** p for a constant scalar exponent p."""
    if isinstance(p, Tensor):
        raise ValueError("pow: the exponent must be a Python number, not a Tensor")
    return Pow.apply(x, float(p))


def abs(x: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """|x|, with gradient sign(x) (0 at 0)."""
    return Abs.apply(x)


def sqrt(x: Tensor) -> Tensor:
    """sqrt(x) (x > 0 for a finite gradient)."""
    return Sqrt.apply(x)
