"""CUDA batch norm, forward and backward; the CPU twins and the math are in ``kernels/norm.py``.

Channel sums run one block per channel: thread t adds elements t, t + TPB, ... and the
block tree-sums the partials in shared memory (s[t] += s[t + half], a barrier per level):
a fixed order, no atomics. Unlike the CPU twin they stay in x's dtype (the PTX check keeps
float64 out), so the error grows like M / TPB + log2(TPB) ulp, not M. The variance is the
corrected two-pass one, var = (sum d^2 - (sum d)^2 / M) / M with d = x - mean, whose second
term cancels the rounding of the mean to float32. Normalisation and dx are one thread per
element, whose channel is (k // L) % C.
"""
from __future__ import annotations

import math

from numba import cuda

from minisr.kernels.cuda._launch import TPB, empty, flat, grid_1d
from minisr.kernels.cuda.elementwise import full_cuda

__all__ = ["batch_norm_forward_cuda", "batch_norm_backward_cuda"]


@cuda.jit(device=True)
def _block_sum(s, t):
    """Tree-sum the block's shared array s (TPB entries, TPB a power of two) into s[0]."""
    half = TPB // 2
    while half > 0:
        cuda.syncthreads()
        if t < half:
            s[t] += s[t + half]
        half //= 2
    cuda.syncthreads()


@cuda.jit(device=True)
def _block_sum2(s1, s2, t):
    """Tree-sum two shared arrays at once into s1[0] and s2[0] (one barrier per level)."""
    half = TPB // 2
    while half > 0:
        cuda.syncthreads()
        if t < half:
            s1[t] += s1[t + half]
            s2[t] += s2[t + half]
        half //= 2
    cuda.syncthreads()


