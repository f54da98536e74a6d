"""Winograd minimal filtering for stride-1 3x3 convolutions, F(m x m, 3 x 3).

Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (CVPR 2016). An m x m block
of outputs needs an (m + 2) x (m + 2) input tile d; with the transform matrices below,

    Y = A^T [ (G g G^T) * (B^T d B) ] A        (* = elementwise, one term per input channel)

so summed over input channels, each of the a^2 = (m + 2)^2 tile positions is ONE matrix
product: M[t] (C_out, tiles) = U[t] (C_out, C_in) @ V[t] (C_in, tiles), with U = G g G^T the
transformed weights and V = B^T d B the transformed tiles. F(2x2, 3x3) does 16 products where
im2col does 9 x 4 = 36 multiply-adds per output block and channel pair (2.25x fewer), F(4x4,
3x3) 36 against 144 (4x fewer); the price is two memory-bound transforms and a float32 error
that grows with m (measured in tests/kernels/test_winograd.py). Tiles are processed in chunks
of whole tile rows (``CHUNK_BYTES`` of V and M); each chunk is transformed, multiplied and
written back by one of minisr's threads (``_threads.for_items``).
Read next: ``_conv_paths.py`` (when this path is chosen).
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, uint64

from minisr.kernels._shared import ACT_NONE, ACT_TANH, activate
from minisr.kernels._threads import for_items

__all__ = ["WINOGRAD", "winograd_forward", "transform_weight", "copy_blocks", "chunk_rows"]

# Interpolation points 0, 1, -1 (m = 2) and 0, +-1, +-2 (m = 4), plus infinity (Lavin & Gray).
_F2 = dict(
    BT=[[1, 0, -1, 0],
        [0, 1, 1, 0],
        [0, -1, 1, 0],
        [0, 1, 0, -1]],
    G=[[1, 0, 0],
       [1 / 2, 1 / 2, 1 / 2],
       [1 / 2, -1 / 2, 1 / 2],
       [0, 0, 1]],
    AT=[[1, 1, 1, 0],
        [0, 1, -1, -1]],
)
_F4 = dict(
    BT=[[4, 0, -5, 0, 1, 0],
        [0, -4, -4, 1, 1, 0],
        [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0],
        [0, 2, -1, -2, 1, 0],
        [0, 4, 0, -5, 0, 1]],
    G=[[1 / 4, 0, 0],
       [-1 / 6, -1 / 6, -1 / 6],
       [-1 / 6, 1 / 6, -1 / 6],
       [1 / 24, 1 / 12, 1 / 6],
       [1 / 24, -1 / 12, 1 / 6],
       [0, 0, 1]],
    AT=[[1, 1, 1, 1, 1, 0],
        [0, 1, -1, 2, -2, 0],
        [0, 1, 1, 4, 4, 0],
        [0, 1, -1, 8, -8, 1]],
)
# m -> (B^T (a, a), G (a, 3), A^T (m, a)) in float64
WINOGRAD = {m: tuple(np.array(f[k], dtype=np.float64) for k in ("BT", "G", "AT"))
            for m, f in ((2, _F2), (4, _F4))}

# Bytes of V + M per chunk of tiles: 4 MiB (twice the 2 MiB L2). Kept when the chunks
# moved onto threads: in two quiet sweeps of seven layers (32-128 channels, 16x24x24 to
# 1x512x512), 1 and 2 MiB per thread took 0.86-1.28x its time.
CHUNK_BYTES = 4 << 20


def chunk_rows(rows, ntw, a, channels, itemsize, threads, chunk_bytes=CHUNK_BYTES):
    """Tile rows per chunk: what fits ``chunk_bytes`` of transformed tiles (``channels`` =
    both sides' channel counts), and no more than an equal share of ``rows`` per thread."""
    tile_row_bytes = a * a * channels * (ntw + 1) * itemsize
    return max(1, min(-(-rows // threads), chunk_bytes // tile_row_bytes))


def transform_weight(w: np.ndarray, m: int) -> np.ndarray:
    """U[t] = (G w[o, c] G^T) flattened over the a x a positions t.

    Shape:
        w: (C_out, C_in, 3, 3)    U: (a*a, C_out, C_in),  a = m + 2
    """
    G = WINOGRAD[m][1].astype(w.dtype)
    a = m + 2
    u = G @ w @ G.T                                     # (C_out, C_in, a, a)
    return np.ascontiguousarray(u.transpose(2, 3, 0, 1)).reshape(a * a, *w.shape[:2])


def _input_transform_py(x, V, BT, m, pad, r0, r1, nth, ntw):
    """V[s*a + t, c, u] = (B^T d B)[s, t] for the tile d at u = (r - r0)*(ntw + 1) + j.

    Tile rows r = n*nth + ti run over images n; tile (ti, j) starts at padded pixel
    (ti*m, j*m). Every tile row carries one spare tile (j = ntw, discarded later), so the
    tiles of a chunk form ONE long axis u and both transform steps are long contiguous loops:
    D[i, k, u] gathers input row i of tile u at column phase k (pixel j*m + k), B^T runs
    down the rows (T = B^T D) and B along them, where tap q of tile u is phase q % m of
    tile u + q // m. Zero entries of B^T are skipped.
    """
    N, C, H, W = x.shape
    a = BT.shape[0]
    P = V.shape[2]
    Wb = (ntw + 2) * m
    for c in range(C):
        rows = np.zeros((a, Wb), dtype=x.dtype)       # the tile row's a input rows, padded
        t1 = np.empty(Wb, dtype=x.dtype)
        T = np.empty((a, m, P + 1), dtype=x.dtype)
        T[:, :, P] = 0
        for r in range(r0, r1):
            n, ti = r // nth, r % nth
            u0 = (r - r0) * (ntw + 1)
            for i in range(a):
                h = ti * m - pad + i
                if 0 <= h < H:
                    rows[i, pad:pad + W] = x[n, c, h]
                else:
                    rows[i, pad:pad + W] = 0
            for s in range(a):                         # row s of B^T @ rows, then split
                t1[:] = 0                              # into the m column phases
                for i in range(a):
                    coef = BT[s, i]
                    if coef != 0:
                        for k in range(uint64(Wb)):
                            t1[k] += coef * rows[i, k]
                for k in range(m):                     # unsigned: no wraparound checks
                    Tk = T[s, k]
                    for j in range(uint64(ntw + 1)):
                        Tk[uint64(u0) + j] = t1[j * uint64(m) + uint64(k)]
        for s in range(a):                             # V = T @ B, tile by tile
            for t in range(a):
                v = V[s * a + t, c]
                first = True
                for q in range(a):
                    coef = BT[t, q]
                    if coef != 0:
                        k, sh = q % m, q // m
                        if first:
                            for u in range(P):
                                v[u] = coef * T[s, k, u + sh]
                            first = False
                        else:
                            for u in range(P):
                                v[u] += coef * T[s, k, u + sh]


@njit(cache=True, nogil=True)
def copy_blocks(Y, img, o, r0, r1, nth, ntw, to_image):
    """Between the tile layout and the image: Y[i, k, u] is img[n, o, ti*m + i, j*m + k]
    for tile u = (r - r0)*(ntw + 1) + j of tile row r = n*nth + ti (m x m blocks; what
    overhangs img, and the spare tile j = ntw, is skipped). to_image: Y -> img, else
    img -> Y."""
    H_out, W_out = img.shape[2:]
    m = Y.shape[0]
    for r in range(r0, r1):
        n, ti = r // nth, r % nth
        u0 = (r - r0) * (ntw + 1)
        for i in range(min(m, H_out - ti * m)):
            h = ti * m + i
            for k in range(m):
                for j in range((W_out - k + m - 1) // m):
                    if to_image:
                        img[n, o, h, j * m + k] = Y[i, k, u0 + j]
                    else:
                        Y[i, k, u0 + j] = img[n, o, h, j * m + k]


def _output_transform_py(M, y, b, act, slope, AT, r0, r1, nth, ntw):
    """y[n, o, ti*m + i, j*m + k] = act((A^T M_u A)[i, k] + b[o]) (``_shared.activate``).

    M[s*a + t, o, u] holds the products of tile u = (r - r0)*(ntw + 1) + j of tile row
    r = n*nth + ti (j = ntw is the spare tile). Both steps run along u; the last step
    scatters each tile's m x m block, dropping what overhangs H_out, W_out.
    """
    C_out = y.shape[1]
    m, a = AT.shape
    P = M.shape[2]
    zero = y.dtype.type(0)
    for o in range(C_out):
        S = np.empty((m, a, P), dtype=y.dtype)
        Y = np.empty((m, m, P), dtype=y.dtype)
        for i in range(m):                             # S = A^T @ M
            for t in range(a):
                S[i, t] = 0
                for s in range(a):
                    coef = AT[i, s]
                    if coef != 0:
                        for u in range(P):
                            S[i, t, u] += coef * M[s * a + t, o, u]
        for i in range(m):                             # Y = S @ A, + bias
            for k in range(m):
                Y[i, k] = b[o]
                for t in range(a):
                    coef = AT[k, t]
                    if coef != 0:
                        for u in range(P):
                            Y[i, k, u] += coef * S[i, t, u]
        if act != ACT_NONE:
            for i in range(m):
                for k in range(m):
                    for u in range(P):
                        Y[i, k, u] = activate(act, Y[i, k, u], slope[o], zero)
        copy_blocks(Y, y, o, r0, r1, nth, ntw, True)


# Serial loops that release the GIL: the parallelism is over chunks, one per thread. (A
# prange over channels inside each transform, with one NumPy product per chunk between them,
# hardly scaled: 11.9 ms on one thread, 11.3 ms on two for 32->32 at 16x48x48, 2.0-2.5x
# slower than chunks on threads; the chunk's 36 small products run on one BLAS thread.)
_input_transform = njit(cache=True, nogil=True)(_input_transform_py)
_output_transform = njit(cache=True, nogil=True)(_output_transform_py)


def winograd_forward(x, w, b, pad, m, act=ACT_NONE, slope=None, parallel=True,
                     chunk_bytes=CHUNK_BYTES):
    """Stride-1, dilation-1, groups-1 3x3 conv2d by F(m x m, 3 x 3); same result as the ref.

    ``act`` (an ``_shared.ACT_*`` code, PReLU's (C_out,) ``slope``) runs in the output
    transform; tanh runs afterwards as NumPy's ``np.tanh`` in place (Numba's is 10x slower).
    ``parallel``: chunks on ``numba.get_num_threads()`` threads, else all on this one.

    Shape:
        x: (N, C_in, H, W)    w: (C_out, C_in, 3, 3)    b: (C_out,) or None
        y: (N, C_out, H + 2*pad - 2, W + 2*pad - 2)
    """
    x = np.ascontiguousarray(x)
    N, C_in, H, W = x.shape
    C_out = w.shape[0]
    a = m + 2
    H_out, W_out = H + 2 * pad - 2, W + 2 * pad - 2
    nth, ntw = -(-H_out // m), -(-W_out // m)
    BT, _, AT = (t.astype(x.dtype) for t in WINOGRAD[m])
    U = transform_weight(w.astype(x.dtype, copy=False), m)
    bias = np.zeros(C_out, x.dtype) if b is None else b.astype(x.dtype, copy=False)
    y = np.empty((N, C_out, H_out, W_out), dtype=x.dtype)
    rows, threads = N * nth, numba.get_num_threads() if parallel else 1
    rows_per_chunk = chunk_rows(rows, ntw, a, C_in + C_out, x.itemsize, threads, chunk_bytes)
    slope = np.zeros(C_out, x.dtype) if slope is None else slope.astype(x.dtype, copy=False)
    act_t = ACT_NONE if act == ACT_TANH else act

    def scratch():      # this thread's V and M, flat: each chunk's are contiguous
        return (np.empty(a * a * C_in * rows_per_chunk * (ntw + 1), dtype=x.dtype),
                np.empty(a * a * C_out * rows_per_chunk * (ntw + 1), dtype=x.dtype))

    def chunk(r0, VM):
        r1 = min(rows, r0 + rows_per_chunk)
        P = (r1 - r0) * (ntw + 1)
        Vc = VM[0][:a * a * C_in * P].reshape(a * a, C_in, P)
        Mc = VM[1][:a * a * C_out * P].reshape(a * a, C_out, P)
        _input_transform(x, Vc, BT, m, pad, r0, r1, nth, ntw)
        np.matmul(U, Vc, out=Mc)
        _output_transform(Mc, y, bias, act_t, slope, AT, r0, r1, nth, ntw)
    for_items(range(0, rows, rows_per_chunk), chunk, scratch, threads)
    if act == ACT_TANH:
        np.tanh(y, out=y)
    return y
