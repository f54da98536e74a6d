"""Batched matrix product, the one primitive behind Gram matrices (texture losses).

Matrix products are what BLAS exists for; both tables call ``np.matmul``, which runs an
optimised, multi-threaded sgemm/dgemm. Its backward is two more products:
dA = dY B^T and dB = A^T dY. Read next: ``ops/linalg.py``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["matmul_ref", "transpose_last_ref", "matmul_cpu", "transpose_last_cpu"]


def matmul_ref(a, b):
    """y = a @ b over the last two axes, batched over the leading ones.

    Shape:
        a: (..., M, K)    b: (..., K, N)    y: (..., M, N)
    """
    return np.matmul(a, b)


def transpose_last_ref(x):
    """A contiguous copy of x with its last two axes swapped. Shape: (..., M, N) -> (..., N, M)"""
    return np.ascontiguousarray(np.swapaxes(x, -1, -2))


matmul_cpu = matmul_ref
transpose_last_cpu = transpose_last_ref
