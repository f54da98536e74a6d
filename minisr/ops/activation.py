"""Autograd for ReLU, LeakyReLU, PReLU (He et al., ICCV 2015; used by FSRCNN), Tanh,
Sigmoid (ESPCN uses tanh) and Softplus (the GAN losses' log-likelihood). Tanh and Sigmoid
differentiate from their output, so they save y rather than x. Read next: ``nn/layers.py``.
"""
from __future__ import annotations

from minisr.autograd import Function, Tensor

__all__ = ["ReLU", "LeakyReLU", "PReLU", "Tanh", "Sigmoid", "Softplus", "relu", "leaky_relu",
           "prelu", "tanh", "sigmoid", "softplus"]


class ReLU(Function):
    """y = max(x, 0). Backward: dx = dy * (x > 0)."""

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.backend.relu_forward(x)

    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return ctx.backend.relu_backward(x, dy)


class LeakyReLU(Function):
    """y = x if x > 0 else slope * x. Backward: dx = dy * (1 or slope)."""

    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return ctx.backend.leaky_relu_forward(x, negative_slope)

    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return ctx.backend.leaky_relu_backward(x, dy, ctx.slope), None


class PReLU(Function):
    """y = x if x > 0 else a[c] * x, with a learned per channel. Backward: dx and da."""

    def forward(ctx, x, a):
        ctx.save_for_backward(x, a)
        return ctx.backend.prelu_forward(x, a)

    def backward(ctx, dy):
        x, a = ctx.saved_tensors
        dx, da = ctx.backend.prelu_backward(x, a, dy)
        return dx, da


class Tanh(Function):
    """y = tanh(x). Backward: dx = dy * (1 - y^2)."""

    def forward(ctx, x):
        y = ctx.backend.tanh_forward(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return ctx.backend.tanh_backward(y, dy)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)). Backward: dx = dy * y * (1 - y)."""

    def forward(ctx, x):
        y = ctx.backend.sigmoid_forward(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return ctx.backend.sigmoid_backward(y, dy)


class Softplus(Function):
    """y = log(1 + exp(x)). Backward: dx = dy * sigmoid(x)."""

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.backend.softplus_forward(x)

    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return ctx.backend.softplus_backward(x, dy)


def relu(x: Tensor) -> Tensor:
    """max(x, 0), elementwise."""
    return ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    return LeakyReLU.apply(x, float(negative_slope))


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """PReLU with one learned slope per channel (axis 1), or one shared slope.

    Shape:
        x: (N, C, ...)    weight: (C,) or (1,)    y: like x
    """
    if weight.ndim != 1 or (weight.shape[0] not in (1, x.shape[1] if x.ndim > 1 else 1)):
        raise ValueError(f"prelu: weight {weight.shape} must be (1,) or (C,) for x {x.shape}")
    return PReLU.apply(x, weight)


def tanh(x: Tensor) -> Tensor:
    """tanh(x), elementwise."""
    return Tanh.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), elementwise."""
    return Sigmoid.apply(x)


def softplus(x: Tensor) -> Tensor:
    """log(1 + exp(x)), elementwise, without overflow (torch.nn.functional.softplus with
    beta = 1 and no threshold)."""
    return Softplus.apply(x)
