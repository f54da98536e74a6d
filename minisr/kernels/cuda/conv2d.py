"""CUDA conv2d: forward, backward_input and backward_weight as gathers, one thread per
output element; and a shared-memory tiled forward, the fast path for float32 stride-1,
dilation-1 convs with kernels up to ``MAX_K`` x ``MAX_K`` (every SR net's 3x3/5x5/9x9).

The formulas are the reference's (``kernels/conv2d.py``). backward_input is written as a
gather over dy (each dx pixel sums the taps that read it) rather than the reference's
scatter, so no two threads write one element. It IS conv_transpose2d's forward (the
adjoint), which ``conv_transpose2d.py`` calls; conv_transpose2d's backward_input is this
forward. Tests check the tiled kernel against the simple one and both against the CPU.
Both forward kernels end with ``_shared.activate`` (no activation for ``conv2d_forward``),
so ``conv2d_act_forward`` gets its bias and activation in the same store. Read next:
``conv_transpose2d.py``.
"""
from __future__ import annotations

import numpy as np
from numba import cuda, float32

from minisr.kernels._conv_blocks import conv_out_size, pair
from minisr.kernels._shared import ACT_CODES, ACT_NONE, activate
from minisr.kernels.cuda._launch import empty, grid_1d, unravel4
from minisr.kernels.cuda.reduce import sum_cuda

__all__ = ["conv2d_forward_cuda", "conv2d_backward_input_cuda", "conv2d_backward_weight_cuda",
           "conv2d_act_forward_cuda", "TILE", "MAX_K"]

TILE = 16   # output tile edge of the tiled forward: a 16 x 16 thread block
MAX_K = 9   # largest kernel edge the tiled forward stages in shared memory
_HALO = TILE + MAX_K - 1


@cuda.jit
def _conv2d_forward_kernel(x, w, b, has_bias, sh, sw, ph, pw, dh, dw, groups, act, slope, y):
    k = cuda.grid(1)
    if k >= y.size:
        return
    N, C_out, H_out, W_out = y.shape
    _, C_in, H, W = x.shape
    _, Cg, KH, KW = w.shape
    n, o, i, j = unravel4(k, y.shape)
    g = o // (C_out // groups)
    acc = x.dtype.type(0)
    for c in range(Cg):
        for p in range(KH):
            h = i * sh + p * dh - ph
            if h < 0 or h >= H:
                continue
            for q in range(KW):
                v = j * sw + q * dw - pw
                if 0 <= v < W:
                    acc += w[o, c, p, q] * x[n, g * Cg + c, h, v]
    if has_bias:
        acc += b[o]
    y[n, o, i, j] = activate(act, acc, slope[o % slope.size], x.dtype.type(0))


