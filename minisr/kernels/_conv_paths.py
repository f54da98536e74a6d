"""Which algorithm runs a conv pass, chosen in one place: ``choose_path``.

The entry points here (``conv_forward``, ``conv_backward_weight``, ``conv_transpose_forward``)
ask ``choose_path`` and call the algorithm it names, from ``_conv_gemm.py`` (im2col,
kn2row, pointwise, col2im), ``_conv_dw.py`` (dL/dw), ``_winograd.py`` or
``_winograd_dw.py``; strided layers whose kernel is a whole number of strides run
as the stride-1 conv of their space-to-depth twin (``_conv_s2d.py``). The cost model that
picks between im2col and Winograd is in ``path_costs``; ``benchmarks/README.md`` has the
measurements behind it. Read next: ``_conv_gemm.py``, ``_conv_dw.py``, ``_winograd.py``.
"""
from __future__ import annotations

import numba
import numpy as np

from minisr.kernels import _conv_dw as dw_
from minisr.kernels import _conv_gemm as gemm
from minisr.kernels import _conv_s2d as s2d
from minisr.kernels._conv_blocks import conv_out_size, is_pointwise, transposed_out_size
from minisr.kernels._winograd import winograd_forward
from minisr.kernels._winograd_dw import winograd_backward_weight

# dL/dw of layers with at most this many output channels (per group) uses a direct Numba loop.
DIRECT_MAX_COUT = 2
# ... and so does the forward of an ungrouped stride-1 layer with this few: 2.2-2.4x faster
# than kn2row with one output (5x5 32->1 and 64->1 at 16x48x48), 1.4x at 1x512x512; with
# two (3x3 32->2 at 16x48x48) it lost, 0.84-0.86x (benchmarks/bench_direct.py).
DIRECT_FWD_MAX_COUT = 1
# dL/dw of 3x3 stride-1 layers with at least this many input and output channels runs
# Winograd F(4x4) (``_winograd_dw.py``): 1.1-1.8x faster than im2col or kn2row from 8->8 to
# 64->64; at 32->3 it lost to kn2row (8.6 vs 6.5 ms), at 3->32 to im2col (2.4 vs 1.5 ms).
WINOGRAD_DW_MIN_CHANNELS = 8

# Cost model, in nanoseconds, fitted (least squares on relative error) to a quiet
# two-thread sweep on this machine (Xeon, AVX-512, 2 cores, 2026-12-02 15:10 UTC, training
# paused, every path on minisr's own threads with single-threaded BLAS; benchmarks/README.md,
# "minisr's own threads"): im2col, kn2row and Winograd F(4x4) forwards of the 17 stride-1 3x3
# layers of benchmarks/conv_path_costs.py, 12-128 channels, 16 x 24x24 to 1 x 512x512.
# im2col: a multiply-add of the big product costs GEMM_NS, a copied column entry COPY_NS.
# kn2row: a multiply-add of its KH*KW shifted products KN2ROW_GEMM_NS, and each of the
# KH KW (C_in + 3 C_out) numbers it moves per output pixel KN2ROW_MOVE_NS.
# Winograd: a multiply-add of its small per-position products (chunks of a few tile rows)
# WINO_GEMM_NS, a transformed element (input or output) WINO_NS, and each tile row of each
# channel WINO_ROW_NS of loop overhead: the transforms are Numba loops along one tile row.
GEMM_NS = 0.00805
COPY_NS = 0.299
KN2ROW_GEMM_NS = 0.0052
KN2ROW_MOVE_NS = 0.104
WINO_GEMM_NS = 0.00743
WINO_NS = 0.631
WINO_ROW_NS = 53.3
WINOGRAD_TILES = (4, 2)       # F(4x4, 3x3) and F(2x2, 3x3), in order of preference on a tie


def _winograd_ok(KH, KW, s, d, groups, p):
    return (KH, KW) == (3, 3) and s == (1, 1) and d == (1, 1) and groups == 1 \
        and p[0] == p[1] and 0 <= p[0] <= 2


# A strided layer runs as its space-to-depth twin (``_conv_s2d.py``) when it has at least
# S2D_MIN_OUT output rows and columns and no more outputs than inputs per group. The twin
# works on (H_out + ceil(KH/s) - 1) x (W_out + ...) blocks (kn2row's spare columns, the
# transposed conv's whole x_s), an overhead that grows as the image shrinks; and what it
# saves, the strided gather of im2col (scatter of col2im), is KH KW C_in numbers per output
# pixel against KH KW C_in C_out multiply-adds, a small part of a pass with many outputs.
# Measured (`bench_strided.py --sweep`, 4x4 stride 2, batch 8; benchmarks/README.md,
# "Strided convolution"): C_out <= C_in from 2->2 to 64->64 with 24-48 outputs per side,
# the twin ran 0.93-1.71x as fast as the strided im2col/col2im (13 of 15 passes
# faster); 128->128 with 12x12 and 6x6 outputs it lost (0.57-0.94x); C_out > C_in (4->32,
# 8->64, 16->64) it broke even or lost (0.85-1.02x), and FSRCNN's 9x9 stride-3
# deconvolution (1 -> 56 in conv2d's terms) lost dL/dw (0.59x).
S2D_MIN_OUT = 16


