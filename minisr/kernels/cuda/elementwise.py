"""CUDA elementwise ops: add, sub, mul, div with NumPy broadcasting; neg, abs, sign, sqrt,
pow; full. The CPU twins are in ``kernels/elementwise.py``.

One thread per output element. A binary kernel unravels its flat index over the output shape
(padded to ``ND`` axes) and reads each operand through broadcast strides (0 on stretched
axes), so one compiled kernel serves every rank and every broadcast pattern; the arithmetic
is ``_shared.binary_op``, the CPU loop's.
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda

from minisr.kernels.cuda._launch import (ND, broadcast_strides, device, empty, flat, grid_1d,
                                         padded)
from minisr.kernels._shared import ADD, DIV, MUL, SUB, binary_op

__all__ = ["add_cuda", "sub_cuda", "mul_cuda", "div_cuda", "neg_cuda", "abs_cuda",
           "sign_cuda", "sqrt_cuda", "pow_cuda", "full_cuda"]

_NEG, _ABS, _SIGN, _SQRT, _POW = 0, 1, 2, 3, 4


@cuda.jit
def _binary_forward_kernel(op, a, sa, b, sb, y, shape):
    k = cuda.grid(1)
    if k >= y.size:
        return
    ia, ib, rem = 0, 0, k
    for d in range(ND - 1, -1, -1):
        i = rem % shape[d]
        rem //= shape[d]
        ia += i * sa[d]
        ib += i * sb[d]
    y[k] = binary_op(op, a[ia], b[ib])


@cuda.jit
def _unary_forward_kernel(op, x, p, y):
    k = cuda.grid(1)
    if k >= y.size:
        return
    v = x[k]
    zero, one = x.dtype.type(0), x.dtype.type(1)
    if op == _NEG:
        y[k] = -v
    elif op == _ABS:
        y[k] = abs(v)
    elif op == _SIGN:
        y[k] = one if v > zero else (-one if v < zero else zero)
    elif op == _SQRT:
        y[k] = math.sqrt(v)
    else:
        y[k] = math.pow(v, p)


@cuda.jit
def _full_forward_kernel(value, y):
    k = cuda.grid(1)
    if k >= y.size:
        return
    y[k] = value


def _binary(op: int, a, b):
    a, b = device(a), device(b)
    dtype = np.result_type(a.dtype, b.dtype)
    out_shape = np.broadcast_shapes(a.shape, b.shape)
    y = empty(out_shape, dtype)
    n = max(y.size, 1)
    _binary_forward_kernel[grid_1d(n)](op, flat(a), broadcast_strides(a.shape, out_shape),
                                      flat(b), broadcast_strides(b.shape, out_shape),
                                      flat(y), padded(out_shape, 1))
    return y


def _unary(op: int, x, p: float = 0.0):
    y = empty(x.shape, x.dtype)
    _unary_forward_kernel[grid_1d(max(x.size, 1))](op, flat(x), x.dtype.type(p), flat(y))
    return y


def add_cuda(a, b):
    """y = a + b with broadcasting. Shape: a, b broadcastable -> y: broadcast shape."""
    return _binary(ADD, a, b)


def sub_cuda(a, b):
    """y = a - b with broadcasting."""
    return _binary(SUB, a, b)


def mul_cuda(a, b):
    """y = a * b with broadcasting."""
    return _binary(MUL, a, b)


def div_cuda(a, b):
    """y = a / b with broadcasting."""
    return _binary(DIV, a, b)


def neg_cuda(x):
    """y = -x."""
    return _unary(_NEG, x)


def abs_cuda(x):
    """y = |x|."""
    return _unary(_ABS, x)


def sign_cuda(x):
    """y = sign(x) in {-1, 0, 1}, x's dtype."""
    return _unary(_SIGN, x)


def sqrt_cuda(x):
    """y = sqrt(x)."""
    return _unary(_SQRT, x)


def pow_cuda(x, p: float):
    """y = x ** p for a scalar p, computed in x's dtype."""
    return _unary(_POW, x, p)


def full_cuda(shape, value: float, dtype):
    """A new device array of ``shape`` (may be ()) holding ``value``."""
    dtype = np.dtype(dtype)
    y = empty(shape, dtype)
    _full_forward_kernel[grid_1d(max(y.size, 1))](dtype.type(value), flat(y))
    return y