@cuda.jit
def _conv2d_forward_tiled_kernel(x, w, b, has_bias, ph, pw, groups, act, slope, y):
    # Block = one TILE x TILE patch of one (n, o) output plane. For each input channel the
    # block stages the (TILE + KH - 1) x (TILE + KW - 1) input window and the KH x KW taps
    # in shared memory, so each input value is read from global memory once per block
    # instead of KH * KW times. Threads past the edge still load and reach the barriers:
    # the bounds check guards the store only.
    sx = cuda.shared.array((_HALO, _HALO), float32)
    sw = cuda.shared.array((MAX_K, MAX_K), float32)
    N, C_out, H_out, W_out = y.shape
    _, C_in, H, W = x.shape
    _, Cg, KH, KW = w.shape
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    j0, i0 = cuda.blockIdx.x * TILE, cuda.blockIdx.y * TILE
    n, o = cuda.blockIdx.z // C_out, cuda.blockIdx.z % C_out
    g = o // (C_out // groups)
    hh, ww = TILE + KH - 1, TILE + KW - 1
    tid = ty * TILE + tx
    acc = float32(0)
    for c in range(Cg):
        ci = g * Cg + c
        for t in range(tid, hh * ww, TILE * TILE):
            h, v = i0 - ph + t // ww, j0 - pw + t % ww
            sx[t // ww, t % ww] = x[n, ci, h, v] if 0 <= h < H and 0 <= v < W else float32(0)
        if tid < KH * KW:
            sw[tid // KW, tid % KW] = w[o, c, tid // KW, tid % KW]
        cuda.syncthreads()
        for p in range(KH):
            for q in range(KW):
                acc += sw[p, q] * sx[ty + p, tx + q]
        cuda.syncthreads()
    i, j = i0 + ty, j0 + tx
    if i < H_out and j < W_out:
        if has_bias:
            acc += b[o]
        y[n, o, i, j] = activate(act, acc, slope[o % slope.size], float32(0))


@cuda.jit
def _conv2d_backward_input_kernel(dy, w, sh, sw, ph, pw, dh, dw, groups, dx):
    k = cuda.grid(1)
    if k >= dx.size:
        return
    N, C_in, H, W = dx.shape
    _, C_out, H_out, W_out = dy.shape
    _, Cg, KH, KW = w.shape
    Cog = C_out // groups
    n, ci, h, v = unravel4(k, dx.shape)
    g, c = ci // Cg, ci % Cg
    acc = dy.dtype.type(0)
    for p in range(KH):
        hp = h + ph - p * dh          # = i * sh for the output row i that tap p reads h from
        if hp < 0 or hp % sh != 0 or hp // sh >= H_out:
            continue
        i = hp // sh
        for q in range(KW):
            vq = v + pw - q * dw
            if vq < 0 or vq % sw != 0 or vq // sw >= W_out:
                continue
            j = vq // sw
            for o in range(g * Cog, (g + 1) * Cog):
                acc += dy[n, o, i, j] * w[o, c, p, q]
    dx[n, ci, h, v] = acc


@cuda.jit
def _conv2d_backward_weight_kernel(x, dy, sh, sw, ph, pw, dh, dw, groups, dwt):
    k = cuda.grid(1)
    if k >= dwt.size:
        return
    C_out, Cg, KH, KW = dwt.shape
    N, C_in, H, W = x.shape
    _, _, H_out, W_out = dy.shape
    o, c, p, q = unravel4(k, dwt.shape)
    ci = (o // (C_out // groups)) * Cg + c
    acc = x.dtype.type(0)
    for n in range(N):
        for i in range(H_out):
            h = i * sh + p * dh - ph
            if h < 0 or h >= H:
                continue
            for j in range(W_out):
                v = j * sw + q * dw - pw
                if 0 <= v < W:
                    acc += dy[n, o, i, j] * x[n, ci, h, v]
    dwt[o, c, p, q] = acc


def _bias(b, like):
    return (b, True) if b is not None else (empty((1,), like.dtype), False)


def _slope(slope, like):
    return slope if slope is not None else empty((1,), like.dtype)


def _conv2d_forward_simple(x, w, b, stride=1, padding=0, dilation=1, groups: int = 1,
                           act=ACT_NONE, slope=None):
    """The one-thread-per-output gather forward (any stride, dilation, dtype)."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    N, _, H, W = x.shape
    C_out, _, KH, KW = w.shape
    y = empty((N, C_out, conv_out_size(H, KH, sh, ph, dh), conv_out_size(W, KW, sw, pw, dw)),
              x.dtype)
    bb, has_bias = _bias(b, x)
    if y.size:
        _conv2d_forward_kernel[grid_1d(y.size)](x, w, bb, has_bias, sh, sw, ph, pw, dh, dw,
                                               groups, act, _slope(slope, x), y)
    return y


def _tiled_applies(x, w, stride, padding, dilation) -> bool:
    # The tiled kernel needs float32, stride 1, dilation 1 and K <= MAX_K, and pays off
    # only when the output fills at least one TILE x TILE block: on a smaller plane most of
    # each block's threads stage data and then idle (a 4 x 4 output would use 16 of 256).
    if not (x.dtype == np.float32 and pair(stride) == (1, 1) and pair(dilation) == (1, 1)
            and max(w.shape[2:]) <= MAX_K):
        return False
    (ph, pw), (KH, KW) = pair(padding), w.shape[2:]
    H_out = conv_out_size(x.shape[2], KH, 1, ph, 1)
    W_out = conv_out_size(x.shape[3], KW, 1, pw, 1)
    return min(H_out, W_out) >= TILE


def _conv2d_forward_tiled(x, w, b, stride=1, padding=0, dilation=1, groups: int = 1,
                          act=ACT_NONE, slope=None):
    """The shared-memory tiled forward (float32, stride 1, dilation 1, K <= MAX_K)."""
    ph, pw = pair(padding)
    N, _, H, W = x.shape
    C_out, _, KH, KW = w.shape
    H_out, W_out = conv_out_size(H, KH, 1, ph, 1), conv_out_size(W, KW, 1, pw, 1)
    y = empty((N, C_out, H_out, W_out), x.dtype)
    bb, has_bias = _bias(b, x)
    grid = (-(-W_out // TILE), -(-H_out // TILE), N * C_out)
    _conv2d_forward_tiled_kernel[grid, (TILE, TILE)](x, w, bb, has_bias, ph, pw, groups, act,
                                                     _slope(slope, x), y)
    return y


def conv2d_forward_cuda(x, w, b, stride=1, padding=0, dilation=1, groups: int = 1):
    """2-D cross-correlation on the GPU (same result as ``conv2d_forward_ref``): the tiled
    kernel where it applies (float32, stride 1, dilation 1, K <= MAX_K, output planes of at
    least TILE x TILE), else the simple gather.

    Shape:
        x: (N, C_in, H, W)    w: (C_out, C_in/groups, KH, KW)    b: (C_out,) or None
        y: (N, C_out, H_out, W_out),  H_out = (H + 2p - d(KH-1) - 1) // s + 1
    """
    if _tiled_applies(x, w, stride, padding, dilation):
        return _conv2d_forward_tiled(x, w, b, stride, padding, dilation, groups)
    return _conv2d_forward_simple(x, w, b, stride, padding, dilation, groups)


def conv2d_act_forward_cuda(x, w, b, stride=1, padding=0, dilation=1, groups: int = 1,
                            act=None, slope=None):
    """act(conv2d(x, w, b)) (``conv2d_act_forward_ref``): the forward kernels above with the
    activation applied to each sum before its store. slope: PReLU's (C_out,) or (1,).

    Shape:
        x: (N, C_in, H, W)    w: (C_out, C_in/groups, KH, KW)    b: (C_out,) or None
        y: (N, C_out, H_out, W_out)
    """
    run = _conv2d_forward_tiled if _tiled_applies(x, w, stride, padding, dilation) else \
        _conv2d_forward_simple
    return run(x, w, b, stride, padding, dilation, groups, ACT_CODES[act], slope)


def conv2d_backward_input_cuda(dy, w, x_shape, stride=1, padding=0, dilation=1,
                               groups: int = 1):
    """dL/dx of conv2d as a gather; also conv_transpose2d's forward (the adjoint).

    dx[n, g*Cg + c, h, v] = sum_{o in g, p, q} dy[n, o, i, j] w[o, c, p, q]
                            over i*s + p*d - pad = h, j*s + q*d - pad = v

    Shape:
        dy: (N, C_out, H_out, W_out)    w: (C_out, C_in/groups, KH, KW)    dx: x_shape
    """
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    dx = empty(tuple(x_shape), dy.dtype)
    if dx.size:
        _conv2d_backward_input_kernel[grid_1d(dx.size)](dy, w, sh, sw, ph, pw, dh, dw,
                                                       groups, dx)
    return dx


def conv2d_backward_weight_cuda(x, dy, w_shape, stride=1, padding=0, dilation=1,
                                groups: int = 1):
    """dL/dw (one thread per weight, summing over n, i, j) and dL/db (``sum_cuda`` over
    (0, 2, 3), two-stage).

    Shape:
        x: (N, C_in, H, W)    dy: (N, C_out, H_out, W_out)    dw: w_shape    db: (C_out,)
    """
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    dwt = empty(tuple(w_shape), x.dtype)
    _conv2d_backward_weight_kernel[grid_1d(dwt.size)](x, dy, sh, sw, ph, pw, dh, dw, groups,
                                                     dwt)
    return dwt, sum_cuda(dy, axis=(0, 2, 3))
