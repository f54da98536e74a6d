"""Batch normalisation (Ioffe and Szegedy, 2015), forward and backward, as torch's
``native_batch_norm``: per channel c of x (N, C, *), over the M = N * prod(*) values,

    y = (x - mean[c]) * invstd[c] * weight[c] + bias[c],    invstd = 1 / sqrt(var + eps)

Training mode takes mean and the BIASED variance from the batch and, when running buffers
are given, updates them in place with the UNBIASED one (var * M / (M - 1)); eval mode reads
the running buffers. The statistics and the backward's two channel sums are accumulated in
float64 for every input dtype (two passes: the mean, then the squared deviations from it),
so a float32 batch of 10^6 values per channel loses nothing to the sum; every elementwise
step runs in x's dtype. SRGAN/ESRGAN discriminators use it. Read next: ``ops/norm.py``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = ["batch_norm_forward_ref", "batch_norm_backward_ref", "batch_norm_forward_cpu",
           "batch_norm_backward_cpu"]


def _channel(a: np.ndarray, ndim: int) -> np.ndarray:
    """a (C,) reshaped to (1, C, 1, ..., 1), to broadcast against x (N, C, ...)."""
    return a.reshape((1, a.size) + (1,) * (ndim - 2))


def _affine(weight, bias, C: int, dtype):
    """weight and bias in x's dtype; None means weight 1 and bias 0 (affine=False)."""
    w = np.ones(C, dtype) if weight is None else np.asarray(weight).astype(dtype, copy=False)
    b = np.zeros(C, dtype) if bias is None else np.asarray(bias).astype(dtype, copy=False)
    return np.ascontiguousarray(w), np.ascontiguousarray(b)


def _update_running(running_mean, running_var, mean64, var64, M: int, momentum: float):
    """r <- (1 - momentum) r + momentum * batch statistic, in place; var made unbiased."""
    if running_mean is not None:
        running_mean[...] = (1 - momentum) * running_mean + momentum * mean64
    if running_var is not None:
        running_var[...] = (1 - momentum) * running_var + momentum * var64 * (M / (M - 1))


def _eval_stats(running_mean, running_var, eps: float, dtype):
    mean = np.asarray(running_mean).astype(dtype)
    invstd = (1.0 / np.sqrt(np.asarray(running_var, dtype=np.float64) + eps)).astype(dtype)
    return mean, invstd


# --- reference --------------------------------------------------------------------------

def batch_norm_forward_ref(x, weight, bias, running_mean, running_var, training: bool,
                           momentum: float, eps: float):
    """Normalise each channel, then scale and shift it; the readable reference.

    mean[c] = 1/M sum_{n,s} x[n, c, s]          var[c] = 1/M sum_{n,s} (x[n, c, s] - mean[c])^2
    y[n, c, s] = (x[n, c, s] - mean[c]) * invstd[c] * weight[c] + bias[c]

    with (mean, var) from the batch in training mode (the running buffers, if not None, are
    then updated in place: r = (1 - momentum) r + momentum * stat, var unbiased) and the
    running buffers in eval mode. weight or bias None means 1 or 0.

    Shape:
        x: (N, C, *)    weight, bias, running_mean, running_var: (C,) or None
        y: (N, C, *), x's dtype    mean, invstd: (C,), x's dtype (what backward needs)
    """
    C, axes = x.shape[1], (0,) + tuple(range(2, x.ndim))
    M = x.size // C
    if training:
        x64 = x.astype(np.float64)
        mean64 = x64.mean(axis=axes)
        var64 = ((x64 - _channel(mean64, x.ndim)) ** 2).mean(axis=axes)
        _update_running(running_mean, running_var, mean64, var64, M, momentum)
        mean, invstd = mean64.astype(x.dtype), (1.0 / np.sqrt(var64 + eps)).astype(x.dtype)
    else:
        mean, invstd = _eval_stats(running_mean, running_var, eps, x.dtype)
    w, b = _affine(weight, bias, C, x.dtype)
    xhat = (x - _channel(mean, x.ndim)) * _channel(invstd, x.ndim)
    return xhat * _channel(w, x.ndim) + _channel(b, x.ndim), mean, invstd


def batch_norm_backward_ref(dy, x, weight, mean, invstd, training: bool):
    """Gradients of batch norm, with (mean, invstd) as forward returned them.

    xhat = (x - mean) * invstd,  dbias[c] = sum_{n,s} dy,  dweight[c] = sum_{n,s} dy * xhat
    training: dx = invstd * w / M * (M * dy - dbias - xhat * dweight)   (mean, var depend on x)
    eval:     dx = dy * w * invstd                                      (they are constants)

    Shape:
        dy, x, dx: (N, C, *)    weight: (C,) or None    mean, invstd, dweight, dbias: (C,)
    """
    C, axes, nd = x.shape[1], (0,) + tuple(range(2, x.ndim)), x.ndim
    M = x.size // C
    w, _ = _affine(weight, None, C, x.dtype)
    xhat = (x - _channel(mean, nd)) * _channel(invstd, nd)
    dbias = dy.sum(axis=axes, dtype=np.float64).astype(x.dtype)
    dweight = (dy * xhat).sum(axis=axes, dtype=np.float64).astype(x.dtype)
    if training:
        m = x.dtype.type(M)
        dx = _channel(invstd * w / m, nd) * (m * dy - _channel(dbias, nd)
                                             - xhat * _channel(dweight, nd))
    else:
        dx = dy * _channel(w * invstd, nd)
    return dx, dweight, dbias


