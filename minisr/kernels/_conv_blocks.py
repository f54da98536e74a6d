"""Fast-path internals shared by ``conv2d.py`` and ``conv_transpose2d.py``.

Every pass is a few big matrix products (``np.matmul``: multi-threaded BLAS) between a weight
matrix and a *column matrix* built one image (or one band of rows) at a time, so the scratch
memory stays bounded whatever the batch: im2col copies each receptive field into a column,
col2im adds columns back. Layers with few output channels use "kn2row" instead: one product
per kernel tap on shifted, copy-free views of a padded image. ``benchmarks/README.md`` has the
measurements behind every choice; the losing variants live in ``benchmarks/conv_variants.py``.
"""
from __future__ import annotations

import numpy as np
from numba import njit, uint64

# Bound on the column matrix of one tile, in bytes (the only scratch that grows with K).
TILE_BYTES = 2 << 20          # = L2 per core: the GEMM packs a tile the copy just wrote
# dL/dw of layers with at most this many output channels (per group) uses a direct Numba loop.
DIRECT_MAX_COUT = 2
# dL/dw joins a tile's images into one product when they have fewer pixels than this.
DW_JOIN_PIXELS = 1024


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


def _bands(rows: int, row_bytes: int):
    """Split `rows` output rows into near-equal bands whose columns fit in TILE_BYTES."""
    n = max(1, -(-rows * row_bytes // TILE_BYTES))
    step = -(-rows // n)
    return [(i0, min(step, rows - i0)) for i0 in range(0, rows, step)]


@njit(cache=True)
def _im2col(xp, cols, rn, rk, KH, KW, sh, sw, dh, dw, i0, nr, W_out):
    """cols[n*rn + k*rk, i*W_out + j] = xp[n, c, (i0 + i)*sh + p*dh, j*sw + q*dw], k = (c, p, q).

    xp holds padded images; (rn, rk) = (K, 1) lays the columns out as (nb, K, L) and
    (1, nb) as (K, nb, L), both through a C-contiguous 2-D ``cols`` so that LLVM knows the
    rows are contiguous. Serial on purpose (see ``_col2im``). Unsigned column indices let
    LLVM vectorise the copy: 1.5x NumPy's ``copyto`` from a window view (benchmarks/README.md).
    """
    nb, C = xp.shape[0], xp.shape[1]
    W_u, sw_u = uint64(W_out), uint64(sw)
    for n in range(nb):
        for c in range(C):
            for p in range(KH):
                for q in range(KW):
                    row = n * rn + ((c * KH + p) * KW + q) * rk
                    off = uint64(q * dw)
                    for i in range(nr):
                        h = (i0 + i) * sh + p * dh
                        base = uint64(i * W_out)
                        if sw == 1:
                            for j in range(W_u):
                                cols[row, base + j] = xp[n, c, h, j + off]
                        else:
                            for j in range(W_u):
                                cols[row, base + j] = xp[n, c, h, j * sw_u + off]


def _is_pointwise(KH, KW, s, p):
    return KH == 1 and KW == 1 and s == (1, 1) and p == (0, 0)


def _use_kn2row(Cog, Cg, s):
    # kn2row moves KH*KW*(Cg + 3*Cog) numbers per output pixel, im2col 3*KH*KW*Cg: it wins
    # when a layer has few outputs per input (measured crossover: README, "kn2row")
    return s == (1, 1) and 3 * Cog < 2 * Cg


# ----------------------------------------------------------------------------- conv2d forward
def conv_forward(x, w, b, s, p, d, groups):
    """conv2d forward, see ``conv2d_forward_cpu``. y[n] = [w | b] @ [cols(x[n]); 1]."""
    x = np.ascontiguousarray(x)
    N, C_in, H, W = x.shape
    C_out, Cg, KH, KW = w.shape
    Cog, K = C_out // groups, Cg * KH * KW
    H_out, W_out = conv_out_size(H, KH, s[0], p[0], d[0]), conv_out_size(W, KW, s[1], p[1], d[1])
    y = np.empty((N, C_out, H_out, W_out), dtype=x.dtype)
    if _is_pointwise(KH, KW, s, p):       # x[n] already is the (C_in, H*W) column matrix
        w2 = np.ascontiguousarray(w, dtype=x.dtype).reshape(C_out, Cg)
        x3, y3 = x.reshape(N, C_in, H * W), y.reshape(N, C_out, H * W)
        for g in range(groups):        # one broadcast product: NumPy loops the images in C
            np.matmul(w2[g * Cog:(g + 1) * Cog], x3[:, g * Cg:(g + 1) * Cg],
                      out=y3[:, g * Cog:(g + 1) * Cog])
        if b is not None:
            y += b.astype(x.dtype, copy=False).reshape(1, -1, 1, 1)
        return y
    if _use_kn2row(Cog, Cg, s):
        return _forward_kn2row(x, w, b, p, d, groups, y)
    # bias folded into the product: a row of ones under the columns, b as an extra weight column
    nb1 = 0 if b is None else 1
    w2 = np.empty((C_out, K + nb1), dtype=x.dtype)
    w2[:, :K] = w.reshape(C_out, K)
    if nb1:
        w2[:, K] = b
    tiles = _tiles(N, H_out, (K + nb1) * W_out * x.itemsize)
    nbm, nrm = max(t[1] for t in tiles), max(t[3] for t in tiles)
    xp = np.zeros((nbm, C_in, H + 2 * p[0], W + 2 * p[1]), dtype=x.dtype)
    buf = np.empty(nbm * (K + nb1) * nrm * W_out, dtype=x.dtype)
    y3 = y.reshape(N, C_out, H_out * W_out)
    for n0, nb, i0, nr in tiles:
        if i0 == 0:
            xp[:nb, :, p[0]:p[0] + H, p[1]:p[1] + W] = x[n0:n0 + nb]   # the border stays 0
        L = nr * W_out
        for g in range(groups):
            cols = buf[:nb * (K + nb1) * L].reshape(nb, K + nb1, L)
            _im2col(xp[:nb, g * Cg:(g + 1) * Cg], cols.reshape(nb * (K + nb1), L), K + nb1, 1,
                    KH, KW, *s, *d, i0, nr, W_out)
            if nb1:
                cols[:, K] = 1
            np.matmul(w2[g * Cog:(g + 1) * Cog], cols,
                      out=y3[n0:n0 + nb, g * Cog:(g + 1) * Cog, i0 * W_out:i0 * W_out + L])
    return y


def _forward_kn2row(x, w, b, p, d, groups, y):
    """Stride-1 forward as KH*KW products on shifted views (no im2col copy), one image at a time.

    In a padded image flattened row by row (width Wp), tap (p, q) of output pixel (i, j) sits
    at flat index (i + p*dh)*Wp + j + q*dw: a fixed shift. Computing outputs on the Wp-wide
    grid (the last d*(KW-1) columns are garbage, dropped) makes x(shifted) a plain 2-D slice.
    """
    N, C_in, H, W = x.shape
    C_out, Cg, KH, KW = w.shape
    Cog = C_out // groups
    H_out, W_out = y.shape[2:]
    Hp, Wp = H + 2 * p[0], W + 2 * p[1]
    wt = np.ascontiguousarray(w.transpose(2, 3, 0, 1), dtype=x.dtype)   # (KH, KW, C_out, Cg)
    xw = np.zeros((C_in, Hp * Wp + (KW - 1) * d[1]), dtype=x.dtype)     # + tail for the shift
    xw3 = xw[:, :Hp * Wp].reshape(C_in, Hp, Wp)
    bands = _bands(H_out, (2 * Cog + Cg) * Wp * x.itemsize)
    yw, tmp = (np.empty((Cog, bands[0][1] * Wp), dtype=x.dtype) for _ in range(2))
    for n in range(N):
        xw3[:, p[0]:p[0] + H, p[1]:p[1] + W] = x[n]
        for g in range(groups):
            gi, go = slice(g * Cg, (g + 1) * Cg), slice(g * Cog, (g + 1) * Cog)
            for i0, nr in bands:
                L = nr * Wp
                for t in range(KH * KW):
                    pp, q = divmod(t, KW)
                    off = (i0 + pp * d[0]) * Wp + q * d[1]
                    prod = yw[:, :L] if t == 0 else tmp[:, :L]
                    np.matmul(wt[pp, q, go], xw[gi, off:off + L], out=prod)
                    if t:
                        yw[:, :L] += prod
                y[n, go, i0:i0 + nr] = yw[:, :L].reshape(Cog, nr, Wp)[:, :, :W_out]
    if b is not None:
        y += b.astype(x.dtype, copy=False).reshape(1, -1, 1, 1)
    return y


# ----------------------------------------------------------------------------- conv2d dL/dw
def conv_backward_weight(x, dy, w_shape, s, p, d, groups):
    """conv2d dL/dw, see ``conv2d_backward_weight_cpu``: sum over images of dy[n] @ cols^T."""
    x, dy = np.ascontiguousarray(x), np.ascontiguousarray(dy)
    N, C_in, H, W = x.shape
    C_out, Cg, KH, KW = w_shape
    Cog, K = C_out // groups, Cg * KH * KW
    H_out, W_out = dy.shape[2:]
    dw = np.zeros((C_out, K), dtype=x.dtype)
    dy3 = dy.reshape(N, C_out, H_out * W_out)
    if _is_pointwise(KH, KW, s, p):
        x3 = x.reshape(N, C_in, H * W)
        for g in range(groups):
            dw[g * Cog:(g + 1) * Cog] = np.matmul(
                dy3[:, g * Cog:(g + 1) * Cog], x3[:, g * Cg:(g + 1) * Cg].transpose(0, 2, 1)
            ).sum(axis=0)
        return dw.reshape(w_shape)
    if Cog <= DIRECT_MAX_COUT:
        xp = np.zeros((N, C_in, H + 2 * p[0], W + 2 * p[1]), dtype=x.dtype)
        xp[:, :, p[0]:p[0] + H, p[1]:p[1] + W] = x
        dw4 = np.empty(w_shape, dtype=x.dtype)
        _backward_weight_direct(xp, dy, dw4, s[0], s[1], d[0], d[1])
        return dw4
    tiles = _tiles(N, H_out, K * W_out * x.itemsize)
    nbm, nrm = max(t[1] for t in tiles), max(t[3] for t in tiles)
    xp = np.zeros((nbm, C_in, H + 2 * p[0], W + 2 * p[1]), dtype=x.dtype)
    buf = np.empty(K * nbm * nrm * W_out, dtype=x.dtype)
    tmp = np.empty((Cog, K), dtype=x.dtype)
    for n0, nb, i0, nr in tiles:
        if i0 == 0:
            xp[:nb, :, p[0]:p[0] + H, p[1]:p[1] + W] = x[n0:n0 + nb]
        L = nr * W_out
        for g in range(groups):
            dyt = dy3[n0:n0 + nb, g * Cog:(g + 1) * Cog, i0 * W_out:i0 * W_out + L]
            if nb > 1 and L < DW_JOIN_PIXELS:
                # small images: columns laid out (K, nb, L) and dy copied to (Cog, nb*L), so
                # the tile is ONE product with a long inner dimension, not nb tiny ones
                cols = buf[:K * nb * L].reshape(K, nb * L)
                _im2col(xp[:nb, g * Cg:(g + 1) * Cg], cols.reshape(K * nb, L), 1, nb, KH, KW,
                        *s, *d, i0, nr, W_out)
                np.matmul(dyt.transpose(1, 0, 2).reshape(Cog, nb * L), cols.T, out=tmp)
                dw[g * Cog:(g + 1) * Cog] += tmp
            else:
                cols = buf[:nb * K * L].reshape(nb, K, L)
                _im2col(xp[:nb, g * Cg:(g + 1) * Cg], cols.reshape(nb * K, L), K, 1, KH, KW,
                        *s, *d, i0, nr, W_out)
                for n in range(nb):
                    np.matmul(dyt[n], cols[n].T, out=tmp)
                    dw[g * Cog:(g + 1) * Cog] += tmp
    return dw.reshape(w_shape)


@njit(cache=True)
def _backward_weight_direct(xp, dy, dw, sh, sw, dh, dw_):
    """dw[o, c, p, q] = sum_{n,i,j} dy[n, o, i, j] * xp[n, g*Cg + c, i*sh + p*dh, j*sw + q*dw_].

    For layers with one or two output channels, where a column matrix would cost far more
    memory traffic than arithmetic (serial: see ``_col2im``). The sum over j is kept as a row
    of partial sums (vectorises without fastmath) and reduced at the end. The column index is
    unsigned: with a signed ``j + off`` Numba emits a negative-index wraparound check per
    element, which stops LLVM vectorising (8x slower, see benchmarks/README.md).
    """
    N, C_out, H_out, W_out = dy.shape
    _, Cg, KH, KW = dw.shape
    Cog = C_out // (xp.shape[1] // Cg)
    W_u, sw_u = uint64(W_out), uint64(sw)
    for t in range(C_out * Cg):
        o, c = t // Cg, t % Cg
        xc = (o // Cog) * Cg + c
        acc = np.zeros((KH, KW, W_out), dtype=dw.dtype)
        for n in range(N):
            for i in range(H_out):
                for p in range(KH):
                    h = i * sh + p * dh
                    for q in range(KW):
                        off = uint64(q * dw_)
                        if sw == 1:
                            for j in range(W_u):
                                acc[p, q, j] += dy[n, o, i, j] * xp[n, xc, h, j + off]
                        else:
                            for j in range(W_u):
                                acc[p, q, j] += dy[n, o, i, j] * xp[n, xc, h, j * sw_u + off]
        for p in range(KH):
            for q in range(KW):
                dw[o, c, p, q] = acc[p, q].sum()


# ----------------------------------------------------------------------------- transposed forward
def conv_transpose_forward(x, w, b, s, p, op, d, groups):
    """conv_transpose2d forward (= conv2d dL/dx), see its ``_cpu``: col2im(w^T @ x[n])."""
    x = np.ascontiguousarray(x)
    N, C_in, H, W = x.shape
    _, Cog, KH, KW = w.shape
    Cg, C_out, K = C_in // groups, Cog * groups, Cog * KH * KW
    H_out = transposed_out_size(H, KH, s[0], p[0], op[0], d[0])
    W_out = transposed_out_size(W, KW, s[1], p[1], op[1], d[1])
    q = (d[0] * (KH - 1) - p[0], d[1] * (KW - 1) - p[1])
    if s == (1, 1) and op == (0, 0) and Cg < Cog and min(q) >= 0:
        # With stride 1 the transposed conv is a plain conv with the kernel flipped and its
        # channel axes swapped; im2col of the (fewer) input channels then beats col2im.
        w_conv = np.ascontiguousarray(
            w[:, :, ::-1, ::-1].reshape(groups, Cg, Cog, KH, KW).swapaxes(1, 2)
        ).reshape(C_out, Cg, KH, KW)
        return conv_forward(x, w_conv, b, s, q, d, groups)
    w2 = np.ascontiguousarray(w, dtype=x.dtype).reshape(C_in, K)
    x3 = x.reshape(N, C_in, H * W)
    if _is_pointwise(KH, KW, s, p) and (H_out, W_out) == (H, W):
        y = np.empty((N, C_out, H, W), dtype=x.dtype)
        y3 = y.reshape(N, C_out, H * W)
        for g in range(groups):
            np.matmul(w2[g * Cg:(g + 1) * Cg].T, x3[:, g * Cg:(g + 1) * Cg],
                      out=y3[:, g * Cog:(g + 1) * Cog])
    else:
        y = np.empty((N, C_out, H_out, W_out), dtype=x.dtype)
        tiles = _tiles(N, H, K * W * x.itemsize)
        nb_max, nr_max = max(t[1] for t in tiles), max(t[3] for t in tiles)
        buf = np.empty(nb_max * K * nr_max * W, dtype=x.dtype)
        # the uncropped canvas of nb_max images
        yp = np.empty((nb_max, C_out, H_out + 2 * p[0], W_out + 2 * p[1]), dtype=x.dtype)
        for n0, nb, i0, nr in tiles:
            L = nr * W
            if i0 == 0:
                yp[:nb] = 0
            for g in range(groups):
                cols = buf[:nb * K * L].reshape(nb, K, L)
                np.matmul(w2[g * Cg:(g + 1) * Cg].T,
                          x3[n0:n0 + nb, g * Cg:(g + 1) * Cg, i0 * W:i0 * W + L], out=cols)
                _col2im(cols.reshape(nb, Cog, KH, KW, nr, W), yp[:nb, g * Cog:(g + 1) * Cog],
                        s, d, i0)
            if i0 + nr == H:
                y[n0:n0 + nb] = yp[:nb, :, p[0]:p[0] + H_out, p[1]:p[1] + W_out]
    if b is not None:
        y += b.astype(x.dtype, copy=False).reshape(1, -1, 1, 1)
    return y


def _tiles(N, rows, row_bytes):
    """(n0, nb, i0, nr) tiles: several whole images while they fit TILE_BYTES, else bands."""
    if rows * row_bytes <= TILE_BYTES:
        nb = max(1, min(N, TILE_BYTES // (rows * row_bytes)))
        return [(n0, min(nb, N - n0), 0, rows) for n0 in range(0, N, nb)]
    return [(n, 1, i0, nr) for n in range(N) for i0, nr in _bands(rows, row_bytes)]


def _col2im(cols, yp, s, d, i0):
    """yp[n, c, (i0 + i)*sh + p*dh, j*sw + q*dw] += cols[n, c, p, q, i, j] (yp uncropped).

    A gather: each canvas row (n, c, h) collects every column entry that lands on it, so rows
    are independent (no atomics, deterministic sums). Serial on purpose, like every loop
    here: a Numba thread pool woken between two multi-threaded BLAS calls fights OpenBLAS's
    spinning threads for the cores (5x slower measured, benchmarks/README.md).
    """
    nb, C, KH, KW, nr, W = cols.shape
    h_lo = i0 * s[0]
    h_hi = min(yp.shape[2], (i0 + nr - 1) * s[0] + (KH - 1) * d[0] + 1)
    _col2im_rows(cols, yp, s[0], s[1], d[0], d[1], h_lo, h_hi)


@njit(cache=True)
def _col2im_rows(cols, yp, sh, sw, dh, dw, h_lo, h_hi):
    nb, C, KH, KW, nr, W = cols.shape
    W_u, sw_u = uint64(W), uint64(sw)
    for n in range(nb):
        for c in range(C):
            for h in range(h_lo, h_hi):
                for p in range(KH):
                    rel = h - h_lo - p * dh
                    if rel < 0 or rel % sh != 0 or rel // sh >= nr:
                        continue
                    i = rel // sh
                    for q in range(KW):
                        off = uint64(q * dw)
                        if sw == 1:
                            for j in range(W_u):
                                yp[n, c, h, j + off] += cols[n, c, p, q, i, j]
                        else:
                            for j in range(W_u):
                                yp[n, c, h, j * sw_u + off] += cols[n, c, p, q, i, j]
