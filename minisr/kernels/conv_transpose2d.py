"""Transposed 2-D convolution (PyTorch's ``conv_transpose2d``): reference loops and fast path.

Each input pixel "stamps" a scaled copy of the kernel onto the output, s pixels apart; FSRCNN
upsamples with it (9x9, stride = scale). It is the adjoint of ``conv2d``: this forward is
conv2d's backward_input, this backward_input is conv2d's forward, and this backward_weight is
conv2d's backward_weight with x and dy swapped, so every loop lives in ``conv2d.py``, which
this module imports (the dependency runs one way). Read first: ``conv2d.py``; next:
``ops/conv.py``.
"""
from __future__ import annotations

import numpy as np

from minisr.kernels import _conv_blocks as _cb
from minisr.kernels import _conv_paths as _paths
from minisr.kernels._conv_blocks import pair, transposed_out_size
from minisr.kernels.conv2d import (conv2d_backward_input_ref, conv2d_backward_weight_ref,
                                   conv2d_forward_cpu, conv2d_forward_ref)

__all__ = ["conv_transpose2d_forward_ref", "conv_transpose2d_backward_input_ref",
           "conv_transpose2d_backward_weight_ref", "conv_transpose2d_forward_cpu",
           "conv_transpose2d_backward_input_cpu", "conv_transpose2d_backward_weight_cpu"]


def conv_transpose2d_forward_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                                 stride=1, padding=0, output_padding=0, dilation=1,
                                 groups: int = 1) -> np.ndarray:
    """Transposed 2-D convolution, the readable reference (a scatter: one stamp per input pixel).

    y_full[n, g*Cog + o, i*s + p*d, j*s + q*d] += x[n, c, i, j] * w[c, o, p, q]   (g = c // Cg)
    y = b + y_full cropped by `padding` on each side (output_padding adds rows at the end).

    It is conv2d's backward_input (the adjoint of conv2d with the same w, stride, padding,
    dilation and groups), so the loop is :func:`conv2d_backward_input_ref`'s, read in
    ``conv2d.py``; here the output size comes from output_padding instead of a given shape.

    Shape:
        x: (N, C_in, H, W)    w: (C_in, C_out/groups, KH, KW)    b: (C_out,) or None
        y: (N, C_out, H_out, W_out),  H_out = (H-1)*s - 2*p + d*(KH-1) + output_padding + 1
    """
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    oph, opw = pair(output_padding)
    N, _, H, W = x.shape
    _, Cog, KH, KW = w.shape
    H_out = transposed_out_size(H, KH, sh, ph, oph, dh)
    W_out = transposed_out_size(W, KW, sw, pw, opw, dw)
    y = conv2d_backward_input_ref(x, w, (N, Cog * groups, H_out, W_out), stride, padding,
                                  dilation, groups)
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def conv_transpose2d_backward_input_ref(dy: np.ndarray, w: np.ndarray, stride=1, padding=0,
                                        dilation=1, groups: int = 1) -> np.ndarray:
    """dL/dx of ``conv_transpose2d``: the adjoint, which IS ``conv2d``'s forward (same w, no b).

    Shape:
        dy: (N, C_out, H_out, W_out)    w: (C_in, C_out/groups, KH, KW)
        dx: (N, C_in, H, W)   (output_padding rows of dy reach no input pixel)
    """
    return conv2d_forward_ref(dy, w, None, stride, padding, dilation, groups)


def conv_transpose2d_backward_weight_ref(x: np.ndarray, dy: np.ndarray, w_shape: tuple,
                                         stride=1, padding=0, dilation=1, groups: int = 1):
    """dL/dw, dL/db of ``conv_transpose2d``: ``conv2d_backward_weight`` with x and dy swapped.

    dw[c, o, p, q] = sum_{n,i,j} x[n, c, i, j] * dy_pad[n, g*Cog + o, i*s + p*d, j*s + q*d]
    db[o]          = sum_{n,i,j} dy[n, o, i, j]

    Shape:
        x: (N, C_in, H, W)    dy: (N, C_out, H_out, W_out)
        dw: w_shape = (C_in, C_out/groups, KH, KW)    db: (C_out,)
    """
    dw, _ = conv2d_backward_weight_ref(dy, x, w_shape, stride, padding, dilation, groups)
    return dw, dy.sum(axis=(0, 2, 3))


# ----------------------------------------------------------------------------- fast path
def conv_transpose2d_forward_cpu(x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                                 stride=1, padding=0, output_padding=0, dilation=1,
                                 groups: int = 1) -> np.ndarray:
    """Fast ``conv_transpose2d_forward_ref``; also conv2d's fast backward_input.

    cols = w^T @ x per bounded tile (BLAS), then col2im as a Numba gather (each output row
    sums its own entries: deterministic). With stride 1 and fewer inputs than outputs it runs
    as conv2d_forward_cpu with the kernel flipped and its channel axes swapped instead.

    Shape:
        x: (N, C_in, H, W)    w: (C_in, C_out/groups, KH, KW)    b: (C_out,) or None
        y: (N, C_out, H_out, W_out)
    """
    return _paths.conv_transpose_forward(x, w, b, pair(stride), pair(padding),
                                      pair(output_padding), pair(dilation), groups)


def conv_transpose2d_backward_input_cpu(dy: np.ndarray, w: np.ndarray, stride=1, padding=0,
                                        dilation=1, groups: int = 1) -> np.ndarray:
    """Fast ``conv_transpose2d_backward_input_ref``: ``conv2d_forward_cpu`` (the adjoint).

    Shape:
        dy: (N, C_out, H_out, W_out)    w: (C_in, C_out/groups, KH, KW)    dx: (N, C_in, H, W)
    """
    return conv2d_forward_cpu(dy, w, None, stride, padding, dilation, groups)


def conv_transpose2d_backward_weight_cpu(x: np.ndarray, dy: np.ndarray, w_shape: tuple,
                                         stride=1, padding=0, dilation=1, groups: int = 1):
    """Fast ``conv_transpose2d_backward_weight_ref``: ``conv2d_backward_weight_cpu``, swapped.

    Shape:
        x: (N, C_in, H, W)    dy: (N, C_out, H_out, W_out)    dw: w_shape    db: (C_out,)
    """
    dw = _paths.conv_backward_weight(dy, x, tuple(w_shape), pair(stride), pair(padding),
                                  pair(dilation), groups)     # conv2d's, minus its unused db
    return dw, _cb.bias_grad(dy)
