"""The GEMM conv algorithms: im2col, kn2row, pointwise and col2im (dL/dw: ``_conv_dw.py``).

Every pass is a few big matrix products (``np.matmul``) between a weight matrix and a
*column matrix* built one tile at a time (``_conv_blocks.tiles``): im2col copies each
receptive field into a column, col2im adds columns back. Layers with few output channels
use "kn2row": one product per kernel tap on shifted, copy-free views of a padded image;
with one output channel, the same shifted views feed a direct Numba loop instead of BLAS.
``_conv_paths.choose_path`` decides which runs. The tiles (or images) of a pass run on
minisr's threads (``_threads.for_items``), each with its own scratch and single-threaded BLAS.
Read next: ``_conv_dw.py``, ``_winograd.py``.
"""
from __future__ import annotations

from types import SimpleNamespace

import numba
import numpy as np

from minisr.kernels._conv_blocks import bands, split, tiles
from minisr.kernels._conv_loops import col2im, epilogue, im2col
from minisr.kernels._conv_loops import forward_direct as _direct
from minisr.kernels._shared import ACT_NONE
from minisr.kernels._threads import for_items


def _act(ep, dtype, C_out):
    """(act code, (C_out,) slopes) of an Epilogue or None."""
    if ep is None:
        return ACT_NONE, np.zeros(C_out, dtype)
    return ep.act, ep.slope


# kn2row runs its bands on one thread when each tap's product has fewer multiply-adds than
# this: the Python calls per tap then dominate, and two threads contend for the GIL
# (SRCNN's 5x5 32->1 at 16x48x48, 0.08 M per product: 2.83 ms on one thread, 4.13 on two).
KN2ROW_THREAD_MIN_MACS = 1 << 18
# A pointwise pass on fewer images than threads splits each image into pixel bands of at
# least this many pixels.
POINTWISE_MIN_PIXELS = 4096


