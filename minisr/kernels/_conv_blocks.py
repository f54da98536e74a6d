"""Small pieces every conv fast path shares: output sizes, the tile plan, the bias gradient.

A pass runs as a few big matrix products (``np.matmul``: multi-threaded BLAS) over *tiles*:
a few whole images, or a band of output rows of one image, sized so that the scratch of one
tile (a column matrix, or Winograd's transformed tiles) stays within ``TILE_BYTES``, the L2
size, whatever the batch. Which algorithm runs is decided in ``_conv_paths.choose_path``; the
algorithms are in ``_conv_gemm.py`` (im2col, kn2row, col2im), ``_winograd.py`` and their
Numba loops in ``_conv_loops.py``. ``benchmarks/README.md`` has the measurements.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

# Bound on the column matrix of one tile, in bytes (the only scratch that grows with K).
TILE_BYTES = 2 << 20          # = L2 per core: the GEMM packs a tile the copy just wrote


class Tile(NamedTuple):
    """A piece of a batch: ``images`` images from ``first_image``, output rows
    ``first_row`` to ``first_row + rows`` (all rows when several images share a tile)."""
    first_image: int
    images: int
    first_row: int
    rows: int


class Epilogue(NamedTuple):
    """What a forward applies to its output tiles after the products (inference only):
    ``act`` is an ``_shared.ACT_*`` code, ``slope`` the (C_out,) PReLU slopes (any (C_out,)
    array in the dtype of x for the other activations)."""
    act: int
    slope: np.ndarray


def pair(v) -> tuple[int, int]:
    """An int or an (h, w) pair as an (h, w) tuple of ints."""
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def conv_out_size(size: int, k: int, s: int, p: int, d: int) -> int:
    """conv2d output size: (size + 2p - d(k-1) - 1) // s + 1."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def transposed_out_size(size: int, k: int, s: int, p: int, op: int, d: int) -> int:
    """conv_transpose2d output size: (size-1)s - 2p + d(k-1) + output_padding + 1."""
    return (size - 1) * s - 2 * p + d * (k - 1) + op + 1


def bias_grad(dy: np.ndarray) -> np.ndarray:
    """db = dy.sum((0, 2, 3)) as one matrix-vector product (6x faster than NumPy's sum here)."""
    N, C = dy.shape[:2]
    dy2 = np.ascontiguousarray(dy).reshape(N * C, -1)
    return (dy2 @ np.ones(dy2.shape[1], dtype=dy.dtype)).reshape(N, C).sum(axis=0)


def bands(rows: int, row_bytes: int) -> list[tuple[int, int]]:
    """(first_row, rows) bands of near-equal height whose scratch fits in TILE_BYTES."""
    n = max(1, -(-rows * row_bytes // TILE_BYTES))
    step = -(-rows // n)
    return [(i0, min(step, rows - i0)) for i0 in range(0, rows, step)]


def split(n: int, k: int) -> list[tuple[int, int]]:
    """[lo, hi) ranges cutting 0..n into k near-equal contiguous parts (a thread's share)."""
    return [(n * i // k, n * (i + 1) // k) for i in range(k)]


def tiles(N: int, rows: int, row_bytes: int) -> list[Tile]:
    """Several whole images per tile while they fit in TILE_BYTES, else bands of one image."""
    if rows * row_bytes <= TILE_BYTES:
        nb = max(1, min(N, TILE_BYTES // (rows * row_bytes)))
        return [Tile(n0, min(nb, N - n0), 0, rows) for n0 in range(0, N, nb)]
    return [Tile(n, 1, i0, nr) for n in range(N) for i0, nr in bands(rows, row_bytes)]


def is_pointwise(KH: int, KW: int, s: tuple, p: tuple) -> bool:
    """A 1x1, stride-1, unpadded conv: x[n] already is the column matrix."""
    return KH == 1 and KW == 1 and s == (1, 1) and p == (0, 0)
