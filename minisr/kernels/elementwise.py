"""Elementwise arithmetic: add, sub, mul, div (broadcasting), neg, abs, sign, sqrt, pow, and
``full`` (a new array of one value: the initial gradient, optimizer state, constants).

The ``_ref`` functions are NumPy expressions with broadcasting: they are the spec. The
``_cpu`` functions run one fused, multi-threaded Numba loop when both operands have the
same shape (the common case in a network: residual adds, loss terms), and fall back to
NumPy's single-threaded broadcasting ufuncs otherwise. Gradients of broadcast operands are
reduced back with ``reduce.sum_to_shape``. Read next: ``ops/arithmetic.py``.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from minisr.kernels._shared import ADD, DIV, MUL, SUB, binary_op

__all__ = ["ADD", "SUB", "MUL", "DIV", "PARALLEL_MIN_SIZE", "add_ref", "sub_ref", "mul_ref",
           "div_ref", "neg_ref", "abs_ref", "sign_ref", "sqrt_ref", "pow_ref", "add_cpu",
           "sub_cpu", "mul_cpu", "div_cpu", "neg_cpu", "abs_cpu", "sign_cpu", "sqrt_cpu",
           "pow_cpu", "full_ref", "full_cpu"]

# Below this many elements a binary op stays on NumPy's ufunc: small arrays are not worth
# waking the thread pool for.
PARALLEL_MIN_SIZE = 16384
_UFUNC = {ADD: np.add, SUB: np.subtract, MUL: np.multiply, DIV: np.divide}


# --- reference --------------------------------------------------------------------------

def full_ref(shape, value: float, dtype) -> np.ndarray:
    """A new array of ``shape`` holding ``value`` everywhere (ones for a loss's initial
    gradient, zeros for optimizer state, a 0-d constant for ``x * 0.5``).

    Shape:
        returns: shape (may be ())
    """
    return np.full(shape, value, dtype=dtype)


def add_ref(a, b):
    """y = a + b (broadcasting). Shape: a, b broadcastable -> y: broadcast shape."""
    return a + b


def sub_ref(a, b):
    """y = a - b (broadcasting)."""
    return a - b


def mul_ref(a, b):
    """y = a * b (broadcasting)."""
    return a * b


def div_ref(a, b):
    """y = a / b (broadcasting)."""
    return a / b


def neg_ref(x):
    """y = -x."""
    return -x


def abs_ref(x):
    """y = |x|; its derivative sign(x) is taken as 0 at x = 0 (as PyTorch does)."""
    return np.abs(x)


def sign_ref(x):
    """y = sign(x) in {-1, 0, 1}, same dtype as x."""
    return np.sign(x)


def sqrt_ref(x):
    """y = sqrt(x)."""
    return np.sqrt(x)


def pow_ref(x, p: float):
    """y = x ** p for a scalar exponent p, computed in x's dtype."""
    return x ** x.dtype.type(p)


# --- fast -------------------------------------------------------------------------------

@njit(parallel=True, cache=True)
def _binary_same_shape(op, a, b, out):
    # binary_op is inlined and `op` is loop-invariant, so LLVM hoists the branch out of the
    # vectorised loop. The CUDA kernel calls the same binary_op.
    for i in prange(a.size):
        out[i] = binary_op(op, a[i], b[i])


def _binary_cpu(op: int, a, b):
    if a.shape != b.shape or a.dtype != b.dtype or a.size < PARALLEL_MIN_SIZE:
        return _UFUNC[op](a, b)
    a = np.ascontiguousarray(a)
    b = np.ascontiguousarray(b)
    out = np.empty_like(a)
    _binary_same_shape(op, a.ravel(), b.ravel(), out.ravel())
    return out


def add_cpu(a, b):
    """Same as :func:`add_ref`; multi-threaded when shapes match."""
    return _binary_cpu(ADD, a, b)


def sub_cpu(a, b):
    """Same as :func:`sub_ref`; multi-threaded when shapes match."""
    return _binary_cpu(SUB, a, b)


def mul_cpu(a, b):
    """Same as :func:`mul_ref`; multi-threaded when shapes match."""
    return _binary_cpu(MUL, a, b)


def div_cpu(a, b):
    """Same as :func:`div_ref`; multi-threaded when shapes match."""
    return _binary_cpu(DIV, a, b)


# Unary maps are memory-bound single passes for which NumPy's ufuncs are already compiled
# SIMD loops; a Numba copy would only add compile time. The CPU table reuses them.
neg_cpu = neg_ref
abs_cpu = abs_ref
sign_cpu = sign_ref
sqrt_cpu = sqrt_ref
pow_cpu = pow_ref
full_cpu = full_ref
