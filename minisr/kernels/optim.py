"""Optimizer updates: SGD (momentum, dampening, Nesterov, weight decay) and Adam / AdamW.

Each step updates a parameter and its state buffers in place, with PyTorch's semantics so
that its documentation (torch.optim.SGD, Adam, AdamW) describes these too. Adam is Kingma
& Ba (2015); AdamW's decoupled weight decay is Loshchilov & Hutter (2019). The ``_ref``
functions are the formulas as whole-array NumPy statements; the ``_cpu`` functions do the
same arithmetic, in the same order and dtype, in one fused multi-threaded pass over the
raveled arrays; the per-element math is ``_shared.sgd_update`` / ``adam_update``, which the
CUDA kernels call too. Read next: ``optim.py`` (the optimizer classes that own the state).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from minisr.kernels._shared import adam_update, sgd_update

__all__ = ["sgd_step_ref", "adam_step_ref", "sgd_step_cpu", "adam_step_cpu"]


# --- reference --------------------------------------------------------------------------

def sgd_step_ref(p: np.ndarray, g: np.ndarray, buf: np.ndarray, lr: float, momentum: float,
                 dampening: float, weight_decay: float, nesterov: bool,
                 first_step: bool) -> None:
    """One SGD step, in place on p and buf (torch.optim.SGD).

    g'  = g + weight_decay * p
    buf = g'                                          on the first step
    buf = momentum * buf + (1 - dampening) * g'       afterwards
    d   = g' + momentum * buf if nesterov else buf    (d = g' when momentum == 0)
    p   = p - lr * d

    Shape:
        p, g, buf: any, all the same shape and dtype (buf is untouched if momentum == 0)
    """
    if weight_decay != 0:
        g = g + weight_decay * p
    if momentum != 0:
        if first_step:
            buf[...] = g
        else:
            buf *= momentum
            buf += (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    p -= lr * g


def adam_step_ref(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, lr: float,
                  beta1: float, beta2: float, eps: float, weight_decay: float, step: int,
                  decoupled: bool) -> None:
    """One Adam (decoupled=False) or AdamW (decoupled=True) step, in place on p, m, v.

    AdamW:  p  = p * (1 - lr * weight_decay)        Adam:  g' = g + weight_decay * p
    m     = beta1 * m + (1 - beta1) * g'
    v     = beta2 * v + (1 - beta2) * g'^2
    m_hat = m / (1 - beta1^step)                    (bias corrections; step counts from 1)
    v_hat = v / (1 - beta2^step)
    p     = p - lr * m_hat / (sqrt(v_hat) + eps)

    Shape:
        p, g, m, v: any, all the same shape and dtype

    References
    ----------
    Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
    Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
    """
    if decoupled:
        p *= 1 - lr * weight_decay
    elif weight_decay != 0:
        g = g + weight_decay * p
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** step)
    v_hat = v / (1 - beta2 ** step)
    p -= lr * m_hat / (np.sqrt(v_hat) + eps)


# --- fast -------------------------------------------------------------------------------
# The wrappers turn every scalar into the parameters' dtype before the loop, and compute
# combined constants such as 1 - dampening in Python floats first, exactly as NumPy does
# for the reference. A Python float inside a float32 loop would run it in float64.

@njit(parallel=True, cache=True)
def _sgd_step_loop(p, g, buf, lr, momentum, damp_keep, weight_decay, use_momentum,
                   use_decay, nesterov, first_step):
    for k in prange(p.size):
        p[k], buf_k = sgd_update(p[k], g[k], buf[k] if use_momentum else p[k], lr, momentum,
                                 damp_keep, weight_decay, use_momentum, use_decay, nesterov,
                                 first_step)
        if use_momentum:
            buf[k] = buf_k


@njit(parallel=True, cache=True)
def _adam_step_loop(p, g, m, v, lr, beta1, beta2, eps, weight_decay, decay_keep,
                    one_m_b1, one_m_b2, bc1, bc2, use_decay, decoupled):
    for k in prange(p.size):
        p[k], m[k], v[k] = adam_update(p[k], g[k], m[k], v[k], lr, beta1, beta2, eps,
                                       weight_decay, decay_keep, one_m_b1, one_m_b2, bc1,
                                       bc2, use_decay, decoupled)


def _flat_views(*arrays):
    for t in arrays:
        # ravel() of a non-contiguous array is a copy: the update would be silently lost.
        assert t.flags.c_contiguous, "optimizer kernels update C-contiguous arrays in place"
    return [t.ravel() for t in arrays]


def sgd_step_cpu(p: np.ndarray, g: np.ndarray, buf: np.ndarray, lr: float, momentum: float,
                 dampening: float, weight_decay: float, nesterov: bool,
                 first_step: bool) -> None:
    """Same as :func:`sgd_step_ref`, fused into one pass over the elements.

    Shape:
        p, g, buf: any, all the same shape and dtype; p and buf C-contiguous
    """
    t = p.dtype.type
    g = np.ascontiguousarray(g).ravel()  # read only, so a copy is harmless
    p, buf = _flat_views(p, buf)
    _sgd_step_loop(p, g, buf, t(lr), t(momentum), t(1 - dampening), t(weight_decay),
                   bool(momentum != 0), bool(weight_decay != 0), bool(nesterov), bool(first_step))


def adam_step_cpu(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, lr: float,
                  beta1: float, beta2: float, eps: float, weight_decay: float, step: int,
                  decoupled: bool) -> None:
    """Same as :func:`adam_step_ref`, fused into one pass over the elements.

    Shape:
        p, g, m, v: any, all the same shape and dtype; p, m and v C-contiguous
    """
    t = p.dtype.type
    g = np.ascontiguousarray(g).ravel()  # read only, so a copy is harmless
    p, m, v = _flat_views(p, m, v)
    _adam_step_loop(p, g, m, v, t(lr), t(beta1), t(beta2), t(eps),
                    t(weight_decay), t(1 - lr * weight_decay), t(1 - beta1), t(1 - beta2),
                    t(1 - beta1 ** step), t(1 - beta2 ** step), bool(weight_decay != 0),
                    bool(decoupled))
