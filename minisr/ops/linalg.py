"""Batched matrix product, used for Gram matrices in texture losses.

Read next: ``nn/losses.py`` (``GramLoss``).
"""
from __future__ import annotations

from minisr.autograd import Function, Tensor

__all__ = ["MatMul", "matmul"]


class MatMul(Function):
    """y = a @ b. Backward: da = dy @ b^T, db = a^T @ dy (summed over broadcast batches)."""

    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.backend.matmul(a, b)

    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        be = ctx.backend
        da = db = None
        if ctx.needs_input_grad[0]:
            da = be.sum_to_shape(be.matmul(dy, be.transpose_last(b)), a.shape)
        if ctx.needs_input_grad[1]:
            db = be.sum_to_shape(be.matmul(be.transpose_last(a), dy), b.shape)
        return da, db


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """a @ b over the last two axes, batched (and broadcast) over the leading ones."""
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not chain")
    return MatMul.apply(a, b)
