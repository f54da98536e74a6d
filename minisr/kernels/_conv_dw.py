"""dL/dw of conv2d by products: pointwise, im2col columns, kn2row shifted views, or direct.

dw[o, c, p, q] = sum over images and output pixels of dy[n, o, i, j] * x_pad[n, c, i s +
p d, j s + q d]. Each algorithm splits the sum into items (tiles, images) that minisr's
threads run with their own share of dw (``_threads.for_items``); the shares are added in
thread order, so the result is the same on every run. ``_conv_paths.choose_path`` decides
which runs. Read next: ``_winograd.py``.
"""
from __future__ import annotations

from types import SimpleNamespace

import numba
import numpy as np

from minisr.kernels._conv_blocks import split, tiles
from minisr.kernels._conv_gemm import _flat_image, _flatten, _padded, _pixel_bands, _tile_scratch
from minisr.kernels._conv_loops import backward_weight_direct, im2col
from minisr.kernels._threads import for_items

# dL/dw joins a tile's images into one product when they have fewer pixels than this.
DW_JOIN_PIXELS = 1024


def backward_weight_pointwise(x, dy3, dw, groups):
    """1x1 stride-1 dL/dw: one broadcast product per group, summed over images."""
    N, C_in = x.shape[:2]
    C_out, Cg = dw.shape
    Cog = C_out // groups
    x3 = x.reshape(N, C_in, -1)

    def band(item, part):
        n, k0, k1 = item
        for g in range(groups):
            part[g * Cog:(g + 1) * Cog] += dy3[n, g * Cog:(g + 1) * Cog, k0:k1] @ \
                x3[n, g * Cg:(g + 1) * Cg, k0:k1].T
    dw[:] = sum(for_items(_pixel_bands(N, x3.shape[2]), band, lambda: np.zeros_like(dw)))
    return dw


def backward_weight_direct_padded(x, dy, w_shape, s, p, d):
    """dL/dw of layers with one or two output channels: the direct Numba loop, its (output,
    input channel) pairs shared out in contiguous runs, one per thread (each pair is summed
    whole by one thread, so the result does not depend on the thread count)."""
    N, C_in, H, W = x.shape
    xp = np.empty((N, C_in, H + 2 * p[0], W + 2 * p[1]), dtype=x.dtype)

    def pad(n, _):      # the padded copy, one image per item, on the threads too
        xp[n, :, :p[0]], xp[n, :, p[0] + H:], xp[n, :, :, :p[1]] = 0, 0, 0
        xp[n, :, :, p[1] + W:] = 0
        xp[n, :, p[0]:p[0] + H, p[1]:p[1] + W] = x[n]
    for_items(range(N), pad)
    dw4 = np.empty(w_shape, dtype=x.dtype)
    pairs = w_shape[0] * w_shape[1]
    for_items(split(pairs, min(numba.get_num_threads(), pairs)),
              lambda t, _: backward_weight_direct(xp, dy, dw4, s[0], s[1], d[0], d[1], *t))
    return dw4


def backward_weight_im2col(x, dy3, dw, w_shape, s, p, d, groups, H_out, W_out):
    """dw += dy_tile @ cols_tile^T over tiles; tiny images joined into one product."""
    N, C_in, H, W = x.shape
    C_out, Cg, KH, KW = w_shape
    Cog, K = C_out // groups, Cg * KH * KW
    plan = tiles(N, H_out, K * W_out * x.itemsize)
    tile_scratch = _tile_scratch(plan, x, K * W_out)

    def scratch():      # + this thread's share of dw, and one product
        sc = tile_scratch()
        sc.dw, sc.tmp = np.zeros_like(dw), np.empty((Cog, K), dtype=x.dtype)
        return sc

    def tile(t, sc):
        n0, nb, i0, nr = t
        xp, buf, tmp = _padded(sc, x, n0, nb, p), sc.buf, sc.tmp
        L = nr * W_out
        for g in range(groups):
            dyt = dy3[n0:n0 + nb, g * Cog:(g + 1) * Cog, i0 * W_out:i0 * W_out + L]
            if nb > 1 and L < DW_JOIN_PIXELS:
                # small images: columns laid out (K, nb, L) and dy copied to (Cog, nb*L), so
                # the tile is ONE product with a long inner dimension, not nb tiny ones
                cols = buf[:K * nb * L].reshape(K, nb * L)
                im2col(xp[:nb, g * Cg:(g + 1) * Cg], cols.reshape(K * nb, L), 1, nb, KH, KW,
                       *s, *d, i0, nr, W_out)
                np.matmul(dyt.transpose(1, 0, 2).reshape(Cog, nb * L), cols.T, out=tmp)
                sc.dw[g * Cog:(g + 1) * Cog] += tmp
            else:
                cols = buf[:nb * K * L].reshape(nb, K, L)
                im2col(xp[:nb, g * Cg:(g + 1) * Cg], cols.reshape(nb * K, L), K, 1, KH, KW,
                       *s, *d, i0, nr, W_out)
                for n in range(nb):
                    np.matmul(dyt[n], cols[n].T, out=tmp)
                    sc.dw[g * Cog:(g + 1) * Cog] += tmp
    for sc in for_items(plan, tile, scratch):
        dw += sc.dw
    return dw


def backward_weight_kn2row(x, dy, w_shape, p, d):
    """Stride-1, ungrouped dL/dw as KH*KW products on shifted views, one image per item:
    dw[:, :, p, q] += dy_w[n] (C_out, L) @ x_w[n][:, shift(p, q):][:, :L]^T (L, C_in).

    x_w is the padded image flattened row by row (width Wp) and dy_w is dy laid on the same
    Wp-wide grid with zeros in the d*(KW-1) extra columns. Then the input pixel that tap
    (p, q) of output (i, j) read sits at a fixed shift, (i + p dh) Wp + j + q dw, as in
    ``_conv_gemm.forward_kn2row``, and no column matrix is copied. Taken for layers with few
    outputs: the im2col copy, 9 C_in numbers per pixel, outweighs their small product.
    """
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w_shape
    H_out, W_out = dy.shape[2:]
    Wp = W + 2 * p[1]
    L = H_out * Wp

    def scratch():
        return SimpleNamespace(xw=_flat_image(x, p, d, KW),
                               dyw=np.zeros((C_out, H_out, Wp), x.dtype),
                               dw=np.zeros((KH * KW, C_out, C_in), x.dtype),
                               tmp=np.empty((C_out, C_in), x.dtype))

    def image(n, sc):
        _flatten(sc.xw, x, n, p)
        sc.dyw[:, :, :W_out] = dy[n]
        dy2 = sc.dyw.reshape(C_out, L)
        for t in range(KH * KW):
            pp, q = divmod(t, KW)
            off = pp * d[0] * Wp + q * d[1]
            np.matmul(dy2, sc.xw[:, off:off + L].T, out=sc.tmp)
            sc.dw[t] += sc.tmp
    dw = sum(sc.dw for sc in for_items(range(N), image, scratch))
    return np.ascontiguousarray(dw.transpose(1, 2, 0)).reshape(w_shape)
