"""2-D convolution (cross-correlation, PyTorch's ``conv2d``): reference loops and the fast path.

``conv2d_act_forward`` is the inference form: the convolution, its bias and an activation
(ReLU, tanh or PReLU) in one pass over the output, the activation applied to each tile while
it is in cache; ``nn.Sequential`` and ``ResidualBlock`` use it under ``no_grad``.
The ``_ref`` functions are the spec: loops that follow the formula index by index. The ``_cpu``
functions give the same numbers faster: im2col over bounded tiles feeding BLAS (``np.matmul``),
"kn2row" for layers with few outputs, or Winograd F(4x4, 3x3) for 3x3 stride-1 layers; which
one runs is decided in ``_conv_paths.choose_path``.
``backward_input`` is the adjoint, a scatter, and it is also ``conv_transpose2d``'s forward:
it is written here once, and ``conv_transpose2d.py`` imports this module (never the other
way round). Read next: ``conv_transpose2d.py``, then ``ops/conv.py`` (autograd).
"""
from __future__ import annotations

import numpy as np

from minisr.kernels import _conv_blocks as _cb
from minisr.kernels import _conv_paths as _paths
from minisr.kernels._conv_blocks import Epilogue, conv_out_size, pair
from minisr.kernels._shared import ACT_CODES
from minisr.kernels.activation import prelu_forward_ref, relu_forward_ref, tanh_forward_ref

__all__ = ["conv2d_forward_ref", "conv2d_backward_input_ref", "conv2d_backward_weight_ref",
           "conv2d_act_forward_ref", "conv2d_forward_cpu", "conv2d_backward_input_cpu",
           "conv2d_backward_weight_cpu", "conv2d_act_forward_cpu"]


