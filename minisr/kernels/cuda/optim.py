"""CUDA optimizer updates: SGD and Adam/AdamW, in place on the parameter and its state. The
arithmetic, order and dtype are those of the CPU twins' loops (``kernels/optim.py``), one
thread per element; the wrappers turn every scalar into the parameter's dtype first.
"""
from __future__ import annotations

import math

from numba import cuda

from minisr.kernels.cuda._launch import flat, grid_1d

__all__ = ["sgd_step_cuda", "adam_step_cuda"]


@cuda.jit
def _sgd_step_kernel(p, g, buf, lr, momentum, damp_keep, weight_decay, nesterov, first_step):
    k = cuda.grid(1)
    if k >= p.size:
        return
    zero = p.dtype.type(0)
    d = g[k]
    if weight_decay != zero:
        d = d + weight_decay * p[k]
    if momentum != zero:
        b = d if first_step else momentum * buf[k] + damp_keep * d
        buf[k] = b
        d = d + momentum * b if nesterov else b
    p[k] = p[k] - lr * d


@cuda.jit
def _adam_step_kernel(p, g, m, v, lr, beta1, beta2, eps, weight_decay, decay_keep,
                      one_m_b1, one_m_b2, bc1, bc2, decoupled):
    k = cuda.grid(1)
    if k >= p.size:
        return
    pk, gk = p[k], g[k]
    if decoupled:
        pk = pk * decay_keep
    elif weight_decay != p.dtype.type(0):
        gk = gk + weight_decay * pk
    mk = beta1 * m[k] + one_m_b1 * gk
    vk = beta2 * v[k] + one_m_b2 * gk * gk
    m[k] = mk
    v[k] = vk
    p[k] = pk - lr * (mk / bc1) / (math.sqrt(vk / bc2) + eps)


def sgd_step_cuda(p, g, buf, lr: float, momentum: float, dampening: float,
                  weight_decay: float, nesterov: bool, first_step: bool) -> None:
    """One SGD step in place (formulas: ``kernels/optim.sgd_step_ref``).

    Shape:
        p, g, buf: any, the same shape and dtype, C-contiguous device arrays
    """
    t = p.dtype.type
    _sgd_step_kernel[grid_1d(p.size)](flat(p), flat(g), flat(buf), t(lr), t(momentum),
                                     t(1 - dampening), t(weight_decay), bool(nesterov),
                                     bool(first_step))


def adam_step_cuda(p, g, m, v, lr: float, beta1: float, beta2: float, eps: float,
                   weight_decay: float, step: int, decoupled: bool) -> None:
    """One Adam / AdamW step in place (formulas: ``kernels/optim.adam_step_ref``).

    Shape:
        p, g, m, v: any, the same shape and dtype, C-contiguous device arrays
    """
    t = p.dtype.type
    _adam_step_kernel[grid_1d(p.size)](flat(p), flat(g), flat(m), flat(v), t(lr), t(beta1),
                                      t(beta2), t(eps), t(weight_decay),
                                      t(1 - lr * weight_decay), t(1 - beta1), t(1 - beta2),
                                      t(1 - beta1 ** step), t(1 - beta2 ** step),
                                      bool(decoupled))