def _pixel_bands(N, HW):
    """(image, first pixel, last pixel) items for the pointwise passes: whole images, or
    bands of one image when there are fewer images than threads."""
    T = numba.get_num_threads()
    k = 1 if N >= T else max(1, min(T, HW // POINTWISE_MIN_PIXELS))
    return [(n, k0, k1) for n in range(N) for k0, k1 in split(HW, k)]


def forward_pointwise(x, w, b, groups, y, ep=None):
    """1x1 stride-1 conv: x[n] already is the (C_in, H*W) column matrix; then bias and the
    epilogue's activation in one pass."""
    N, C_in, H, W = x.shape
    C_out, Cg = w.shape[:2]
    Cog = C_out // groups
    w2 = np.ascontiguousarray(w, dtype=x.dtype).reshape(C_out, Cg)
    x3, y3 = x.reshape(N, C_in, H * W), y.reshape(N, C_out, H * W)
    act, slope = _act(ep, x.dtype, C_out)
    bx = None if b is None else b.astype(x.dtype, copy=False)

    def band(item, _):
        n, k0, k1 = item
        for g in range(groups):
            np.matmul(w2[g * Cog:(g + 1) * Cog], x3[n, g * Cg:(g + 1) * Cg, k0:k1],
                      out=y3[n, g * Cog:(g + 1) * Cog, k0:k1])
        epilogue(y3[n:n + 1, :, k0:k1], bx, act, slope)
    for_items(_pixel_bands(N, H * W), band)
    return y


def forward_im2col(x, w, b, s, p, d, groups, y, ep=None):
    """y[n] = [w | b] @ [cols(x[n]); 1] per tile; the bias rides in the product, the
    epilogue's activation runs on each tile of y just written."""
    N, C_in, H, W = x.shape
    C_out, Cg, KH, KW = w.shape
    Cog, K = C_out // groups, Cg * KH * KW
    H_out, W_out = y.shape[2:]
    # a row of ones under the columns, b as an extra weight column
    has_bias = b is not None
    Kb = K + has_bias
    w2 = np.empty((C_out, Kb), dtype=x.dtype)
    w2[:, :K] = w.reshape(C_out, K)
    if has_bias:
        w2[:, K] = b
    plan = tiles(N, H_out, Kb * W_out * x.itemsize)
    y3 = y.reshape(N, C_out, H_out * W_out)
    scratch = _tile_scratch(plan, x, Kb * W_out)

    def tile(t, sc):
        n0, nb, i0, nr = t
        xp, buf = _padded(sc, x, n0, nb, p), sc.buf
        L = nr * W_out
        for g in range(groups):
            cols = buf[:nb * Kb * L].reshape(nb, Kb, L)
            im2col(xp[:nb, g * Cg:(g + 1) * Cg], cols.reshape(nb * Kb, L), Kb, 1,
                   KH, KW, *s, *d, i0, nr, W_out)
            if has_bias:
                cols[:, K] = 1
            yt = y3[n0:n0 + nb, g * Cog:(g + 1) * Cog, i0 * W_out:i0 * W_out + L]
            np.matmul(w2[g * Cog:(g + 1) * Cog], cols, out=yt)
            if ep is not None:
                epilogue(yt, None, ep.act, ep.slope[g * Cog:(g + 1) * Cog])
    for_items(plan, tile, scratch)
    return y


def _tile_scratch(plan, x, row_numbers):
    """A thread's scratch for ``plan``'s tiles: a zero-bordered copy of a tile's images
    (``xp``, filled by ``_padded``) and room for its column matrix (``buf``)."""
    nbm, nrm = max(t.images for t in plan), max(t.rows for t in plan)
    return lambda: SimpleNamespace(xp=None, first=-1, nbm=nbm,
                                   buf=np.empty(nbm * row_numbers * nrm, dtype=x.dtype))


def _padded(sc, x, n0, nb, p):
    """This thread's zero-padded copy of images n0 .. n0+nb (made once per tile of images;
    the border stays 0)."""
    H, W = x.shape[2:]
    if sc.xp is None:
        sc.xp = np.zeros((sc.nbm, x.shape[1], H + 2 * p[0], W + 2 * p[1]), dtype=x.dtype)
    if sc.first != n0:
        _copy_images(sc.xp[:nb, :, p[0]:p[0] + H, p[1]:p[1] + W], x, n0, nb)
        sc.first = n0
    return sc.xp


def _copy_images(out, x, n0, nb):
    """out[:] = x[n0:n0 + nb]; x is an array, or a space-to-depth view of one
    (``_conv_s2d.DepthImages``) that writes its images into out itself."""
    if isinstance(x, np.ndarray):
        out[...] = x[n0:n0 + nb]
    else:
        x.copy_images(out, n0, nb)


def _flat_image(x, p, d, KW):
    """Room for one padded image flattened row by row, (C_in, Hp*Wp + a tail for the
    largest column shift); the border and the tail stay 0 (``_flatten`` fills the rest)."""
    C_in, H, W = x.shape[1:]
    return np.zeros((C_in, (H + 2 * p[0]) * (W + 2 * p[1]) + (KW - 1) * d[1]), dtype=x.dtype)


def _flatten(xw, x, n, p):
    """Image n of x into the interior of ``_flat_image``'s buffer xw."""
    C_in, H, W = x.shape[1:]
    Hp, Wp = H + 2 * p[0], W + 2 * p[1]
    img = xw[:, :Hp * Wp].reshape(C_in, Hp, Wp)          # a view: the rows of xw
    _copy_images(img[None, :, p[0]:p[0] + H, p[1]:p[1] + W], x, n, 1)


def forward_kn2row(x, w, b, p, d, groups, y, ep=None):
    """Stride-1 forward as KH*KW products on shifted views (no im2col copy), one image at a time.

    Bias and the epilogue's activation run on each band before it is copied out.

    In a padded image flattened row by row (width Wp), tap (p, q) of output pixel (i, j) sits
    at flat index (i + p*dh)*Wp + j + q*dw: a fixed shift. Computing outputs on the Wp-wide
    grid (the last d*(KW-1) columns are garbage, dropped) makes x(shifted) a plain 2-D slice.
    """
    N, C_in, H, W = x.shape
    C_out, Cg, KH, KW = w.shape
    Cog = C_out // groups
    H_out, W_out = y.shape[2:]
    Wp = W + 2 * p[1]
    wt = np.ascontiguousarray(w.transpose(2, 3, 0, 1), dtype=x.dtype)   # (KH, KW, C_out, Cg)
    plan = bands(H_out, (2 * Cog + Cg) * Wp * x.itemsize)
    bx = None if b is None else b.astype(x.dtype, copy=False)
    act, slope = _act(ep, x.dtype, C_out)

    def scratch():      # the padded image, flat, and two bands
        return SimpleNamespace(xw=_flat_image(x, p, d, KW), first=-1,
                               yw=np.empty((Cog, plan[0][1] * Wp), x.dtype),
                               tmp=np.empty((Cog, plan[0][1] * Wp), x.dtype))

    def band(item, sc):
        n, i0, nr = item
        xw, yw, tmp = sc.xw, sc.yw, sc.tmp
        if sc.first != n:
            _flatten(xw, x, n, p)
            sc.first = n
        L = nr * Wp
        for g in range(groups):
            gi, go = slice(g * Cg, (g + 1) * Cg), slice(g * Cog, (g + 1) * Cog)
            for t in range(KH * KW):
                pp, q = divmod(t, KW)
                off = (i0 + pp * d[0]) * Wp + q * d[1]
                prod = yw[:, :L] if t == 0 else tmp[:, :L]
                np.matmul(wt[pp, q, go], xw[gi, off:off + L], out=prod)
                if t:
                    yw[:, :L] += prod
            epilogue(yw[None, :, :L], None if bx is None else bx[go], act, slope[go])
            y[n, go, i0:i0 + nr] = yw[:, :L].reshape(Cog, nr, Wp)[:, :, :W_out]
    threads = 1 if Cog * Cg * plan[0][1] * Wp < KN2ROW_THREAD_MIN_MACS else None
    for_items([(n, i0, nr) for n in range(N) for i0, nr in plan], band, scratch, threads)
    return y


def forward_direct(x, w, b, p, d, y, ep=None):
    """Stride-1, ungrouped forward of a layer with few output channels by the direct loop of
    ``_conv_loops.forward_direct``, on kn2row's flattened padded grid: one image per item,
    or, with fewer images than threads, one band of output rows per thread.

    For SRCNN's 5x5 32->1 at 16x48x48, 1.13-1.22 ms against kn2row's 2.76-2.87
    (benchmarks/README.md, "Direct loops for one output channel").
    """
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    H_out, W_out = y.shape[2:]
    Wp = W + 2 * p[1]
    wx = np.ascontiguousarray(w, dtype=x.dtype)
    bx = None if b is None else b.astype(x.dtype, copy=False)
    act, slope = _act(ep, x.dtype, C_out)
    T = numba.get_num_threads()
    k = 1 if N >= T else min(T, H_out)

    def scratch():      # the padded image, flat, and the output on its grid
        return SimpleNamespace(xw=_flat_image(x, p, d, KW), first=-1,
                               yw=np.empty((C_out, H_out * Wp), dtype=x.dtype))

    def band(item, sc):
        n, i0, i1 = item
        if sc.first != n:
            _flatten(sc.xw, x, n, p)
            sc.first = n
        _direct(sc.xw, wx, sc.yw, Wp, d[0], d[1], i0 * Wp, i1 * Wp)
        epilogue(sc.yw[None, :, i0 * Wp:i1 * Wp], bx, act, slope)
        y[n, :, i0:i1] = sc.yw.reshape(C_out, H_out, Wp)[:, i0:i1, :W_out]
    for_items([(n, i0, i1) for n in range(N) for i0, i1 in split(H_out, k)], band, scratch)
    return y


def transpose_pointwise(x3, w2, groups, y):
    """1x1 stride-1 transposed conv: y[n] = w^T @ x[n] per group."""
    N, C_in = x3.shape[:2]
    Cg, Cog = C_in // groups, y.shape[1] // groups
    y3 = y.reshape(N, y.shape[1], -1)

    def band(item, _):
        n, k0, k1 = item
        for g in range(groups):
            np.matmul(w2[g * Cg:(g + 1) * Cg].T, x3[n, g * Cg:(g + 1) * Cg, k0:k1],
                      out=y3[n, g * Cog:(g + 1) * Cog, k0:k1])
    for_items(_pixel_bands(N, x3.shape[2]), band)
    return y


def transpose_col2im(x, w2, KH, KW, s, p, d, groups, y):
    """cols = w^T @ x per tile (BLAS), then col2im onto an uncropped canvas, then the crop."""
    N, C_in, H, W = x.shape
    C_out, H_out, W_out = y.shape[1:]
    Cg, Cog = C_in // groups, C_out // groups
    K = Cog * KH * KW
    x3 = x.reshape(N, C_in, H * W)
    plan = tiles(N, H, K * W * x.itemsize)
    nbm, nrm = max(t.images for t in plan), max(t.rows for t in plan)
    # one item = all tiles of one set of images: a band's columns spill onto the next
    # band's canvas rows, so the bands of an image run in order on one thread
    items = [[t for t in plan if t.first_image == n0]
             for n0 in sorted({t.first_image for t in plan})]

    def scratch():
        return SimpleNamespace(buf=np.empty(nbm * K * nrm * W, dtype=x.dtype),
                               yp=np.empty((nbm, C_out, H_out + 2 * p[0], W_out + 2 * p[1]),
                                           dtype=x.dtype))

    def images(item, sc):
        buf, yp = sc.buf, sc.yp
        for n0, nb, i0, nr in item:
            L = nr * W
            if i0 == 0:
                yp[:nb] = 0
            for g in range(groups):
                cols = buf[:nb * K * L].reshape(nb, K, L)
                np.matmul(w2[g * Cg:(g + 1) * Cg].T,
                          x3[n0:n0 + nb, g * Cg:(g + 1) * Cg, i0 * W:i0 * W + L], out=cols)
                col2im(cols.reshape(nb, Cog, KH, KW, nr, W), yp[:nb, g * Cog:(g + 1) * Cog],
                       s, d, i0)
            if i0 + nr == H:
                y[n0:n0 + nb] = yp[:nb, :, p[0]:p[0] + H_out, p[1]:p[1] + W_out]
    for_items(items, images, scratch)
    return y