# --- fast -------------------------------------------------------------------------------
# Arrays are C-contiguous (N, C, L) views, L = prod(*). One thread per channel for the sums
# (it owns its accumulators; no two threads write one output), one per (n, c) plane for y.
# The accumulators are float64 on purpose (see the module docstring), not x.dtype.type(0).

@njit(parallel=True, cache=True)
def _stats_loop(x, mean64, var64):
    N, C, L = x.shape
    M = N * L
    for c in prange(C):
        s = np.float64(0.0)
        for n in range(N):
            for k in range(L):
                s += x[n, c, k]
        m = s / M
        q = np.float64(0.0)
        for n in range(N):
            for k in range(L):
                d = np.float64(x[n, c, k]) - m
                q += d * d
        mean64[c] = m
        var64[c] = q / M


@njit(parallel=True, cache=True)
def _normalize_loop(x, mean, invstd, w, b, y):
    N, C, L = x.shape
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        m, s, wc, bc = mean[c], invstd[c], w[c], b[c]
        for k in range(L):
            y[n, c, k] = (x[n, c, k] - m) * s * wc + bc


@njit(parallel=True, cache=True)
def _backward_loop(dy, x, w, mean, invstd, training, dx, dweight, dbias):
    N, C, L = x.shape
    M = x.dtype.type(N * L)
    for c in prange(C):
        m, s = mean[c], invstd[c]
        s1, s2 = np.float64(0.0), np.float64(0.0)
        for n in range(N):
            for k in range(L):
                s1 += dy[n, c, k]
                s2 += dy[n, c, k] * ((x[n, c, k] - m) * s)
        db, dw = x.dtype.type(s1), x.dtype.type(s2)
        dbias[c], dweight[c] = db, dw
        if training:
            scale = s * w[c] / M
            for n in range(N):
                for k in range(L):
                    xhat = (x[n, c, k] - m) * s
                    dx[n, c, k] = scale * (M * dy[n, c, k] - db - xhat * dw)
        else:
            scale = w[c] * s
            for n in range(N):
                for k in range(L):
                    dx[n, c, k] = dy[n, c, k] * scale


def _planes(t: np.ndarray) -> np.ndarray:
    """(N, C, *) -> (N, C, L) view of a C-contiguous array, L = prod(*) (1 for 2-D x)."""
    return t.reshape(t.shape[0], t.shape[1], math.prod(t.shape[2:]))


def batch_norm_forward_cpu(x, weight, bias, running_mean, running_var, training: bool,
                           momentum: float, eps: float):
    """Same as :func:`batch_norm_forward_ref`: the two statistics passes multi-threaded over
    channels, the normalisation over (n, c) planes.

    Shape:
        x, y: (N, C, *)    weight, bias, running_mean, running_var: (C,) or None
        mean, invstd: (C,)
    """
    x = np.ascontiguousarray(x)
    C = x.shape[1]
    if training:
        mean64, var64 = np.empty(C), np.empty(C)
        _stats_loop(_planes(x), mean64, var64)
        _update_running(running_mean, running_var, mean64, var64, x.size // C, momentum)
        mean, invstd = mean64.astype(x.dtype), (1.0 / np.sqrt(var64 + eps)).astype(x.dtype)
    else:
        mean, invstd = _eval_stats(running_mean, running_var, eps, x.dtype)
    w, b = _affine(weight, bias, C, x.dtype)
    y = np.empty_like(x)
    _normalize_loop(_planes(x), mean, invstd, w, b, _planes(y))
    return y, mean, invstd


def batch_norm_backward_cpu(dy, x, weight, mean, invstd, training: bool):
    """Same as :func:`batch_norm_backward_ref`, one thread per channel (its two sums, then
    its slice of dx).

    Shape:
        dy, x, dx: (N, C, *)    weight: (C,) or None    mean, invstd, dweight, dbias: (C,)
    """
    x, dy = np.ascontiguousarray(x), np.ascontiguousarray(dy)
    C = x.shape[1]
    w, _ = _affine(weight, None, C, x.dtype)
    dx = np.empty_like(x)
    dweight, dbias = np.empty(C, x.dtype), np.empty(C, x.dtype)
    _backward_loop(_planes(dy), _planes(x), w, np.ascontiguousarray(mean, x.dtype),
                   np.ascontiguousarray(invstd, x.dtype), bool(training), _planes(dx),
                   dweight, dbias)
    return dx, dweight, dbias
