"""dL/dw of a stride-1 3x3 conv by Winograd: the forward's transforms, read the other way.

The forward computes y = A^T [ (G w) * (B^T d) ] per 1-D tile: a trilinear form
T(dy, w, d) = sum_k (A dy)_k (G w)_k (B^T d)_k. Its derivative in w is the weight gradient
of one tile, dw = G^T [ (A dy) * (B^T d) ], and in 2-D, summed over tiles and images,

    dW[o, c] = G^T ( sum_tiles (A dY_o A^T) * (B^T D_c B) ) G

(* elementwise, a x a per tile, a = m + 2). The forward's input transform gives V[t]
(C_in, tiles) = B^T D B at each of the a^2 positions t. This file's dy transform gives
Z[t] (C_out, tiles) = A dY A^T. The sum over tiles is then one product per position,
M[t] = Z[t] @ V[t]^T (C_out, C_in). That is a^2 = 36 products per tile for F(4x4) where
im2col needs 9 m^2 = 144, and there is no column matrix. Chunks of tile rows run on minisr's
threads, each summing its own M (``_threads.for_items``: a fixed share per thread, so the
sum is the same on every run). ``_conv_paths.choose_path`` decides when it runs.
Read next: ``_conv_paths.py``.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit

from minisr.kernels._threads import for_items
from minisr.kernels._winograd import (CHUNK_BYTES, WINOGRAD, _input_transform, chunk_rows,
                                      copy_blocks)

__all__ = ["winograd_backward_weight"]


@njit(cache=True, nogil=True)
def _dy_transform(dy, Z, AT, r0, r1, nth, ntw):
    """Z[s*a + t, o, u] = (A dY_u A^T)[s, t] for the m x m block dY_u of dy at tile u =
    (r - r0)*(ntw + 1) + j of tile row r = n*nth + ti (zero past H_out, W_out, and for the
    spare tile j = ntw, whose input tile the forward's layout carries but no output uses)."""
    C_out = dy.shape[1]
    m, a = AT.shape
    P = Z.shape[2]
    for o in range(C_out):
        Y = np.zeros((m, m, P), dtype=dy.dtype)
        S = np.empty((m, a, P), dtype=dy.dtype)
        copy_blocks(Y, dy, o, r0, r1, nth, ntw, False)   # gather the m x m blocks
        for i in range(m):                             # S = Y A^T, along the columns
            for t in range(a):
                S[i, t] = 0
                for k in range(m):
                    coef = AT[k, t]
                    if coef != 0:
                        for u in range(P):
                            S[i, t, u] += coef * Y[i, k, u]
        for s in range(a):                             # Z = A S, down the rows
            for t in range(a):
                z = Z[s * a + t, o]
                z[:] = 0
                for i in range(m):
                    coef = AT[i, s]
                    if coef != 0:
                        for u in range(P):
                            z[u] += coef * S[i, t, u]


def winograd_backward_weight(x, dy, pad, m, chunk_bytes=CHUNK_BYTES):
    """dL/dw of a stride-1, dilation-1, ungrouped 3x3 conv2d by F(m x m, 3 x 3).

    Same result as ``conv2d_backward_weight_ref``'s dw (db is the sum of dy, elsewhere).

    Shape:
        x: (N, C_in, H, W)    dy: (N, C_out, H + 2*pad - 2, W + 2*pad - 2)
        dw: (C_out, C_in, 3, 3)
    """
    x, dy = np.ascontiguousarray(x), np.ascontiguousarray(dy)
    N, C_in = x.shape[:2]
    C_out, H_out, W_out = dy.shape[1:]
    a = m + 2
    nth, ntw = -(-H_out // m), -(-W_out // m)
    BT, G, AT = (t.astype(x.dtype) for t in WINOGRAD[m])
    rows = N * nth
    rows_per_chunk = chunk_rows(rows, ntw, a, C_in + C_out, x.itemsize,
                                numba.get_num_threads(), chunk_bytes)

    def scratch():      # this thread's V, Z (flat) and its share of the a^2 products
        return (np.empty(a * a * C_in * rows_per_chunk * (ntw + 1), dtype=x.dtype),
                np.empty(a * a * C_out * rows_per_chunk * (ntw + 1), dtype=x.dtype),
                np.zeros((a * a, C_out, C_in), dtype=x.dtype),
                np.empty((a * a, C_out, C_in), dtype=x.dtype))

    def chunk(r0, sc):
        V, Z, M, tmp = sc
        r1 = min(rows, r0 + rows_per_chunk)
        P = (r1 - r0) * (ntw + 1)
        Vc = V[:a * a * C_in * P].reshape(a * a, C_in, P)
        Zc = Z[:a * a * C_out * P].reshape(a * a, C_out, P)
        _input_transform(x, Vc, BT, m, pad, r0, r1, nth, ntw)
        _dy_transform(dy, Zc, AT, r0, r1, nth, ntw)
        np.matmul(Zc, Vc.transpose(0, 2, 1), out=tmp)
        M += tmp
    M = sum(sc[2] for sc in for_items(range(0, rows, rows_per_chunk), chunk, scratch))
    M = M.reshape(a, a, C_out, C_in)
    # dw[o, c] = G^T M[:, :, o, c] G
    return np.ascontiguousarray(np.einsum("sp,stoc,tq->ocpq", G, M, G, optimize=True),
                                dtype=x.dtype)
