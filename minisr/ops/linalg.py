"""Batched matrix product, used for Gram matrices in texture losses, and ``linear``
(a dense layer: a product with the transposed weight plus a broadcast bias).

Read next: ``nn/losses.py`` (``GramLoss``).
"""
from __future__ import annotations

from minisr.autograd import Function, Tensor
from minisr.ops.arithmetic import add
from minisr.ops.shape import transpose_last

__all__ = ["MatMul", "matmul", "linear"]


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


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x @ weight^T + bias, as ``torch.nn.functional.linear``: a matmul and a
    broadcast add, so its gradients are theirs.

    Shape:
        x: (*, in_features)    weight: (out_features, in_features)    bias: (out_features,)
        y: (*, out_features)
    """
    if x.ndim < 2 or weight.ndim != 2 or x.shape[-1] != weight.shape[1] or \
            (bias is not None and tuple(bias.shape) != (weight.shape[0],)):
        raise ValueError(f"linear: x {x.shape}, weight {weight.shape} and bias "
                         f"{None if bias is None else bias.shape} do not fit "
                         f"(*, in), (out, in), (out,)")
    y = matmul(x, transpose_last(weight))
    return y if bias is None else add(y, bias)
