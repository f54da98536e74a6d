"""CUDA shape primitives: concat/split, pad (zeros, reflect) and its adjoint, getitem and its
adjoint; plus ``strided_copy``, the one data-movement kernel the others (and broadcast_to,
transpose_last) are built on. The CPU twins are in ``kernels/shape.py``.

``strided_copy`` runs one thread per copied element: it unravels its index over ``shape``
and reads/writes through element offsets and strides, so a crop, a channel slice, a
transpose or a broadcast is the same kernel with other numbers. getitem gathers through a
host-built table of source indices (``np.arange(x.size).reshape(x.shape)[index]``), so any
NumPy index works; its adjoint gathers too: each dx element sums the dy elements that read
it, in order (repeated advanced indices add up, as ``np.add.at`` does; no atomics).
"""
from __future__ import annotations

import numpy as np
from numba import cuda

from minisr.kernels.cuda._launch import (ND, contiguous_strides, device, empty, flat,
                                         grid_1d, padded)

__all__ = ["strided_copy", "concat_cuda", "split_cuda", "pad_forward_cuda",
           "pad_backward_cuda", "getitem_cuda", "getitem_backward_cuda"]


@cuda.jit
def _strided_copy_kernel(src, s_off, s_st, dst, d_off, d_st, shape, n):
    k = cuda.grid(1)
    if k >= n:
        return
    si, di, rem = s_off, d_off, k
    for d in range(ND - 1, -1, -1):
        i = rem % shape[d]
        rem //= shape[d]
        si += i * s_st[d]
        di += i * d_st[d]
    dst[di] = src[si]


@cuda.jit
def _gather_forward_kernel(x, idx, y):
    k = cuda.grid(1)
    if k >= y.size:
        return
    y[k] = x[idx[k]]


@cuda.jit
def _gather_backward_kernel(dy, order, starts, dx):
    k = cuda.grid(1)
    if k >= dx.size:
        return
    acc = dy.dtype.type(0)
    for m in range(starts[k], starts[k + 1]):
        acc += dy[order[m]]
    dx[k] = acc


@cuda.jit
def _pad_reflect_forward_kernel(x, H, W, t, l, y, Hp, Wp):
    k = cuda.grid(1)
    if k >= y.size:
        return
    plane, i, j = k // (Hp * Wp), (k // Wp) % Hp - t, k % Wp - l
    if i < 0:
        i = -i
    if i >= H:
        i = 2 * (H - 1) - i
    if j < 0:
        j = -j
    if j >= W:
        j = 2 * (W - 1) - j
    y[k] = x[plane * H * W + i * W + j]


@cuda.jit(device=True)
def _mirror_sources(i, n, before, after, k):
    """The k-th (0..2) padded index that reads x index i along one axis, or -1."""
    if k == 0:
        return i + before
    if k == 1:
        return before - i if 1 <= i <= before else -1
    m = n - 2 - i  # padded index before + n + m holds x[n - 2 - m]
    return before + n + m if 0 <= m < after else -1


@cuda.jit
def _pad_reflect_backward_kernel(dy, H, W, t, b, l, r, dx):
    k = cuda.grid(1)
    if k >= dx.size:
        return
    Hp, Wp = H + t + b, W + l + r
    plane, i, j = k // (H * W), (k // W) % H, k % W
    acc = dy.dtype.type(0)
    for a in range(3):
        pi = _mirror_sources(i, H, t, b, a)
        if pi < 0:
            continue
        for c in range(3):
            pj = _mirror_sources(j, W, l, r, c)
            if pj >= 0:
                acc += dy[plane * Hp * Wp + pi * Wp + pj]
    dx[k] = acc


def strided_copy(src, s_off: int, s_strides, dst, d_off: int, d_strides, shape) -> None:
    """dst[d_off + i . d_strides] = src[s_off + i . s_strides] for every index i of
    ``shape``; src and dst are flat views, strides in elements (0 broadcasts)."""
    n = int(np.prod(shape, dtype=np.int64))
    if n == 0:
        return
    _strided_copy_kernel[grid_1d(n)](src, s_off, padded(s_strides, 0), dst, d_off,
                                    padded(d_strides, 0), padded(shape, 1), n)


