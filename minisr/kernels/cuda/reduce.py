"""CUDA reductions: sum and mean over axes, broadcast_to, sum_to_shape, and the float64
sum of squares of gradient clipping. The CPU twins are in ``kernels/reduce.py``.

Approach (no atomics, deterministic): one thread per output element, looping over the
reduced elements in index order. When there are few outputs but long reductions (a loss's
full sum, a bias gradient), that leaves the GPU idle, so it runs in two stages: stage 1 has
``PARTS`` threads per output, thread t summing elements t, t + PARTS, ... (neighbouring
threads read neighbouring addresses); stage 2 is the one-thread-per-output kernel over the
partial sums. Float32 sums stay in float32, as NumPy's do; only ``sum_of_squares``
accumulates in float64, as its CPU twin does.
"""
from __future__ import annotations

import numpy as np
from numba import cuda

from minisr.kernels.cuda._launch import (ND, broadcast_strides, contiguous_strides, empty,
                                         flat, grid_1d, padded)
from minisr.kernels.cuda.shape import strided_copy

__all__ = ["sum_cuda", "mean_cuda", "broadcast_to_cuda", "sum_to_shape_cuda",
           "sum_of_squares_cuda", "PARTS", "TWO_STAGE_MIN"]

PARTS = 256          # stage-1 threads per output of a two-stage reduction
TWO_STAGE_MIN = 4096  # reduction length from which few outputs go two-stage


@cuda.jit(device=True)
def _offset(k, shape, strides):
    """Element offset of flat index k unravelled over ``shape`` (ND axes)."""
    off, rem = 0, k
    for d in range(ND - 1, -1, -1):
        off += (rem % shape[d]) * strides[d]
        rem //= shape[d]
    return off


@cuda.jit
def _sum_forward_kernel(x, kshape, kst, rshape, rst, R, count, mean, y):
    k = cuda.grid(1)
    if k >= y.size:
        return
    base = _offset(k, kshape, kst)
    acc = x.dtype.type(0)
    for r in range(R):
        acc += x[base + _offset(r, rshape, rst)]
    y[k] = acc / count if mean else acc


@cuda.jit
def _sum_partial_kernel(x, kshape, kst, rshape, rst, R, parts, part):
    k = cuda.grid(1)
    if k >= part.size:
        return
    o, t = k // parts, k % parts
    base = _offset(o, kshape, kst)
    acc = x.dtype.type(0)
    for r in range(t, R, parts):
        acc += x[base + _offset(r, rshape, rst)]
    part[k] = acc


@cuda.jit
def _sum_of_squares_partial_kernel(x, parts, part):
    # float64 on purpose, for float32 x too: the CPU twin's np.square(dtype=np.float64)
    t = cuda.grid(1)
    if t >= parts:
        return
    acc = 0.0
    for r in range(t, x.size, parts):
        v = np.float64(x[r])
        acc += v * v
    part[t] = acc


def _axes_tuple(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted(a % ndim for a in axes))


def _reduce(x, axes, mean: bool):
    """Sum (or mean) of contiguous x over ``axes``; returns the kept axes' shape."""
    st = contiguous_strides(x.shape)
    kept = [d for d in range(x.ndim) if d not in axes]
    kshape, kst = [x.shape[d] for d in kept], [st[d] for d in kept]
    rshape, rst = [x.shape[d] for d in axes], [st[d] for d in axes]
    R = int(np.prod(rshape, dtype=np.int64))
    n_out = int(np.prod(kshape, dtype=np.int64))
    y = empty(kshape, x.dtype)
    count = x.dtype.type(max(R, 1))
    if R >= TWO_STAGE_MIN and n_out < 64:
        part = empty((n_out, PARTS), x.dtype)
        _sum_partial_kernel[grid_1d(part.size)](flat(x), padded(kshape, 1), padded(kst, 0),
                                               padded(rshape, 1), padded(rst, 0), R, PARTS,
                                               flat(part))
        _sum_forward_kernel[grid_1d(n_out)](flat(part), padded((n_out,), 1), padded((PARTS,), 0),
                                           padded((PARTS,), 1), padded((1,), 0), PARTS,
                                           count, mean, flat(y))
    else:
        _sum_forward_kernel[grid_1d(n_out)](flat(x), padded(kshape, 1), padded(kst, 0),
                                           padded(rshape, 1), padded(rst, 0), R, count,
                                           mean, flat(y))
    return y


def _keep(y, x_shape, axes, keepdims):
    if not keepdims:
        return y
    return y.reshape(tuple(1 if d in axes else n for d, n in enumerate(x_shape)))


def sum_cuda(x, axis=None, keepdims: bool = False):
    """y = sum of x over ``axis`` (None: all), in x's dtype.

    Shape:
        x: any    y: x's shape without ``axis`` (size 1 there when keepdims)
    """
    axes = _axes_tuple(axis, x.ndim)
    return _keep(_reduce(x, axes, False), x.shape, axes, keepdims)


def mean_cuda(x, axis=None, keepdims: bool = False):
    """y = mean of x over ``axis`` (None: all), in x's dtype (the sum divided by the count)."""
    axes = _axes_tuple(axis, x.ndim)
    return _keep(_reduce(x, axes, True), x.shape, axes, keepdims)


def broadcast_to_cuda(x, shape):
    """A contiguous copy of x broadcast to ``shape`` (the adjoint of ``sum_to_shape``)."""
    shape = tuple(shape)
    y = empty(shape, x.dtype)
    strided_copy(flat(x), 0, broadcast_strides(x.shape, shape), flat(y), 0,
                 contiguous_strides(shape), shape)
    return y


def sum_to_shape_cuda(g, shape):
    """Sum g over the axes broadcasting added or stretched, so the result has ``shape``.

    Shape:
        g: (*lead, *shape')    returns: shape
    """
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    return _reduce(g, axes, False).reshape(shape) if shape else _reduce(g, axes, False)


def sum_of_squares_cuda(x) -> float:
    """sum(x^2) accumulated in float64, as a Python float: PARTS strided partial sums on
    the device, added on the host in a fixed order.

    Shape:
        x: any    returns: a float
    """
    part = empty((PARTS,), np.float64)
    _sum_of_squares_partial_kernel[grid_1d(PARTS)](flat(x), PARTS, part)
    return float(np.sum(part.copy_to_host()))
