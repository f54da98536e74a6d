"""CUDA activations, forward and backward: ReLU, leaky ReLU, PReLU, tanh, sigmoid, softplus. The CPU
twins (and the math, with PyTorch's conventions at the kinks) are in ``kernels/activation.py``.

One thread per element of the raveled array; PReLU finds its channel as (k // L) % C. PReLU's
slope gradient is a reduction: the per-element terms x * dy (x <= 0) are written by one
kernel and summed over (N, spatial) by ``reduce.sum_cuda`` (two-stage, no atomics).
Constants are made in the array's dtype, so float32 kernels compile without float64.
"""
from __future__ import annotations

import math

from numba import cuda

from minisr.kernels.cuda._launch import empty, flat, grid_1d
from minisr.kernels.cuda.reduce import sum_cuda

__all__ = ["relu_forward_cuda", "relu_backward_cuda", "leaky_relu_forward_cuda",
           "leaky_relu_backward_cuda", "prelu_forward_cuda", "prelu_backward_cuda",
           "tanh_forward_cuda", "tanh_backward_cuda", "sigmoid_forward_cuda",
           "sigmoid_backward_cuda", "softplus_forward_cuda", "softplus_backward_cuda"]


@cuda.jit
def _relu_forward_kernel(x, y):
    k = cuda.grid(1)
    if k >= y.size:
        return
    zero = x.dtype.type(0)
    y[k] = zero if x[k] <= zero else x[k]


@cuda.jit
def _relu_backward_kernel(x, dy, dx):
    k = cuda.grid(1)
    if k >= dx.size:
        return
    zero = x.dtype.type(0)
    dx[k] = dy[k] if x[k] > zero else zero


@cuda.jit
def _leaky_relu_forward_kernel(x, s, y):
    k = cuda.grid(1)
    if k >= y.size:
        return
    y[k] = x[k] if x[k] > x.dtype.type(0) else s * x[k]


@cuda.jit
def _leaky_relu_backward_kernel(x, dy, s, dx):
    k = cuda.grid(1)
    if k >= dx.size:
        return
    dx[k] = dy[k] if x[k] > x.dtype.type(0) else s * dy[k]


