"""Checking tools, public so tutorials and users can verify their own ops.

``numerical_gradient`` is the central difference of ``sum(f(x) * dy)`` (cs231n's
``eval_numerical_gradient_array``); ``gradcheck`` compares it with what autograd computes
for every input that requires grad. Run them in float64: in float32 the finite difference
itself is too noisy (relative error ~1 at eps 1e-6).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from minisr.autograd import Tensor

__all__ = ["rel_error", "numerical_gradient", "gradcheck"]


def rel_error(a, b) -> float:
    """max |a - b| / max(|a| + |b|, 1e-12), elementwise, as cs231n's."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))


def numerical_gradient(f: Callable[[], np.ndarray], x: np.ndarray, dy: np.ndarray,
                       eps: float = 1e-6) -> np.ndarray:
    """d sum(f() * dy) / dx by central differences, perturbing ``x`` in place.

    Shape:
        x: any (modified and restored)    dy: f()'s shape    returns: x's shape
    """
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = np.sum(f() * dy)
        flat[i] = old - eps
        minus = np.sum(f() * dy)
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(fn: Callable[..., Tensor], inputs: Sequence[Tensor], seed: int = 0,
              eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-6) -> dict[int, float]:
    """Check autograd's gradients of ``fn(*inputs)`` against central differences.

    Every input that requires grad must be float64. Raises AssertionError naming the input
    on a mismatch; returns {input index: max abs error} for the record.
    """
    for t in inputs:
        if t.requires_grad and t.dtype != np.float64:
            raise ValueError(f"gradcheck: input of dtype {t.dtype}; use float64")
    y = fn(*inputs)
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    for t in inputs:
        t.grad = None
    y.backward(dy)
    errors = {}
    for k, t in enumerate(inputs):
        if not t.requires_grad:
            continue
        num = numerical_gradient(lambda: fn(*inputs).data, t.data, dy, eps)
        got = np.zeros_like(t.data) if t.grad is None else t.grad  # unused input: 0
        np.testing.assert_allclose(got, num, rtol=rtol, atol=atol,
                                   err_msg=f"gradcheck: input {k} of shape {t.shape}")
        errors[k] = float(np.max(np.abs(got - num)))
    return errors