def concat_cuda(xs, axis: int = 1):
    """y = the arrays of ``xs`` stacked along ``axis``.

    Shape:
        xs[k]: (N, C_k, H, W)    y: (N, sum_k C_k, H, W)
    """
    axis %= xs[0].ndim
    shape = list(xs[0].shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    y = empty(shape, xs[0].dtype)
    y_st = contiguous_strides(shape)
    start = 0
    for x in xs:
        strided_copy(flat(x), 0, contiguous_strides(x.shape), flat(y), start * y_st[axis],
                     y_st, x.shape)
        start += x.shape[axis]
    return y


def split_cuda(y, sizes, axis: int = 1):
    """The adjoint of :func:`concat_cuda`: y cut along ``axis`` into pieces of ``sizes``."""
    axis %= y.ndim
    y_st = contiguous_strides(y.shape)
    parts, start = [], 0
    for size in sizes:
        shape = list(y.shape)
        shape[axis] = size
        part = empty(shape, y.dtype)
        strided_copy(flat(y), start * y_st[axis], y_st, flat(part), 0,
                     contiguous_strides(shape), shape)
        parts.append(part)
        start += size
    return parts


def _window(big_shape, t: int, l: int):
    """Offset and strides of the (H, W) window at (t, l) inside a contiguous big array."""
    st = contiguous_strides(big_shape)
    return t * st[-2] + l * st[-1], st


def pad_forward_cuda(x, padding, mode: str = "zeros"):
    """Pad the last two axes by ``(top, bottom, left, right)``, zeros or reflect.

    Shape:
        x: (..., H, W)    y: (..., H + top + bottom, W + left + right)
    """
    from minisr.kernels.cuda.elementwise import full_cuda
    t, b, l, r = padding
    H, W = tuple(x.shape)[-2:]
    shape = tuple(x.shape)[:-2] + (H + t + b, W + l + r)
    if mode == "zeros":
        y = full_cuda(shape, 0, x.dtype)
        off, st = _window(shape, t, l)
        strided_copy(flat(x), 0, contiguous_strides(x.shape), flat(y), off, st, x.shape)
        return y
    y = empty(shape, x.dtype)
    _pad_reflect_forward_kernel[grid_1d(y.size)](flat(x), H, W, t, l, flat(y), *shape[-2:])
    return y


def pad_backward_cuda(dy, padding, mode: str = "zeros"):
    """The adjoint of :func:`pad_forward_cuda`: a crop (zeros), or a gather that adds each
    input pixel's mirror images (reflect).

    Shape:
        dy: (..., H + top + bottom, W + left + right)    dx: (..., H, W)
    """
    t, b, l, r = padding
    H, W = tuple(dy.shape)[-2] - t - b, tuple(dy.shape)[-1] - l - r
    shape = tuple(dy.shape)[:-2] + (H, W)
    dx = empty(shape, dy.dtype)
    if mode == "zeros":
        off, st = _window(dy.shape, t, l)
        strided_copy(flat(dy), off, st, flat(dx), 0, contiguous_strides(shape), shape)
    else:
        _pad_reflect_backward_kernel[grid_1d(dx.size)](flat(dy), H, W, t, b, l, r, flat(dx))
    return dx


def _source_table(x_shape, index) -> np.ndarray:
    return np.arange(int(np.prod(x_shape)), dtype=np.int64).reshape(x_shape)[index]


def getitem_cuda(x, index):
    """y = x[index] (any NumPy index), a new contiguous array.

    Shape:
        x: any    y: the indexed shape
    """
    idx = _source_table(x.shape, index)
    y = empty(idx.shape, x.dtype)
    if y.size:
        _gather_forward_kernel[grid_1d(y.size)](flat(x), device(idx.ravel()), flat(y))
    return y


def getitem_backward_cuda(dy, x_shape, index):
    """The adjoint of :func:`getitem_cuda`: dx[i] = sum of the dy elements that read x[i].

    Shape:
        dy: the indexed shape    dx: x_shape
    """
    idx = _source_table(x_shape, index).ravel()
    order = np.argsort(idx, kind="stable")
    starts = np.searchsorted(idx[order], np.arange(int(np.prod(x_shape)) + 1))
    dx = empty(x_shape, dy.dtype)
    _gather_backward_kernel[grid_1d(dx.size)](flat(dy), device(order.astype(np.int64)),
                                             device(starts.astype(np.int64)), flat(dx))
    return dx