@cuda.jit
def _prelu_forward_kernel(x, a, C, L, y):
    k = cuda.grid(1)
    if k >= y.size:
        return
    ac = a[0] if a.size == 1 else a[(k // L) % C]
    y[k] = x[k] if x[k] > x.dtype.type(0) else ac * x[k]


@cuda.jit
def _prelu_backward_kernel(x, a, dy, C, L, dx, contrib):
    k = cuda.grid(1)
    if k >= dx.size:
        return
    zero = x.dtype.type(0)
    ac = a[0] if a.size == 1 else a[(k // L) % C]
    if x[k] > zero:
        dx[k] = dy[k]
        contrib[k] = zero
    else:
        dx[k] = ac * dy[k]
        contrib[k] = x[k] * dy[k]


@cuda.jit
def _tanh_forward_kernel(x, y):
    k = cuda.grid(1)
    if k >= y.size:
        return
    y[k] = math.tanh(x[k])


@cuda.jit
def _tanh_backward_kernel(y, dy, dx):
    k = cuda.grid(1)
    if k >= dx.size:
        return
    dx[k] = dy[k] * (y.dtype.type(1) - y[k] * y[k])


@cuda.jit
def _sigmoid_forward_kernel(x, y):
    k = cuda.grid(1)
    if k >= y.size:
        return
    zero, one = x.dtype.type(0), x.dtype.type(1)
    e = math.exp(-abs(x[k]))
    y[k] = one / (one + e) if x[k] >= zero else e / (one + e)


@cuda.jit
def _sigmoid_backward_kernel(y, dy, dx):
    k = cuda.grid(1)
    if k >= dx.size:
        return
    dx[k] = dy[k] * y[k] * (y.dtype.type(1) - y[k])


@cuda.jit
def _softplus_forward_kernel(x, y):
    k = cuda.grid(1)
    if k >= y.size:
        return
    zero = x.dtype.type(0)
    y[k] = max(x[k], zero) + math.log1p(math.exp(-abs(x[k])))


@cuda.jit
def _softplus_backward_kernel(x, dy, dx):
    k = cuda.grid(1)
    if k >= dx.size:
        return
    zero, one = x.dtype.type(0), x.dtype.type(1)
    e = math.exp(-abs(x[k]))
    dx[k] = dy[k] * (one / (one + e) if x[k] >= zero else e / (one + e))


def _map(kernel, first, *args):
    out = empty(first.shape, first.dtype)
    kernel[grid_1d(max(out.size, 1))](*args, flat(out))
    return out


def relu_forward_cuda(x):
    """y = max(x, 0). Shape: x, y any, equal."""
    return _map(_relu_forward_kernel, x, flat(x))


def relu_backward_cuda(x, dy):
    """dx = dy where x > 0, else 0. Shape: x, dy, dx equal."""
    return _map(_relu_backward_kernel, dy, flat(x), flat(dy))


def leaky_relu_forward_cuda(x, negative_slope: float):
    """y = x if x > 0 else slope * x. Shape: x, y equal."""
    return _map(_leaky_relu_forward_kernel, x, flat(x), x.dtype.type(negative_slope))


def leaky_relu_backward_cuda(x, dy, negative_slope: float):
    """dx = dy if x > 0 else slope * dy. Shape: x, dy, dx equal."""
    return _map(_leaky_relu_backward_kernel, dy, flat(x), flat(dy),
                dy.dtype.type(negative_slope))


def _c_and_l(x):
    C = x.shape[1] if x.ndim > 1 else 1
    return C, max(x.size // max(x.shape[0] * C, 1), 1)


def prelu_forward_cuda(x, a):
    """y = x if x > 0 else a[c] * x (c = axis 1).

    Shape:
        x: (N, C, *)    a: (C,) or (1,)    y: (N, C, *)
    """
    C, L = _c_and_l(x)
    return _map(_prelu_forward_kernel, x, flat(x), a, C, L)


def prelu_backward_cuda(x, a, dy):
    """dx = dy if x > 0 else a[c] dy;  da[c] = sum_{n, spatial} (x <= 0) x dy.

    Shape:
        x, dy, dx: (N, C, *)    a, da: (C,) or (1,)
    """
    C, L = _c_and_l(x)
    dx, contrib = empty(x.shape, x.dtype), empty(x.shape, x.dtype)
    _prelu_backward_kernel[grid_1d(dx.size)](flat(x), a, flat(dy), C, L, flat(dx),
                                            flat(contrib))
    axes = None if a.size == 1 else tuple(d for d in range(x.ndim) if d != 1)
    da = sum_cuda(contrib, axis=axes)
    return dx, da.reshape(a.shape)


def tanh_forward_cuda(x):
    """y = tanh(x)."""
    return _map(_tanh_forward_kernel, x, flat(x))


def tanh_backward_cuda(y, dy):
    """dx = dy (1 - y^2), from the output y."""
    return _map(_tanh_backward_kernel, dy, flat(y), flat(dy))


def sigmoid_forward_cuda(x):
    """y = 1 / (1 + exp(-x)), without overflow (see the CPU twin)."""
    return _map(_sigmoid_forward_kernel, x, flat(x))


def sigmoid_backward_cuda(y, dy):
    """dx = dy y (1 - y), from the output y."""
    return _map(_sigmoid_backward_kernel, dy, flat(y), flat(dy))


def softplus_forward_cuda(x):
    """y = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), without overflow."""
    return _map(_softplus_forward_kernel, x, flat(x))


def softplus_backward_cuda(x, dy):
    """dx = dy sigmoid(x), from the input x."""
    return _map(_softplus_backward_kernel, dy, flat(x), flat(dy))
