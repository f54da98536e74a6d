"""CUDA optimizer updates: SGD and Adam/AdamW, in place on the parameter and its state, one
thread per element. Each thread calls the same per-element function as the CPU twins' loops
(``kernels/_shared.sgd_update`` / ``adam_update``), so the arithmetic, its order and dtype
are theirs; the wrappers turn every scalar into the parameter's dtype first.
"""
from __future__ import annotations

from numba import cuda

from minisr.kernels._shared import adam_update, sgd_update

from minisr.kernels.cuda._launch import flat, grid_1d

__all__ = ["sgd_step_cuda", "adam_step_cuda"]


@cuda.jit
def _sgd_step_kernel(p, g, buf, lr, momentum, damp_keep, weight_decay, use_momentum,
                     use_decay, nesterov, first_step):
    k = cuda.grid(1)
    if k >= p.size:
        return
    p[k], buf_k = sgd_update(p[k], g[k], buf[k] if use_momentum else p[k], lr, momentum,
                             damp_keep, weight_decay, use_momentum, use_decay, nesterov,
                             first_step)
    if use_momentum:
        buf[k] = buf_k


@cuda.jit
def _adam_step_kernel(p, g, m, v, lr, beta1, beta2, eps, weight_decay, decay_keep,
                      one_m_b1, one_m_b2, bc1, bc2, use_decay, decoupled):
    k = cuda.grid(1)
    if k >= p.size:
        return
    p[k], m[k], v[k] = adam_update(p[k], g[k], m[k], v[k], lr, beta1, beta2, eps,
                                   weight_decay, decay_keep, one_m_b1, one_m_b2, bc1, bc2,
                                   use_decay, decoupled)


def sgd_step_cuda(p, g, buf, lr: float, momentum: float, dampening: float,
                  weight_decay: float, nesterov: bool, first_step: bool) -> None:
    """One SGD step in place (formulas: ``kernels/optim.sgd_step_ref``).

    Shape:
        p, g, buf: any, the same shape and dtype, C-contiguous device arrays
    """
    t = p.dtype.type
    _sgd_step_kernel[grid_1d(p.size)](flat(p), flat(g), flat(buf), t(lr), t(momentum),
                                     t(1 - dampening), t(weight_decay), bool(momentum != 0),
                                     bool(weight_decay != 0), bool(nesterov), bool(first_step))


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
                                      bool(weight_decay != 0), bool(decoupled))