@cuda.jit
def _batch_norm_stats_kernel(x, C, L, eps, momentum, update, running_mean, running_var,
                             mean, invstd):
    # one block per channel c; x is the raveled (N, C, L) array
    c, t = cuda.blockIdx.x, cuda.threadIdx.x
    s = cuda.shared.array(TPB, dtype=x.dtype)
    s_dev = cuda.shared.array(TPB, dtype=x.dtype)
    M = x.size // C
    zero, one, Mf = x.dtype.type(0), x.dtype.type(1), x.dtype.type(M)
    acc = zero
    for j in range(t, M, TPB):
        acc += x[((j // L) * C + c) * L + j % L]
    s[t] = acc
    _block_sum(s, t)
    m = s[0] / Mf
    cuda.syncthreads()          # every thread has read s[0] before it is overwritten
    acc, acc_dev = zero, zero
    for j in range(t, M, TPB):
        d = x[((j // L) * C + c) * L + j % L] - m
        acc += d * d
        acc_dev += d
    s[t], s_dev[t] = acc, acc_dev
    _block_sum2(s, s_dev, t)
    if t == 0:
        # corrected two-pass (Chan, Golub and LeVeque): sum(d)^2 / M removes the error
        # that rounding the mean to x's dtype adds to sum(d^2)
        var = (s[0] - s_dev[0] * s_dev[0] / Mf) / Mf
        mean[c] = m
        invstd[c] = one / math.sqrt(var + eps)
        if update:
            unbiased = var * (x.dtype.type(M) / x.dtype.type(M - 1))
            running_mean[c] = (one - momentum) * running_mean[c] + momentum * m
            running_var[c] = (one - momentum) * running_var[c] + momentum * unbiased


@cuda.jit
def _batch_norm_eval_stats_kernel(running_mean, running_var, eps, mean, invstd):
    c = cuda.grid(1)
    if c >= mean.size:
        return
    mean[c] = running_mean[c]
    invstd[c] = mean.dtype.type(1) / math.sqrt(running_var[c] + eps)


@cuda.jit
def _batch_norm_forward_kernel(x, mean, invstd, w, b, C, L, y):
    k = cuda.grid(1)
    if k >= y.size:
        return
    c = (k // L) % C
    y[k] = (x[k] - mean[c]) * invstd[c] * w[c] + b[c]


@cuda.jit
def _batch_norm_backward_reduce_kernel(dy, x, mean, invstd, C, L, dweight, dbias):
    # one block per channel: dbias = sum dy, dweight = sum dy * xhat, two trees at once
    c, t = cuda.blockIdx.x, cuda.threadIdx.x
    s1 = cuda.shared.array(TPB, dtype=x.dtype)
    s2 = cuda.shared.array(TPB, dtype=x.dtype)
    M = x.size // C
    m, sd = mean[c], invstd[c]
    a1, a2 = x.dtype.type(0), x.dtype.type(0)
    for j in range(t, M, TPB):
        i = ((j // L) * C + c) * L + j % L
        a1 += dy[i]
        a2 += dy[i] * ((x[i] - m) * sd)
    s1[t], s2[t] = a1, a2
    _block_sum2(s1, s2, t)
    if t == 0:
        dbias[c], dweight[c] = s1[0], s2[0]


@cuda.jit
def _batch_norm_backward_input_kernel(dy, x, w, mean, invstd, dweight, dbias, C, L, training,
                                      dx):
    k = cuda.grid(1)
    if k >= dx.size:
        return
    c = (k // L) % C
    if training:
        M = x.dtype.type(x.size // C)
        xhat = (x[k] - mean[c]) * invstd[c]
        dx[k] = invstd[c] * w[c] / M * (M * dy[k] - dbias[c] - xhat * dweight[c])
    else:
        dx[k] = dy[k] * (w[c] * invstd[c])


def _c_and_l(x):
    C = x.shape[1]
    return C, max(x.size // max(x.shape[0] * C, 1), 1)


def batch_norm_forward_cuda(x, weight, bias, running_mean, running_var, training: bool,
                            momentum: float, eps: float):
    """Same as ``batch_norm_forward_ref``: statistics by one block per channel (tree sums),
    the running buffers updated in place on the device, y one thread per element.

    Shape:
        x, y: (N, C, *)    weight, bias, running_mean, running_var: (C,) or None
        mean, invstd: (C,)
    """
    C, L = _c_and_l(x)
    dt = x.dtype.type
    mean, invstd = empty((C,), x.dtype), empty((C,), x.dtype)
    if training:
        update = running_mean is not None and running_var is not None
        rm = running_mean if update else mean      # unused placeholders when not updating
        rv = running_var if update else invstd
        _batch_norm_stats_kernel[C, TPB](flat(x), C, L, dt(eps), dt(momentum), update, rm, rv,
                                         mean, invstd)
    else:
        _batch_norm_eval_stats_kernel[grid_1d(C)](running_mean, running_var, dt(eps), mean,
                                                  invstd)
    w = full_cuda((C,), 1, x.dtype) if weight is None else weight
    b = full_cuda((C,), 0, x.dtype) if bias is None else bias
    y = empty(x.shape, x.dtype)
    _batch_norm_forward_kernel[grid_1d(y.size)](flat(x), mean, invstd, w, b, C, L, flat(y))
    return y, mean, invstd


def batch_norm_backward_cuda(dy, x, weight, mean, invstd, training: bool):
    """Same as ``batch_norm_backward_ref``: dweight and dbias by one block per channel,
    dx one thread per element.

    Shape:
        dy, x, dx: (N, C, *)    weight: (C,) or None    mean, invstd, dweight, dbias: (C,)
    """
    C, L = _c_and_l(x)
    dweight, dbias = empty((C,), x.dtype), empty((C,), x.dtype)
    _batch_norm_backward_reduce_kernel[C, TPB](flat(dy), flat(x), mean, invstd, C, L,
                                               dweight, dbias)
    w = full_cuda((C,), 1, x.dtype) if weight is None else weight
    dx = empty(x.shape, x.dtype)
    _batch_norm_backward_input_kernel[grid_1d(dx.size)](flat(dy), flat(x), w, mean, invstd,
                                                        dweight, dbias, C, L, bool(training),
                                                        flat(dx))
    return dx, dweight, dbias