def _space_to_depth_ok(x_shape, w_shape, s, p, d, groups):
    """Strided, undilated, the kernel a whole number of strides on both axes (so the twin
    has no zero taps: 3x3 stride 2 would become 2x2 on 4 C_in channels, 16/9 of the
    multiply-adds, a quarter of them on zeros), C_out <= C_in per group, and outputs of at
    least S2D_MIN_OUT rows and columns. Shapes in conv2d's terms, the same for all passes."""
    C_out, Cg, KH, KW = w_shape
    if s == (1, 1) or d != (1, 1) or KH % s[0] or KW % s[1] or C_out // groups > Cg:
        return False
    H_out, W_out = conv_out_size(x_shape[2], KH, s[0], p[0], 1), \
        conv_out_size(x_shape[3], KW, s[1], p[1], 1)
    return min(H_out, W_out) >= S2D_MIN_OUT


def path_costs(N, C_in, C_out, H_out, W_out) -> dict[str, float]:
    """Estimated ns of a stride-1 3x3 conv forward by im2col, kn2row and each Winograd F(m x m).

    im2col:    per output pixel, 9 C_in C_out multiply-adds and 9 C_in copied numbers.
    kn2row:    per output pixel, 9 C_in C_out multiply-adds and 9 (C_in + 3 C_out) moved.
    winograd:  per tile of m x m outputs (tiles overhang the image; one spare tile per tile
               row), a^2 = (m+2)^2 products of C_in x C_out and a^2 (C_in + C_out)
               transformed numbers; per tile row, a fixed overhead for each channel.
    """
    pixels = N * H_out * W_out
    cost = {"im2col": pixels * (9 * C_in * C_out * GEMM_NS + 9 * C_in * COPY_NS),
            "kn2row": pixels * (9 * C_in * C_out * KN2ROW_GEMM_NS
                                + 9 * (C_in + 3 * C_out) * KN2ROW_MOVE_NS)}
    for m in WINOGRAD_TILES:
        rows = N * -(-H_out // m)
        tiles = rows * (-(-W_out // m) + 1)
        a2 = (m + 2) ** 2
        cost[f"winograd{m}"] = (tiles * a2 * (C_in * C_out * WINO_GEMM_NS
                                              + (C_in + C_out) * WINO_NS)
                                + rows * (C_in + C_out) * WINO_ROW_NS)
    return cost


def choose_path(pass_name: str, x_shape, w_shape, s, p, d, groups) -> str:
    """The algorithm for one pass of conv2d with these shapes; all decisions are here.

    pass_name is 'forward' (also conv_transpose2d's backward_input), 'backward_weight' or
    'backward_input' (also conv_transpose2d's forward); x_shape, w_shape in conv2d's terms.
    Returns one of 'pointwise', 'direct', 'space_to_depth', 'kn2row', 'im2col',
    'winograd4', 'winograd2' (forward); 'pointwise', 'direct', 'space_to_depth',
    'winograd4', 'kn2row', 'im2col' (backward_weight); 'space_to_depth' or 'col2im'
    (backward_input; at stride 1 ``conv_transpose_forward`` may run its col2im as a conv
    with the flipped kernel, as its comment says).

    - 'pointwise': 1x1 stride 1 unpadded; x[n] is already the column matrix.
    - 'direct' (dL/dw with <= DIRECT_MAX_COUT outputs per group; the forward of an ungrouped
      stride-1 layer with <= DIRECT_FWD_MAX_COUT): a column matrix, or kn2row's one product
      per tap, would move far more memory than there is arithmetic.
    - 'space_to_depth' (``_space_to_depth_ok``: stride > 1, dilation 1, KH and KW multiples
      of the stride, C_out <= C_in per group, >= S2D_MIN_OUT outputs per side; every pass
      but a direct dL/dw): the stride-1 conv of x_s = pixel_unshuffle(x_pad) with the
      weight rearranged (``_conv_s2d.py``), on whichever stride-1 path this function picks
      for that conv. The strided im2col gathers every s-th pixel and col2im scatters to
      them; the twin copies unit-stride rows (im2col), or none (kn2row). On the GAN
      discriminator's 4x4 stride-2 layers with 48x48 and 24x24 outputs it is 0.99-1.43x
      as fast as the strided im2col/col2im (benchmarks/README.md, "Strided convolution").
    - 3x3, stride 1, dilation 1, groups 1: whichever of 'im2col', 'kn2row' and
      'winograd{m}' ``path_costs`` says is cheapest.
    - 'kn2row' otherwise (stride 1, C_out < 2/3 C_in per group): it moves KH KW (C_in + 3
      C_out) numbers per output pixel against im2col's 3 KH KW C_in (README, "kn2row").
      The same rule picks kn2row for dL/dw (ungrouped, at least one image per thread: its
      items are images); 32->3 at 16x96x96 took 6.6 ms against im2col's 17.7
      (benchmarks/README.md, "minisr's own threads").
    - dL/dw of a Winograd-able layer with >= WINOGRAD_DW_MIN_CHANNELS inputs: 'winograd4',
      unless kn2row applies and the outputs are fewer than that.
    """
    N, C_in, H, W = x_shape
    C_out, Cg, KH, KW = w_shape
    Cog = C_out // groups
    if is_pointwise(KH, KW, s, p):
        return "pointwise"
    if pass_name == "backward_input":
        s2d_ok = _space_to_depth_ok(x_shape, w_shape, s, p, d, groups)
        return "space_to_depth" if s2d_ok else "col2im"
    if pass_name == "backward_weight":
        if Cog <= DIRECT_MAX_COUT:
            return "direct"
        if _space_to_depth_ok(x_shape, w_shape, s, p, d, groups):
            return "space_to_depth"
        kn2row = s == (1, 1) and groups == 1 and 3 * Cog < 2 * Cg \
            and N >= numba.get_num_threads()
        if _winograd_ok(KH, KW, s, d, groups, p) and Cg >= WINOGRAD_DW_MIN_CHANNELS \
                and (Cog >= WINOGRAD_DW_MIN_CHANNELS or not kn2row):
            return "winograd4"
        return "kn2row" if kn2row else "im2col"
    if _space_to_depth_ok(x_shape, w_shape, s, p, d, groups):
        return "space_to_depth"
    if Cog <= DIRECT_FWD_MAX_COUT and groups == 1 and s == (1, 1):
        return "direct"
    if _winograd_ok(KH, KW, s, d, groups, p):
        H_out, W_out = conv_out_size(H, 3, 1, p[0], 1), conv_out_size(W, 3, 1, p[1], 1)
        cost = path_costs(N, C_in, C_out, H_out, W_out)
        return min(cost, key=cost.get)
    if s == (1, 1) and 3 * Cog < 2 * Cg:
        return "kn2row"
    return "im2col"


# ----------------------------------------------------------------------------- entry points
def _depth_images(x, s, p, KH, KW, H_out, W_out):
    """x's space-to-depth twin for a stride-s conv with H_out x W_out outputs."""
    return s2d.DepthImages(x, s, p, s2d.depth_size(H_out, KH, s[0]),
                           s2d.depth_size(W_out, KW, s[1]))


def _array(x):
    """x itself, or all of a ``DepthImages`` (for the paths that read x directly)."""
    return x.array() if isinstance(x, s2d.DepthImages) else x


def conv_forward(x, w, b, s, p, d, groups, ep=None):
    """conv2d forward, see ``conv2d_forward_cpu``; ``ep`` (an ``Epilogue``) adds the
    activation of ``conv2d_act_forward_cpu`` to each path's bias step. x is an array, or
    (from the 'space_to_depth' path) a ``_conv_s2d.DepthImages``."""
    if isinstance(x, np.ndarray):
        x = np.ascontiguousarray(x)
    N, C_in, H, W = x.shape
    C_out, Cg, KH, KW = w.shape
    path = choose_path("forward", x.shape, w.shape, s, p, d, groups)
    H_out, W_out = conv_out_size(H, KH, s[0], p[0], d[0]), conv_out_size(W, KW, s[1], p[1], d[1])
    if path == "space_to_depth":
        return conv_forward(_depth_images(x, s, p, KH, KW, H_out, W_out),
                            s2d.weight_to_depth(w, s), b, (1, 1), (0, 0), (1, 1), groups, ep)
    if path.startswith("winograd"):
        x = _array(x)
        if ep is None:
            return winograd_forward(x, w, b, p[0], int(path[-1]))
        return winograd_forward(x, w, b, p[0], int(path[-1]), ep.act, ep.slope)
    y = np.empty((N, C_out, H_out, W_out), dtype=x.dtype)
    if path == "pointwise":
        return gemm.forward_pointwise(_array(x), w, b, groups, y, ep)
    if path == "kn2row":
        return gemm.forward_kn2row(x, w, b, p, d, groups, y, ep)
    if path == "direct":
        return gemm.forward_direct(x, w, b, p, d, y, ep)
    return gemm.forward_im2col(x, w, b, s, p, d, groups, y, ep)


def conv_backward_weight(x, dy, w_shape, s, p, d, groups):
    """conv2d dL/dw, see ``conv2d_backward_weight_cpu``: sum over images of dy[n] @ cols^T.
    x is an array, or (from the 'space_to_depth' path) a ``_conv_s2d.DepthImages``."""
    if isinstance(x, np.ndarray):
        x = np.ascontiguousarray(x)
    dy = np.ascontiguousarray(dy)
    N, C_out, H_out, W_out = dy.shape
    Cg, KH, KW = w_shape[1:]
    path = choose_path("backward_weight", x.shape, w_shape, s, p, d, groups)
    dy3 = dy.reshape(N, C_out, H_out * W_out)
    if path == "space_to_depth":
        Kh, Kw = -(-KH // s[0]), -(-KW // s[1])
        dws = conv_backward_weight(_depth_images(x, s, p, KH, KW, H_out, W_out), dy,
                                   (C_out, Cg * s[0] * s[1], Kh, Kw), (1, 1), (0, 0), (1, 1),
                                   groups)
        return s2d.weight_from_depth(dws, s, w_shape)
    if path == "direct":
        return dw_.backward_weight_direct_padded(_array(x), dy, w_shape, s, p, d)
    if path == "winograd4":
        return winograd_backward_weight(_array(x), dy, p[0], 4)
    if path == "kn2row":
        return dw_.backward_weight_kn2row(x, dy, w_shape, p, d)
    dw = np.zeros((C_out, Cg * KH * KW), dtype=x.dtype)
    if path == "pointwise":
        dw_.backward_weight_pointwise(_array(x), dy3, dw, groups)
    else:
        dw_.backward_weight_im2col(x, dy3, dw, w_shape, s, p, d, groups, H_out, W_out)
    return dw.reshape(w_shape)


def flipped_kernel(w, groups):
    """The conv2d weight (C_out, C_in/groups, KH, KW) that runs a stride-1 transposed conv
    with weight w (C_in, C_out/groups, KH, KW): flipped in space, channel axes swapped."""
    C_in, Cog, KH, KW = w.shape
    Cg = C_in // groups
    return np.ascontiguousarray(
        w[:, :, ::-1, ::-1].reshape(groups, Cg, Cog, KH, KW).swapaxes(1, 2)
    ).reshape(Cog * groups, Cg, KH, KW)


def conv_transpose_forward(x, w, b, s, p, op, d, groups):
    """conv_transpose2d forward (= conv2d dL/dx), see its ``_cpu``: col2im(w^T @ x[n])."""
    x = np.ascontiguousarray(x)
    N, C_in, H, W = x.shape
    _, Cog, KH, KW = w.shape
    Cg, C_out = C_in // groups, Cog * groups
    H_out = transposed_out_size(H, KH, s[0], p[0], op[0], d[0])
    W_out = transposed_out_size(W, KW, s[1], p[1], op[1], d[1])
    if choose_path("backward_input", (N, C_out, H_out, W_out), w.shape, s, p, d,
                   groups) == "space_to_depth":
        # the adjoint of the forward's space-to-depth: the stride-1 transposed conv onto
        # x_s's gradient, then each block's channels put back as its pixels
        dys = conv_transpose_forward(x, s2d.weight_to_depth(w, s), None, (1, 1), (0, 0),
                                     (0, 0), (1, 1), groups)
        y = s2d.depth_to_space(dys, s, p, (N, C_out, H_out, W_out))
        if b is not None:
            y += b.astype(x.dtype, copy=False).reshape(1, -1, 1, 1)
        return y
    q = (d[0] * (KH - 1) - p[0], d[1] * (KW - 1) - p[1])
    if s == (1, 1) and op == (0, 0) and min(q) >= 0:
        # With stride 1 the transposed conv is a plain conv with the kernel flipped and its
        # channel axes swapped, padded by q: taken when that conv runs Winograd, or when
        # im2col of the (fewer) input channels beats a KH*KW-times-larger col2im.
        path = choose_path("forward", x.shape, (C_out, Cg, KH, KW), s, q, d, groups)
        if path.startswith("winograd") or Cg < Cog:
            return conv_forward(x, flipped_kernel(w, groups), b, s, q, d, groups)
    w2 = np.ascontiguousarray(w, dtype=x.dtype).reshape(C_in, Cog * KH * KW)
    y = np.empty((N, C_out, H_out, W_out), dtype=x.dtype)
    if is_pointwise(KH, KW, s, p) and (H_out, W_out) == (H, W):
        gemm.transpose_pointwise(x.reshape(N, C_in, H * W), w2, groups, y)
    else:
        gemm.transpose_col2im(x, w2, KH, KW, s, p, d, groups, y)
    if b is not None:
        y += b.astype(x.dtype, copy=False).reshape(1, -1, 1, 1)
    return y
