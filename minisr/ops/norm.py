"""Autograd for batch normalisation (Ioffe and Szegedy, 2015), as
``torch.nn.functional.batch_norm``: the Function calls the backend's
``batch_norm_forward`` / ``batch_norm_backward`` (``kernels/norm.py``, ``kernels/cuda/norm.py``),
which in training mode also update the running buffers in place. Read next:
``nn/batchnorm.py``.
"""
from __future__ import annotations

from minisr.autograd import Function, Tensor

__all__ = ["BatchNorm", "batch_norm"]


class BatchNorm(Function):
    """y = (x - mean) * invstd * weight + bias per channel. Backward: dx (through the batch
    statistics in training mode, with them as constants in eval mode), dweight, dbias."""

    def forward(ctx, x, running_mean, running_var, weight, bias, training, momentum, eps):
        y, mean, invstd = ctx.backend.batch_norm_forward(x, weight, bias, running_mean,
                                                         running_var, training, momentum, eps)
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.training = training
        return y

    def backward(ctx, dy):
        x, weight, mean, invstd = ctx.saved_tensors
        dx, dweight, dbias = ctx.backend.batch_norm_backward(dy, x, weight, mean, invstd,
                                                             ctx.training)
        need = ctx.needs_input_grad
        return (dx if need[0] else None, None, None, dweight if need[3] else None,
                dbias if need[4] else None, None, None, None)


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation over axis 1, as ``torch.nn.functional.batch_norm``.

    mean[c], var[c] = the mean and biased variance of x[:, c] over (N, *)   (training), or
                      running_mean[c], running_var[c]                        (eval)
    y[n, c, s] = (x[n, c, s] - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]

    In training mode the running buffers, when given, are updated in place with
    r = (1 - momentum) * r + momentum * stat, the variance made unbiased (times M / (M - 1)).

    Shape:
        x: (N, C, *)    running_mean, running_var, weight, bias: (C,) or None
        y: (N, C, *)

    Parameters
    ----------
    x : the input; weight, bias : the affine transform (None: 1 and 0).
    running_mean, running_var : running statistics (Buffers), read in eval mode.
    training : use (and update) the batch statistics; momentum, eps : as in PyTorch.
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm: x {x.shape} needs a channel axis (N, C, *)")
    C = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and (t.shape != (C,) or t.dtype != x.dtype):
            raise ValueError(f"batch_norm: {name} {t.shape} {t.dtype} must be ({C},) "
                             f"{x.dtype} for x {x.shape}")
    if training and x.size // max(C, 1) < 2:
        raise ValueError(f"batch_norm: training needs more than 1 value per channel, got x "
                         f"{x.shape}")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: eval mode (training=False) needs running_mean and "
                         "running_var")
    return BatchNorm.apply(x, running_mean, running_var, weight, bias, bool(training),
                           float(momentum), float(eps))
