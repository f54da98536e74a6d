"""Autograd for max pooling, as ``torch.nn.functional.max_pool2d`` (RLFN's spatial attention).

The forward keeps each window's argmax; the backward sends dy there (``kernels/pool.py``,
``kernels/cuda/pool.py``). Only what RLFN needs: no dilation, ceil_mode or
return_indices, each refused in one line. Read next: ``nn/layers.py`` (``MaxPool2d``).
"""
from __future__ import annotations

from minisr.autograd import Function, Tensor
from minisr.kernels.pool import pool_out_size

__all__ = ["MaxPool2d", "max_pool2d"]


class MaxPool2d(Function):
    """y = max over each window. Backward: dx = dy added at each window's argmax."""

    def forward(ctx, x, kernel_size, stride, padding):
        y, indices = ctx.backend.max_pool2d_forward(x, kernel_size, stride, padding)
        ctx.save_for_backward(indices)
        ctx.x_shape, ctx.args = x.shape, (kernel_size, stride, padding)
        return y

    def backward(ctx, dy):
        (indices,) = ctx.saved_tensors
        dx = ctx.backend.max_pool2d_backward(dy, indices, ctx.x_shape, *ctx.args)
        return dx, None, None, None  # the window sizes are not tensors


def _pair(v, name: str, minimum: int) -> tuple[int, int]:
    pair = (v, v) if isinstance(v, int) else tuple(v) if isinstance(v, (tuple, list)) else ()
    if len(pair) != 2 or any(isinstance(p, bool) or not isinstance(p, int) or p < minimum
                             for p in pair):
        raise ValueError(f"max_pool2d: {name} must be an int >= {minimum} or a pair, got {v!r}")
    return pair


def max_pool2d(x: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """The maximum of every kernel_size window, as ``torch.nn.functional.max_pool2d``.

    y[n, c, i, j] = max_{p < KH, q < KW} x_pad[n, c, i*sh + p, j*sw + q]

    x_pad is x padded with -inf, so padding never wins. Ties go to the first position in
    row-major window order (as torch's CPU kernel), and that position alone gets the
    gradient; overlapping windows (stride < kernel) add theirs up.

    Shape:
        x: (N, C, H, W)    y: (N, C, OH, OW)
        OH = (H + 2*ph - KH) // sh + 1,  OW = (W + 2*pw - KW) // sw + 1

    Parameters
    ----------
    x : the input, float32 or float64.
    kernel_size : int or (KH, KW).
    stride : int or (sh, sw); None (the default) is kernel_size.
    padding : int or (ph, pw), at most half the kernel (ph <= KH // 2), as torch requires.
    dilation, ceil_mode, return_indices : only torch's defaults (1, False, False).
    """
    if dilation not in (1, (1, 1), [1, 1]) or ceil_mode or return_indices:
        raise ValueError(f"max_pool2d: only dilation=1, ceil_mode=False, return_indices=False "
                         f"are implemented, got {dilation!r}, {ceil_mode!r}, {return_indices!r}")
    k = _pair(kernel_size, "kernel_size", 1)
    s = k if stride is None else _pair(stride, "stride", 1)
    p = _pair(padding, "padding", 0)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"max_pool2d: padding {p} must be at most half of kernel_size {k}")
    if x.ndim != 4:
        raise ValueError(f"max_pool2d: need x (N, C, H, W), got {x.shape}")
    out = [pool_out_size(x.shape[2 + a], k[a], s[a], p[a]) for a in range(2)]
    if min(out) < 1:
        raise ValueError(f"max_pool2d: input {x.shape} padded by {p} is smaller than the "
                         f"kernel {k}")
    return MaxPool2d.apply(x, k, s, p)
