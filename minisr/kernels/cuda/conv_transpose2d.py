"""CUDA conv_transpose2d, built from conv2d's kernels (the adjoint pair): this forward is
conv2d's backward_input (a gather) plus the bias, this backward_input is conv2d's forward,
and this backward_weight is conv2d's backward_weight with x and dy swapped, exactly as on
the CPU (``kernels/conv_transpose2d.py``). Read first: ``conv2d.py``.
"""
from __future__ import annotations

from minisr.kernels._conv_blocks import pair, transposed_out_size
from minisr.kernels.cuda.conv2d import (conv2d_backward_input_cuda, conv2d_backward_weight_cuda,
                                        conv2d_forward_cuda)
from minisr.kernels.cuda.elementwise import add_cuda
from minisr.kernels.cuda.reduce import sum_cuda

__all__ = ["conv_transpose2d_forward_cuda", "conv_transpose2d_backward_input_cuda",
           "conv_transpose2d_backward_weight_cuda"]


def conv_transpose2d_forward_cuda(x, w, b, stride=1, padding=0, output_padding=0,
                                  dilation=1, groups: int = 1):
    """Transposed conv = conv2d's backward_input with w read as (C_in, C_out/groups, ...).

    Shape:
        x: (N, C_in, H, W)    w: (C_in, C_out/groups, KH, KW)    b: (C_out,) or None
        y: (N, C_out, H_out, W_out),  H_out = (H-1)s - 2p + d(KH-1) + output_padding + 1
    """
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    oph, opw = pair(output_padding)
    N, _, H, W = x.shape
    _, Cog, KH, KW = w.shape
    shape = (N, Cog * groups, transposed_out_size(H, KH, sh, ph, oph, dh),
             transposed_out_size(W, KW, sw, pw, opw, dw))
    y = conv2d_backward_input_cuda(x, w, shape, stride, padding, dilation, groups)
    return y if b is None else add_cuda(y, b.reshape(1, b.size, 1, 1))


def conv_transpose2d_backward_input_cuda(dy, w, stride=1, padding=0, dilation=1,
                                         groups: int = 1):
    """dL/dx of conv_transpose2d: conv2d's forward of dy (the adjoint), no bias.

    Shape:
        dy: (N, C_out, H_out, W_out)    w: (C_in, C_out/groups, KH, KW)    dx: (N, C_in, H, W)
    """
    return conv2d_forward_cuda(dy, w, None, stride, padding, dilation, groups)


def conv_transpose2d_backward_weight_cuda(x, dy, w_shape, stride=1, padding=0, dilation=1,
                                          groups: int = 1):
    """dL/dw: conv2d's backward_weight with x and dy swapped; dL/db: dy summed over (0, 2, 3).

    Shape:
        x: (N, C_in, H, W)    dy: (N, C_out, H_out, W_out)    dw: w_shape    db: (C_out,)
    """
    dw, _ = conv2d_backward_weight_cuda(dy, x, w_shape, stride, padding, dilation, groups)
    return dw, sum_cuda(dy, axis=(0, 2, 3))