def _pad(x: np.ndarray, ph: int, pw: int) -> np.ndarray:
    """Zero-pad the two spatial axes of an NCHW array."""
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def conv2d_forward_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                       stride=1, padding=0, dilation=1, groups: int = 1) -> np.ndarray:
    """2-D cross-correlation (no kernel flip); the readable reference.

    y[n, o, i, j] = b[o] + sum_{c,p,q} w[o, c, p, q] * x_pad[n, g*Cg + c, i*s + p*d, j*s + q*d]

    where g = o // (C_out/groups) is the group of output channel o and Cg = C_in/groups.

    Shape:
        x: (N, C_in, H, W)    w: (C_out, C_in/groups, KH, KW)    b: (C_out,) or None
        y: (N, C_out, H_out, W_out),  H_out = (H + 2*p - d*(KH-1) - 1) // s + 1

    Parameters
    ----------
    stride, padding, dilation : int or (h, w) pair.
    groups : C_in and C_out are split into this many independent convolutions.
    """
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    N, C_in, H, W = x.shape
    C_out, Cg, KH, KW = w.shape
    Cog = C_out // groups
    H_out, W_out = conv_out_size(H, KH, sh, ph, dh), conv_out_size(W, KW, sw, pw, dw)
    x_pad = _pad(x, ph, pw)
    y = np.zeros((N, C_out, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for o in range(C_out):
            g = o // Cog
            for i in range(H_out):
                for j in range(W_out):
                    # the receptive field of y[n, o, i, j]: Cg x KH x KW taps, d apart
                    patch = x_pad[n, g * Cg:(g + 1) * Cg,
                                  i * sh:i * sh + dh * (KH - 1) + 1:dh,
                                  j * sw:j * sw + dw * (KW - 1) + 1:dw]
                    y[n, o, i, j] = np.sum(w[o] * patch)
            if b is not None:
                y[n, o] += b[o]
    return y


def conv2d_backward_input_ref(dy: np.ndarray, w: np.ndarray, x_shape: tuple,
                              stride=1, padding=0, dilation=1, groups: int = 1) -> np.ndarray:
    """dL/dx of ``conv2d``, the readable reference: the forward's gather run backwards, a scatter.

    dx_pad[n, g*Cg + c, i*s + p*d, j*s + q*d] += dy[n, o, i, j] * w[o, c, p, q]   (g = o // Cog)
    dx = dx_pad cropped by `padding` on each side

    Each dy[n, o, i, j] "stamps" w[o], scaled, onto the input pixels y[n, o, i, j] read.
    This IS ``conv_transpose2d``'s forward (the adjoint of conv2d), which calls it with the same
    weight array: conv_transpose2d reads w as (C_in_t, C_out_t/groups, KH, KW), which is
    conv2d's (C_out, C_in/groups, KH, KW). The last (H + 2p - d*(KH-1) - 1) % s input rows,
    which the forward drops, get zero gradient.

    Shape:
        dy: (N, C_out, H_out, W_out)    w: (C_out, C_in/groups, KH, KW)
        dx: x_shape = (N, C_in, H, W)
    """
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    N, C_in, H, W = x_shape
    C_out, Cg, KH, KW = w.shape
    Cog = C_out // groups
    H_out, W_out = dy.shape[2:]
    # the padded canvas the forward read from; every stamp lands inside it
    dx_pad = np.zeros((N, C_in, H + 2 * ph, W + 2 * pw), dtype=dy.dtype)
    for n in range(N):
        for o in range(C_out):
            g = o // Cog
            for i in range(H_out):
                for j in range(W_out):
                    # the receptive field of y[n, o, i, j] gets dy[n, o, i, j] * w[o] back
                    dx_pad[n, g * Cg:(g + 1) * Cg,
                           i * sh:i * sh + dh * (KH - 1) + 1:dh,
                           j * sw:j * sw + dw * (KW - 1) + 1:dw] += dy[n, o, i, j] * w[o]
    return dx_pad[:, :, ph:ph + H, pw:pw + W].copy()


def conv2d_backward_weight_ref(x: np.ndarray, dy: np.ndarray, w_shape: tuple,
                               stride=1, padding=0, dilation=1, groups: int = 1):
    """dL/dw and dL/db of ``conv2d``; the readable reference.

    dw[o, c, p, q] = sum_{n,i,j} dy[n, o, i, j] * x_pad[n, g*Cg + c, i*s + p*d, j*s + q*d]
    db[o]          = sum_{n,i,j} dy[n, o, i, j]

    Shape:
        x: (N, C_in, H, W)    dy: (N, C_out, H_out, W_out)
        dw: w_shape = (C_out, C_in/groups, KH, KW)    db: (C_out,)
    """
    (sh, sw), (ph, pw), (dil_h, dil_w) = pair(stride), pair(padding), pair(dilation)
    C_out, Cg, KH, KW = w_shape
    Cog = C_out // groups
    H_out, W_out = dy.shape[2:]
    x_pad = _pad(x, ph, pw)
    dw = np.zeros(w_shape, dtype=x.dtype)
    for o in range(C_out):
        g = o // Cog
        for c in range(Cg):
            for p in range(KH):
                for q in range(KW):
                    # every input pixel that tap (p, q) of channel c saw, one per output pixel
                    seen = x_pad[:, g * Cg + c,
                                 p * dil_h:p * dil_h + sh * (H_out - 1) + 1:sh,
                                 q * dil_w:q * dil_w + sw * (W_out - 1) + 1:sw]
                    dw[o, c, p, q] = np.sum(dy[:, o] * seen)
    db = dy.sum(axis=(0, 2, 3))
    return dw, db


def conv2d_act_forward_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                           stride=1, padding=0, dilation=1, groups: int = 1,
                           act: str | None = None, slope: np.ndarray | None = None):
    """act(conv2d(x, w, b)): the convolution, then the activation, as two reference ops.

    y = act(conv2d_forward_ref(x, w, b, ...)),  act = relu, tanh, prelu with ``slope``, or
    the identity for None. The fast twins apply act tile by tile inside the forward.

    Shape:
        x: (N, C_in, H, W)    w: (C_out, C_in/groups, KH, KW)    b: (C_out,) or None
        slope: (C_out,) or (1,), PReLU only    y: (N, C_out, H_out, W_out)
    """
    y = conv2d_forward_ref(x, w, b, stride, padding, dilation, groups)
    if act == "relu":
        return relu_forward_ref(y)
    if act == "tanh":
        return tanh_forward_ref(y)
    if act == "prelu":
        return prelu_forward_ref(y, slope)
    return y


def _output_padding_for(x_shape, dy_shape, w_shape, stride, padding, dilation):
    """The conv_transpose2d output_padding that maps conv2d's output size back to x_shape."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    KH, KW = w_shape[2:]
    oph = x_shape[2] - ((dy_shape[2] - 1) * sh - 2 * ph + dh * (KH - 1) + 1)
    opw = x_shape[3] - ((dy_shape[3] - 1) * sw - 2 * pw + dw * (KW - 1) + 1)
    return oph, opw


# ----------------------------------------------------------------------------- fast path
def conv2d_forward_cpu(x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                       stride=1, padding=0, dilation=1, groups: int = 1) -> np.ndarray:
    """Fast ``conv2d_forward_ref`` (same signature and result).

    Tiles of im2col columns (a few images, or a band of rows of one image, at most
    ``TILE_BYTES``) copied by a Numba loop, then ``y[n] = [w | b] @ [cols; 1]`` by BLAS,
    written straight into y. 1x1 stride-1 convs skip im2col (x[n] is the column matrix);
    layers with C_out < 2/3 C_in use kn2row: one product per tap on shifted views, no copy;
    3x3 stride-1 layers with enough channels run Winograd F(4x4, 3x3) (``_winograd.py``).
    ``_conv_paths.choose_path`` picks, with the cost model it documents.

    Shape:
        x: (N, C_in, H, W)    w: (C_out, C_in/groups, KH, KW)    b: (C_out,) or None
        y: (N, C_out, H_out, W_out)
    """
    return _paths.conv_forward(x, w, b, pair(stride), pair(padding), pair(dilation), groups)


def conv2d_act_forward_cpu(x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                           stride=1, padding=0, dilation=1, groups: int = 1,
                           act: str | None = None, slope: np.ndarray | None = None):
    """Fast ``conv2d_act_forward_ref``: ``conv2d_forward_cpu`` whose bias step also applies
    the activation, on each tile of y right after its product (``_conv_loops.epilogue``).
    Same numbers as ``conv2d_forward_cpu`` followed by the activation's ``_cpu``.

    Shape:
        x: (N, C_in, H, W)    w: (C_out, C_in/groups, KH, KW)    b: (C_out,) or None
        slope: (C_out,) or (1,), PReLU only    y: (N, C_out, H_out, W_out)
    """
    C_out = w.shape[0]
    full = np.zeros(C_out, x.dtype) if slope is None else \
        np.broadcast_to(slope.astype(x.dtype, copy=False), (C_out,)).copy()
    return _paths.conv_forward(x, w, b, pair(stride), pair(padding), pair(dilation), groups,
                               Epilogue(ACT_CODES[act], full))


def conv2d_backward_input_cpu(dy: np.ndarray, w: np.ndarray, x_shape: tuple,
                              stride=1, padding=0, dilation=1, groups: int = 1) -> np.ndarray:
    """Fast ``conv2d_backward_input_ref``: the machinery of ``conv_transpose2d_forward_cpu``
    (the adjoint), with output_padding chosen to give back H and W.

    Shape:
        dy: (N, C_out, H_out, W_out)    w: (C_out, C_in/groups, KH, KW)    dx: x_shape
    """
    op = _output_padding_for(x_shape, dy.shape, w.shape, stride, padding, dilation)
    return _paths.conv_transpose_forward(dy, w, None, pair(stride), pair(padding), pair(op),
                                      pair(dilation), groups)


def conv2d_backward_weight_cpu(x: np.ndarray, dy: np.ndarray, w_shape: tuple,
                               stride=1, padding=0, dilation=1, groups: int = 1):
    """Fast ``conv2d_backward_weight_ref``: dw = sum over tiles of dy_tile @ cols_tile^T.

    One or two output channels: a direct Numba loop instead. db: dy @ ones (one GEMV).

    Shape:
        x: (N, C_in, H, W)    dy: (N, C_out, H_out, W_out)
        dw: w_shape    db: (C_out,)
    """
    dw = _paths.conv_backward_weight(x, dy, tuple(w_shape), pair(stride), pair(padding),
                                  pair(dilation), groups)
    return dw, _cb.bias_grad(dy)
