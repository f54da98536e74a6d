"""Launch helpers shared by the CUDA kernel files: grid sizes, allocation, flat views and
the padded shape/stride tuples that let one kernel serve any rank up to ``ND``, and the
device function that turns a thread's flat index into a 4-D one.

Broadcasting and strided copies describe each operand by element strides over the output's
index space (0 where an axis is broadcast), padded on the left to ``ND`` axes, so a kernel is
compiled once per dtype rather than once per rank.
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda

ND = 6           # the largest rank the strided kernels handle
TPB = 128        # threads per block of the 1-D launches
POISON = False   # tests set True: new arrays start as NaN, so unwritten outputs show


@cuda.jit(device=True)
def unravel4(k, shape):
    """The (a, b, c, d) index of flat element k of a C-ordered 4-D array of ``shape``: how
    every one-thread-per-output kernel over NCHW (or OIHW) data finds its element."""
    _, B, C, D = shape
    return k // (B * C * D), (k // (C * D)) % B, (k // D) % C, k % D


def grid_1d(n: int) -> tuple[int, int]:
    """(blocks, threads) covering n threads; the kernels bounds-check the tail."""
    return max(1, math.ceil(n / TPB)), TPB


def empty(shape, dtype):
    """A new device array (uninitialised: every kernel writes all of its outputs)."""
    if POISON:  # NaN, or -1 in an integer array (max_pool2d's argmax indices)
        dtype = np.dtype(dtype)
        fill = np.nan if dtype.kind == "f" else -1
        return cuda.to_device(np.full(tuple(shape), fill, dtype=dtype))
    return cuda.device_array(tuple(shape), dtype=np.dtype(dtype))


def flat(a):
    """A 1-D view of a C-contiguous device array (size 1 for a 0-d one)."""
    return a.reshape(max(a.size, 1)) if a.ndim != 1 else a


def device(a, dtype=None):
    """``a`` as a device array: itself if it is one; a small host constant is uploaded
    (a 0-d operand, index tables): the only host data kernels ever read."""
    if hasattr(a, "copy_to_host"):
        return a
    return cuda.to_device(np.ascontiguousarray(a, dtype=dtype))


def contiguous_strides(shape) -> tuple[int, ...]:
    """Element strides of a C-contiguous array of ``shape``."""
    strides, acc = [], 1
    for n in reversed(shape):
        strides.append(acc)
        acc *= n
    return tuple(reversed(strides))


def padded(values, fill: int) -> tuple[int, ...]:
    """``values`` left-padded with ``fill`` to ND entries."""
    values = tuple(int(v) for v in values)
    if len(values) > ND:
        raise ValueError(f"cuda kernels: rank {len(values)} > {ND} is not supported")
    return (fill,) * (ND - len(values)) + values


def broadcast_strides(shape, out_shape) -> tuple[int, ...]:
    """Strides (padded to ND) that read a contiguous ``shape`` array at each index of
    ``out_shape``: 0 on broadcast axes."""
    shape = (1,) * (len(out_shape) - len(shape)) + tuple(shape)
    st = [0 if n == 1 and m != 1 else s
          for n, m, s in zip(shape, out_shape, contiguous_strides(shape))]
    return padded(st, 0)
