"""Activations: ReLU, leaky ReLU, PReLU, tanh, sigmoid and softplus, forward and backward.

ReLU is the nonlinearity of SRCNN, ESPCN's hidden layers use tanh, and FSRCNN uses PReLU
(He et al., 2015): a leaky ReLU whose negative slope is learned per channel (or shared).
Every backward takes what PyTorch saves: the input x for the piecewise-linear ones, the
output y for tanh and sigmoid, whose derivatives are cheapest in terms of y; softplus,
log(1 + exp(x)), the log-likelihood inside every GAN loss, saves x. At a kink
(x = 0) the derivative is taken from the negative side, as PyTorch does. The ``_cpu``
loops are elementwise over the raveled array, except PReLU's, which needs the channel.
Read next: ``ops/activation.py``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = ["relu_forward_ref", "relu_backward_ref", "leaky_relu_forward_ref",
           "leaky_relu_backward_ref", "prelu_forward_ref", "prelu_backward_ref", "tanh_forward_ref",
           "tanh_backward_ref", "sigmoid_forward_ref", "sigmoid_backward_ref", "relu_forward_cpu",
           "relu_backward_cpu", "leaky_relu_forward_cpu", "leaky_relu_backward_cpu",
           "prelu_forward_cpu", "prelu_backward_cpu", "tanh_forward_cpu", "tanh_backward_cpu",
           "sigmoid_forward_cpu", "sigmoid_backward_cpu", "softplus_forward_ref",
           "softplus_backward_ref", "softplus_forward_cpu", "softplus_backward_cpu"]


def _channel_view(a: np.ndarray, ndim: int) -> np.ndarray:
    """a (C,) or (1,) reshaped to (1, C, 1, ..., 1), to broadcast against x (N, C, ...)."""
    return a.reshape((1, a.size) + (1,) * (ndim - 2))


# --- reference --------------------------------------------------------------------------

def relu_forward_ref(x: np.ndarray) -> np.ndarray:
    """y = max(x, 0); NaN passes through, as in torch.relu.

    Shape:
        x: any    y: same as x, same dtype
    """
    return np.where(x <= 0, x.dtype.type(0), x)


def relu_backward_ref(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dx = dy where x > 0, else 0 (0 at x = 0).

    Shape:
        x, dy, dx: same shape
    """
    return np.where(x > 0, dy, dy.dtype.type(0))


def leaky_relu_forward_ref(x: np.ndarray, negative_slope: float) -> np.ndarray:
    """y = x if x > 0 else negative_slope * x.

    Shape:
        x: any    y: same as x, same dtype
    """
    return np.where(x > 0, x, x.dtype.type(negative_slope) * x)


def leaky_relu_backward_ref(x: np.ndarray, dy: np.ndarray, negative_slope: float) -> np.ndarray:
    """dx = dy if x > 0 else negative_slope * dy.

    Shape:
        x, dy, dx: same shape
    """
    return np.where(x > 0, dy, dy.dtype.type(negative_slope) * dy)


