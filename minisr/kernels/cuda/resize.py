"""CUDA resampling along one axis with a (weights, indices) table: MATLAB-exact bicubic on
the GPU, and, with the table from ``kernels.resize.adjoint_weights``, its backward. The CPU
twins are in ``kernels/resize.py``. One thread per output element (a gather); taps are added
in the table's order, as on the CPU.
"""
from __future__ import annotations

import math

from numba import cuda

from minisr.kernels.cuda._launch import device, empty, grid_1d

__all__ = ["resize_axis_cuda"]


@cuda.jit
def _resize_axis_kernel(x, w, idx, y):
    """y[a, i, b] = sum_p w[i, p] * x[a, idx[i, p], b] over (A, L_out, B)."""
    k = cuda.grid(1)
    A, L_out, B = y.shape
    if k >= A * L_out * B:
        return
    a, i, b = k // (L_out * B), (k // B) % L_out, k % B
    acc = y.dtype.type(0)
    for p in range(w.shape[1]):
        acc += w[i, p] * x[a, idx[i, p], b]
    y[a, i, b] = acc


def resize_axis_cuda(x, weights, indices, axis: int):
    """The CUDA twin of ``resize_axis_cpu``: same signature and results (to rounding).

    Shape:
        x: (..., L_in, ...) device array    weights, indices: (L_out, P) host arrays
        returns: (..., L_out, ...) device array, same dtype, L_out at position ``axis``
    """
    axis = axis % x.ndim
    A = math.prod(x.shape[:axis])
    B = math.prod(x.shape[axis + 1:])
    x3 = x.reshape(A, x.shape[axis], B)
    L_out = weights.shape[0]
    y3 = empty((A, L_out, B), x.dtype)
    _resize_axis_kernel[grid_1d(y3.size)](x3, device(weights, x.dtype),
                                          device(indices, "int64"), y3)
    return y3.reshape(x.shape[:axis] + (L_out,) + x.shape[axis + 1:])
