"""CUDA batched matrix product and last-axes transpose (Gram matrices of texture losses).
The CPU twins are in ``kernels/matmul.py``. matmul: one thread per output element, a dot
product over K; broadcast batches are first made explicit with ``broadcast_to_cuda``.
"""
from __future__ import annotations

import numpy as np
from numba import cuda

from minisr.kernels.cuda._launch import contiguous_strides, empty, flat, grid_1d
from minisr.kernels.cuda.reduce import broadcast_to_cuda
from minisr.kernels.cuda.shape import strided_copy

__all__ = ["matmul_cuda", "transpose_last_cuda"]


@cuda.jit
def _matmul_forward_kernel(a, b, M, K, N, y):
    k = cuda.grid(1)
    if k >= y.size:
        return
    bt, m, n = k // (M * N), (k // N) % M, k % N
    acc = a.dtype.type(0)
    for t in range(K):
        acc += a[(bt * M + m) * K + t] * b[(bt * K + t) * N + n]
    y[k] = acc


def matmul_cuda(a, b):
    """y = a @ b over the last two axes, batched (and broadcast) over the leading ones.

    Shape:
        a: (..., M, K)    b: (..., K, N)    y: (..., M, N)
    """
    batch = np.broadcast_shapes(tuple(a.shape)[:-2], tuple(b.shape)[:-2])
    (M, K), N = tuple(a.shape)[-2:], tuple(b.shape)[-1]
    a = broadcast_to_cuda(a, batch + (M, K))
    b = broadcast_to_cuda(b, batch + (K, N))
    y = empty(batch + (M, N), a.dtype)
    _matmul_forward_kernel[grid_1d(y.size)](flat(a), flat(b), M, K, N, flat(y))
    return y


def transpose_last_cuda(x):
    """A contiguous copy with the last two axes swapped. Shape: (..., M, N) -> (..., N, M)"""
    shape = tuple(x.shape)[:-2] + (tuple(x.shape)[-1], tuple(x.shape)[-2])
    st = list(contiguous_strides(x.shape))
    st[-1], st[-2] = st[-2], st[-1]
    y = empty(shape, x.dtype)
    strided_copy(flat(x), 0, st, flat(y), 0, contiguous_strides(shape), shape)
    return y