def prelu_forward_ref(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Parametric ReLU: y = x if x > 0 else a[c] * x, with c the channel (axis 1).

    Shape:
        x: (N, C, *)    a: (C,) one slope per channel, or (1,) shared
        y: (N, C, *), same dtype as x

    References
    ----------
    He et al., "Delving Deep into Rectifiers: Surpassing Human-Level Performance on
    ImageNet Classification", ICCV 2015.
    """
    ab = _channel_view(a.astype(x.dtype, copy=False), x.ndim)
    return np.where(x > 0, x, ab * x)


def prelu_backward_ref(x: np.ndarray, a: np.ndarray, dy: np.ndarray):
    """Gradients of PReLU.

    dx[n, c, ...] = dy if x > 0 else a[c] * dy
    da[c]         = sum_{n, ...} (x if x <= 0 else 0) * dy     (da[0] sums over c too if shared)

    Shape:
        x, dy, dx: (N, C, *)    a, da: (C,) or (1,)
    """
    ab = _channel_view(a.astype(x.dtype, copy=False), x.ndim)
    dx = np.where(x > 0, dy, ab * dy)
    contrib = np.where(x > 0, x.dtype.type(0), x * dy)
    da = np.empty(a.shape, dtype=x.dtype)
    if a.size == 1:
        da[0] = contrib.sum()
    else:
        for c in range(a.size):
            da[c] = contrib[:, c].sum()
    return dx, da


def tanh_forward_ref(x: np.ndarray) -> np.ndarray:
    """y = tanh(x).

    Shape:
        x: any    y: same as x, same dtype
    """
    return np.tanh(x)


def tanh_backward_ref(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dx = dy * (1 - y^2), from the OUTPUT y = tanh(x).

    Shape:
        y, dy, dx: same shape
    """
    return dy * (1 - y * y)


def sigmoid_forward_ref(x: np.ndarray) -> np.ndarray:
    """y = 1 / (1 + exp(-x)), evaluated without overflow.

    With e = exp(-|x|) in (0, 1]: y = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0,
    which is the same function but never exponentiates a large positive number.

    Shape:
        x: any    y: same as x, same dtype
    """
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward_ref(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dx = dy * y * (1 - y), from the OUTPUT y = sigmoid(x).

    Shape:
        y, dy, dx: same shape
    """
    return dy * y * (1 - y)


def softplus_forward_ref(x: np.ndarray) -> np.ndarray:
    """y = log(1 + exp(x)), evaluated without overflow as max(x, 0) + log1p(exp(-|x|)).

    GAN losses are softplus of logits: -log(sigmoid(z)) = softplus(-z) and
    -log(1 - sigmoid(z)) = softplus(z) (torch's ``binary_cross_entropy_with_logits``).

    Shape:
        x: any    y: same as x, same dtype
    """
    return np.maximum(x, x.dtype.type(0)) + np.log1p(np.exp(-np.abs(x)))


def softplus_backward_ref(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dx = dy * sigmoid(x), from the INPUT x (d/dx log(1 + e^x) = e^x / (1 + e^x)).

    Shape:
        x, dy, dx: same shape
    """
    return dy * sigmoid_forward_ref(x)


# --- fast -------------------------------------------------------------------------------
# Each loop reads and writes raveled C-contiguous arrays; constants are made in the array's
# dtype (`one = x.dtype.type(1)`): a bare `1 - y` would compute a float32 loop in float64.

@njit(parallel=True, cache=True)
def _relu_forward_loop(x, y):
    zero = x.dtype.type(0)
    for k in prange(x.size):
        y[k] = zero if x[k] <= zero else x[k]


@njit(parallel=True, cache=True)
def _relu_backward_loop(x, dy, dx):
    zero = x.dtype.type(0)
    for k in prange(x.size):
        dx[k] = dy[k] if x[k] > zero else zero


@njit(parallel=True, cache=True)
def _leaky_relu_forward_loop(x, s, y):
    zero = x.dtype.type(0)
    for k in prange(x.size):
        y[k] = x[k] if x[k] > zero else s * x[k]


@njit(parallel=True, cache=True)
def _leaky_relu_backward_loop(x, dy, s, dx):
    zero = x.dtype.type(0)
    for k in prange(x.size):
        dx[k] = dy[k] if x[k] > zero else s * dy[k]


@njit(parallel=True, cache=True)
def _prelu_forward_loop(x, a, y):
    # x, y: (N, C, L) with L the flattened spatial size; a: (C,) or (1,).
    N, C, L = x.shape
    zero = x.dtype.type(0)
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        ac = a[0] if a.size == 1 else a[c]
        for k in range(L):
            v = x[n, c, k]
            y[n, c, k] = v if v > zero else ac * v


@njit(parallel=True, cache=True)
def _prelu_backward_loop(x, a, dy, dx, da_c):
    # da_c[c] is the slope gradient of channel c; the wrapper sums it when a is shared.
    N, C, L = x.shape
    zero = x.dtype.type(0)
    for c in prange(C):
        ac = a[0] if a.size == 1 else a[c]
        acc = zero
        for n in range(N):
            for k in range(L):
                v = x[n, c, k]
                if v > zero:
                    dx[n, c, k] = dy[n, c, k]
                else:
                    dx[n, c, k] = ac * dy[n, c, k]
                    acc += v * dy[n, c, k]
        da_c[c] = acc


@njit(parallel=True, cache=True)
def _tanh_backward_loop(y, dy, dx):
    one = y.dtype.type(1)
    for k in prange(y.size):
        dx[k] = dy[k] * (one - y[k] * y[k])


@njit(parallel=True, cache=True)
def _sigmoid_forward_loop(x, y):
    zero, one = x.dtype.type(0), x.dtype.type(1)
    for k in prange(x.size):
        e = np.exp(-np.abs(x[k]))
        y[k] = one / (one + e) if x[k] >= zero else e / (one + e)


@njit(parallel=True, cache=True)
def _sigmoid_backward_loop(y, dy, dx):
    one = y.dtype.type(1)
    for k in prange(y.size):
        dx[k] = dy[k] * y[k] * (one - y[k])


@njit(parallel=True, cache=True)
def _softplus_forward_loop(x, y):
    zero = x.dtype.type(0)
    for k in prange(x.size):
        y[k] = max(x[k], zero) + np.log1p(np.exp(-np.abs(x[k])))


@njit(parallel=True, cache=True)
def _softplus_backward_loop(x, dy, dx):
    zero, one = x.dtype.type(0), x.dtype.type(1)
    for k in prange(x.size):
        e = np.exp(-np.abs(x[k]))
        dx[k] = dy[k] * (one / (one + e) if x[k] >= zero else e / (one + e))


def _contiguous(*arrays):
    return [np.ascontiguousarray(t) for t in arrays]


def _planes(t: np.ndarray) -> np.ndarray:
    """(N, C, *) -> (N, C, L) view of a C-contiguous array, L = prod(*) (1 for 2-D x)."""
    return t.reshape(t.shape[0], t.shape[1], math.prod(t.shape[2:]))


def relu_forward_cpu(x: np.ndarray) -> np.ndarray:
    """Same as :func:`relu_forward_ref`, one multi-threaded pass. Shape: x, y any, equal."""
    (x,) = _contiguous(x)
    y = np.empty_like(x)
    _relu_forward_loop(x.ravel(), y.ravel())
    return y


def relu_backward_cpu(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Same as :func:`relu_backward_ref`. Shape: x, dy, dx equal."""
    x, dy = _contiguous(x, dy)
    dx = np.empty_like(dy)
    _relu_backward_loop(x.ravel(), dy.ravel(), dx.ravel())
    return dx


def leaky_relu_forward_cpu(x: np.ndarray, negative_slope: float) -> np.ndarray:
    """Same as :func:`leaky_relu_forward_ref`. Shape: x, y any, equal."""
    (x,) = _contiguous(x)
    y = np.empty_like(x)
    _leaky_relu_forward_loop(x.ravel(), x.dtype.type(negative_slope), y.ravel())
    return y


def leaky_relu_backward_cpu(x: np.ndarray, dy: np.ndarray, negative_slope: float) -> np.ndarray:
    """Same as :func:`leaky_relu_backward_ref`. Shape: x, dy, dx equal."""
    x, dy = _contiguous(x, dy)
    dx = np.empty_like(dy)
    _leaky_relu_backward_loop(x.ravel(), dy.ravel(), dy.dtype.type(negative_slope), dx.ravel())
    return dx


def prelu_forward_cpu(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Same as :func:`prelu_forward_ref`, multi-threaded over (n, c) planes.

    Shape:
        x: (N, C, *)    a: (C,) or (1,)    y: (N, C, *)
    """
    x, a = _contiguous(x, a.astype(x.dtype, copy=False))
    y = np.empty_like(x)
    _prelu_forward_loop(_planes(x), a, _planes(y))
    return y


def prelu_backward_cpu(x: np.ndarray, a: np.ndarray, dy: np.ndarray):
    """Same as :func:`prelu_backward_ref`, multi-threaded over channels.

    Each thread owns one channel c: it writes dx[:, c] and sums da[c] in x's dtype. The sums
    run in a different order from NumPy's pairwise ``sum``, so float32 da agrees with the
    reference to rounding, not bit for bit.

    Shape:
        x, dy, dx: (N, C, *)    a, da: (C,) or (1,)
    """
    x, a_x, dy = _contiguous(x, a.astype(x.dtype, copy=False), dy)
    dx = np.empty_like(dy)
    da_c = np.empty(x.shape[1], dtype=x.dtype)
    _prelu_backward_loop(_planes(x), a_x, _planes(dy), _planes(dx), da_c)
    da = da_c.sum(keepdims=True) if a.size == 1 else da_c
    return dx, da.reshape(a.shape)


def tanh_forward_cpu(x: np.ndarray) -> np.ndarray:
    """Same as :func:`tanh_forward_ref`: NumPy's SIMD ``tanh`` is the fast path.

    A Numba loop calls libm's scalar ``tanhf`` per element and does not vectorise: on a
    1x64x512x512 float32 input it took 0.251 s against 0.026 s for ``np.tanh`` (two
    threads vs one; ESPCN's forward on 512x512 spent half its time there).
    """
    return np.tanh(x)


def tanh_backward_cpu(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Same as :func:`tanh_backward_ref`. Shape: y, dy, dx equal."""
    y, dy = _contiguous(y, dy)
    dx = np.empty_like(dy)
    _tanh_backward_loop(y.ravel(), dy.ravel(), dx.ravel())
    return dx


def sigmoid_forward_cpu(x: np.ndarray) -> np.ndarray:
    """Same as :func:`sigmoid_forward_ref` (to an ulp: libm's exp, not NumPy's)."""
    (x,) = _contiguous(x)
    y = np.empty_like(x)
    _sigmoid_forward_loop(x.ravel(), y.ravel())
    return y


def sigmoid_backward_cpu(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Same as :func:`sigmoid_backward_ref`. Shape: y, dy, dx equal."""
    y, dy = _contiguous(y, dy)
    dx = np.empty_like(dy)
    _sigmoid_backward_loop(y.ravel(), dy.ravel(), dx.ravel())
    return dx


def softplus_forward_cpu(x: np.ndarray) -> np.ndarray:
    """Same as :func:`softplus_forward_ref` (to an ulp: libm's log1p/exp). Shape: x, y equal."""
    (x,) = _contiguous(x)
    y = np.empty_like(x)
    _softplus_forward_loop(x.ravel(), y.ravel())
    return y


def softplus_backward_cpu(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Same as :func:`softplus_backward_ref`. Shape: x, dy, dx equal."""
    x, dy = _contiguous(x, dy)
    dx = np.empty_like(dy)
    _softplus_backward_loop(x.ravel(), dy.ravel(), dx.ravel())
    return dx
