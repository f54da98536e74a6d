"""Losing variant: F(4x4, 3x3) Winograd transforms written out, one matrix row per loop.

    python benchmarks/winograd_unrolled.py [--threads T] [--repeats N]

The package's transforms (``minisr/kernels/_winograd.py``, ``_winograd_dw.py``) run one pass
over a chunk's tiles per nonzero entry of B^T or A^T, accumulating. Here each output row of
each matrix is ONE loop that reads all its inputs (``_bt_row``, ``_at_row``, ``_a_row``), and
the column steps read whole image rows with stride-4 loads (``_bt_cols``, ``_a_cols``), so
there is no de-interleaving gather and no scatter. Writing all outputs of a tile in one loop
does not vectorise: LLVM wants hundreds of overlap checks and gives up ("too many memory
checks needed"); one written array per loop needs at most six. Checked against the
package's transforms, then timed inside the package's ``winograd_forward`` and
``winograd_backward_weight``. Why it lost is in benchmarks/README.md: 0.95-1.20x forward,
because the cost is the many one-output loops per chunk, which both versions have.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from minisr.kernels._shared import ACT_NONE, activate



# One output row of each matrix as one loop along the tiles: dst[u] = sum_q coef[q] src_q[u].
# A loop that writes one array and reads six needs six overlap checks, under LLVM's limit of
# eight, so it vectorises; a loop writing all outputs of a tile at once needs hundreds, and
# LLVM leaves it scalar ("too many memory checks needed").

@njit(nogil=True, inline="always")
def _bt_row(dst, d0, d1, d2, d3, d4, d5, t):
    """dst = row t of B^T applied to (d0, ..., d5): 4 0 -5 0 1 0 / 0 -4 -4 1 1 0 / ..."""
    c2, c4, c5 = dst.dtype.type(2), dst.dtype.type(4), dst.dtype.type(5)
    if t == 0:
        for u in range(dst.size):
            dst[u] = c4 * d0[u] - c5 * d2[u] + d4[u]
    elif t == 1:
        for u in range(dst.size):
            dst[u] = (d3[u] + d4[u]) - c4 * (d1[u] + d2[u])
    elif t == 2:
        for u in range(dst.size):
            dst[u] = (d4[u] - d3[u]) + c4 * (d1[u] - d2[u])
    elif t == 3:
        for u in range(dst.size):
            dst[u] = (d4[u] - d2[u]) + c2 * (d3[u] - d1[u])
    elif t == 4:
        for u in range(dst.size):
            dst[u] = (d4[u] - d2[u]) + c2 * (d1[u] - d3[u])
    else:
        for u in range(dst.size):
            dst[u] = c4 * d1[u] - c5 * d3[u] + d5[u]


@njit(nogil=True, inline="always")
def _bt_cols(dst, d, t):
    """dst[u] = row t of B^T applied to the six taps d[4u], ..., d[4u + 5] of tile u: tiles
    start every 4 columns, so one loop with stride-4 loads (which LLVM vectorises)."""
    c2, c4, c5 = dst.dtype.type(2), dst.dtype.type(4), dst.dtype.type(5)
    if t == 0:
        for u in range(dst.size):
            dst[u] = c4 * d[4 * u] - c5 * d[4 * u + 2] + d[4 * u + 4]
    elif t == 1:
        for u in range(dst.size):
            dst[u] = (d[4 * u + 3] + d[4 * u + 4]) - c4 * (d[4 * u + 1] + d[4 * u + 2])
    elif t == 2:
        for u in range(dst.size):
            dst[u] = (d[4 * u + 4] - d[4 * u + 3]) + c4 * (d[4 * u + 1] - d[4 * u + 2])
    elif t == 3:
        for u in range(dst.size):
            dst[u] = (d[4 * u + 4] - d[4 * u + 2]) + c2 * (d[4 * u + 3] - d[4 * u + 1])
    elif t == 4:
        for u in range(dst.size):
            dst[u] = (d[4 * u + 4] - d[4 * u + 2]) + c2 * (d[4 * u + 1] - d[4 * u + 3])
    else:
        for u in range(dst.size):
            dst[u] = c4 * d[4 * u + 1] - c5 * d[4 * u + 3] + d[4 * u + 5]


@njit(nogil=True, inline="always")
def _at_row(dst, m0, m1, m2, m3, m4, m5, i, bias):
    """dst = row i of A^T applied to (m0, ..., m5), + bias: 1 1 1 1 1 0 / 0 1 -1 2 -2 0 / ..."""
    c2, c4, c8 = dst.dtype.type(2), dst.dtype.type(4), dst.dtype.type(8)
    if i == 0:
        for u in range(dst.size):
            dst[u] = bias + m0[u] + (m1[u] + m2[u]) + (m3[u] + m4[u])
    elif i == 1:
        for u in range(dst.size):
            dst[u] = bias + (m1[u] - m2[u]) + c2 * (m3[u] - m4[u])
    elif i == 2:
        for u in range(dst.size):
            dst[u] = bias + (m1[u] + m2[u]) + c4 * (m3[u] + m4[u])
    else:
        for u in range(dst.size):
            dst[u] = bias + (m1[u] - m2[u]) + c8 * (m3[u] - m4[u]) + m5[u]


@njit(nogil=True, inline="always")
def _at_cols(dst, m0, m1, m2, m3, m4, m5, bias):
    """dst[4u + k] = row k of A^T applied to (m0[u], ..., m5[u]), + bias: the four outputs
    of tile u written side by side, as they lie in an image row (stride-4 stores)."""
    c2, c4, c8 = dst.dtype.type(2), dst.dtype.type(4), dst.dtype.type(8)
    for u in range(m0.size):
        p, q = m1[u] + m2[u], m1[u] - m2[u]
        r, s = m3[u] + m4[u], m3[u] - m4[u]
        dst[4 * u] = bias + m0[u] + p + r
        dst[4 * u + 1] = bias + q + c2 * s
        dst[4 * u + 2] = bias + p + c4 * r
        dst[4 * u + 3] = bias + q + c8 * s + m5[u]


@njit(nogil=True, inline="always")
def _a_cols(dst, v, s):
    """dst[u] = row s of A applied to the four values v[4u], ..., v[4u + 3] of tile u."""
    c2, c4, c8 = dst.dtype.type(2), dst.dtype.type(4), dst.dtype.type(8)
    if s == 0:
        for u in range(dst.size):
            dst[u] = v[4 * u]
    elif s == 1:
        for u in range(dst.size):
            dst[u] = (v[4 * u] + v[4 * u + 2]) + (v[4 * u + 1] + v[4 * u + 3])
    elif s == 2:
        for u in range(dst.size):
            dst[u] = (v[4 * u] + v[4 * u + 2]) - (v[4 * u + 1] + v[4 * u + 3])
    elif s == 3:
        for u in range(dst.size):
            dst[u] = (v[4 * u] + c4 * v[4 * u + 2]) + (c2 * v[4 * u + 1] + c8 * v[4 * u + 3])
    elif s == 4:
        for u in range(dst.size):
            dst[u] = (v[4 * u] + c4 * v[4 * u + 2]) - (c2 * v[4 * u + 1] + c8 * v[4 * u + 3])
    else:
        for u in range(dst.size):
            dst[u] = v[4 * u + 3]


@njit(nogil=True, inline="always")
def _a_row(dst, v0, v1, v2, v3, s):
    """dst = row s of A applied to (v0, ..., v3): 1 0 0 0 / 1 1 1 1 / 1 -1 1 -1 / 1 2 4 8 / ..."""
    c2, c4, c8 = dst.dtype.type(2), dst.dtype.type(4), dst.dtype.type(8)
    if s == 0:
        dst[:] = v0
    elif s == 1:
        for u in range(dst.size):
            dst[u] = (v0[u] + v2[u]) + (v1[u] + v3[u])
    elif s == 2:
        for u in range(dst.size):
            dst[u] = (v0[u] + v2[u]) - (v1[u] + v3[u])
    elif s == 3:
        for u in range(dst.size):
            dst[u] = (v0[u] + c4 * v2[u]) + (c2 * v1[u] + c8 * v3[u])
    elif s == 4:
        for u in range(dst.size):
            dst[u] = (v0[u] + c4 * v2[u]) - (c2 * v1[u] + c8 * v3[u])
    else:
        dst[:] = v3


@njit(nogil=True)
def input_transform4(x, V, pad, r0, r1, nth, ntw):
    """``_winograd._input_transform_py`` for m = 4: V[s*6 + t, c, u] = (B^T d B)[s, t].

    Tile u = (r - r0)*(ntw + 1) + j of tile row r = n*nth + ti starts at padded pixel
    (4 ti, 4 j). Row i of every tile row is copied whole into D[i], (ntw + 1)*4 columns per
    tile row, so tile u's taps in that row are D[i, 4u], ..., D[i, 4u + 5]: B runs along the
    columns, H[t, i] = row t of B^T over those taps; then B^T down the rows, V[s*6 + t] =
    row s of B^T over H[t, 0..5]. (The spare tile j = ntw reads the next tile row's first
    columns; its results are discarded.)
    """
    N, C, H, W = x.shape
    P = V.shape[2]
    Wb = 4 * (ntw + 1)
    D = np.zeros((6, (r1 - r0) * Wb + 8), dtype=x.dtype)   # + 8: the last spare tile's taps
    Hc = np.empty((6, 6, P), dtype=x.dtype)
    for c in range(C):
        for r in range(r0, r1):
            n, ti = r // nth, r % nth
            start = (r - r0) * Wb + pad                # the padding columns stay zero
            for i in range(6):
                h = ti * 4 - pad + i
                if 0 <= h < H:
                    D[i, start:start + W] = x[n, c, h]
                else:
                    D[i, start:start + W] = 0
        for t in range(6):
            for i in range(6):
                _bt_cols(Hc[t, i], D[i], t)
        for s in range(6):
            for t in range(6):
                Ht = Hc[t]
                _bt_row(V[s * 6 + t, c], Ht[0], Ht[1], Ht[2], Ht[3], Ht[4], Ht[5], s)


@njit(nogil=True)
def output_transform4(M, y, b, act, slope, r0, r1, nth, ntw):
    """``_winograd._output_transform_py`` for m = 4: y[n, o, 4ti + i, 4j + k] =
    act((A^T M_u A)[i, k] + b[o]) for tile u = (r - r0)*(ntw + 1) + j of tile row r.

    S = A^T M down the rows (S[i, t] = row i of A^T over M[t], M[6 + t], ...), then A along
    them: row i of tile row r's outputs is written side by side into Yb[i], as in the image,
    and copied into y row by row (dropping what overhangs H_out, W_out).
    """
    N, C_out, H_out, W_out = y.shape
    P = M.shape[2]
    Wb = 4 * (ntw + 1)
    S = np.empty((4, 6, P), dtype=y.dtype)
    Yb = np.empty((4, (r1 - r0) * Wb), dtype=y.dtype)
    zero = y.dtype.type(0)
    for o in range(C_out):
        for i in range(4):
            for t in range(6):
                _at_row(S[i, t], M[t, o], M[6 + t, o], M[12 + t, o], M[18 + t, o],
                        M[24 + t, o], M[30 + t, o], i, zero)
        for i in range(4):
            Si = S[i]
            _at_cols(Yb[i], Si[0], Si[1], Si[2], Si[3], Si[4], Si[5], b[o])
        for r in range(r0, r1):
            n, ti = r // nth, r % nth
            start = (r - r0) * Wb
            for i in range(min(4, H_out - ti * 4)):
                dst, src = y[n, o, ti * 4 + i], Yb[i, start:start + W_out]
                if act == ACT_NONE:
                    dst[:] = src
                else:
                    for k in range(W_out):
                        dst[k] = activate(act, src[k], slope[o], zero)


@njit(nogil=True)
def dy_transform4(dy, Z, r0, r1, nth, ntw):
    """``_winograd_dw._dy_transform`` for m = 4: Z[s*6 + t, o, u] = (A dY_u A^T)[s, t] for
    the 4 x 4 block dY_u of dy at tile u = (r - r0)*(ntw + 1) + j of tile row r.

    Row i of every tile row's block is copied whole into Db[i] (zero past H_out, W_out, and
    so for the spare tile): A along the columns, S[i, t] = row t of A over Db[i, 4u..4u+3];
    then A down the rows, Z[s*6 + t] = row s of A over S[0..3, t].
    """
    N, C_out, H_out, W_out = dy.shape
    P = Z.shape[2]
    Wb = 4 * (ntw + 1)
    Db = np.zeros((4, (r1 - r0) * Wb), dtype=dy.dtype)   # rows past H_out are never written
    S = np.empty((4, 6, P), dtype=dy.dtype)
    for o in range(C_out):
        for r in range(r0, r1):
            n, ti = r // nth, r % nth
            start = (r - r0) * Wb
            for i in range(min(4, H_out - ti * 4)):
                Db[i, start:start + W_out] = dy[n, o, ti * 4 + i]
        for i in range(4):
            for t in range(6):
                _a_cols(S[i, t], Db[i], t)
        for s in range(6):
            for t in range(6):
                _a_row(Z[s * 6 + t, o], S[0, t], S[1, t], S[2, t], S[3, t], s)


# ----------------------------------------------------------------------------- the A/B
def _check(rng):
    """The written-out transforms equal the package's on odd shapes, chunks, pads (float64)."""
    from minisr.kernels import _winograd as W, _winograd_dw as WD
    BT, _, AT = W.WINOGRAD[4]
    for N, C, H, Wd, pad in ((3, 5, 21, 19, 1), (2, 3, 9, 14, 0), (2, 4, 7, 7, 2)):
        x = rng.standard_normal((N, C, H, Wd))
        H_out, W_out = H + 2 * pad - 2, Wd + 2 * pad - 2
        nth, ntw = -(-H_out // 4), -(-W_out // 4)
        r0, r1 = 1, N * nth - 1
        P = (r1 - r0) * (ntw + 1)
        real = np.ones(P, bool)
        real[ntw::ntw + 1] = False                     # the spare tiles may differ
        V1, V2 = np.empty((36, C, P)), np.empty((36, C, P))
        W._input_transform(x, V1, BT, 4, pad, r0, r1, nth, ntw)
        input_transform4(x, V2, pad, r0, r1, nth, ntw)
        M, b, slope = rng.standard_normal((36, 3, P)), rng.standard_normal(3), np.zeros(3)
        y1, y2 = np.zeros((N, 3, H_out, W_out)), np.zeros((N, 3, H_out, W_out))
        W._output_transform(M, y1, b, ACT_NONE, slope, AT, r0, r1, nth, ntw)
        output_transform4(M, y2, b, ACT_NONE, slope, r0, r1, nth, ntw)
        dy = rng.standard_normal((N, 3, H_out, W_out))
        Z1, Z2 = np.empty((36, 3, P)), np.empty((36, 3, P))
        WD._dy_transform(dy, Z1, AT, r0, r1, nth, ntw)
        dy_transform4(dy, Z2, r0, r1, nth, ntw)
        for a, b_ in ((V1[:, :, real], V2[:, :, real]), (y1, y2), (Z1, Z2)):
            assert np.abs(a - b_).max() <= 1e-12 * np.abs(a).max(), "transforms disagree"


def main() -> None:
    import argparse
    import time

    import numba

    from minisr.kernels import _winograd as W, _winograd_dw as WD
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=numba.get_num_threads())
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    numba.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    _check(rng)
    package = (W._input_transform, W._output_transform, WD._input_transform, WD._dy_transform)
    unrolled = (lambda x, V, BT, m, pad, r0, r1, nth, ntw:
                input_transform4(x, V, pad, r0, r1, nth, ntw),
                lambda M, y, b, act, slope, AT, r0, r1, nth, ntw:
                output_transform4(M, y, b, act, slope, r0, r1, nth, ntw))
    unrolled += (unrolled[0], lambda dy, Z, AT, r0, r1, nth, ntw:
                 dy_transform4(dy, Z, r0, r1, nth, ntw))

    def use(fs):        # swap the transforms the package's chunk loops call
        W._input_transform, W._output_transform, WD._input_transform, WD._dy_transform = fs

    def timed(f):       # interleaved medians, package then unrolled, ms
        ts = ([], [])
        for k in range(args.repeats + 1):
            for i, fs in enumerate((package, unrolled)):
                use(fs)
                t0 = time.perf_counter()
                f()
                if k:
                    ts[i].append(time.perf_counter() - t0)
        use(package)
        return [1e3 * float(np.median(t)) for t in ts]
    print(f"# {args.threads} thread(s), float32, median of {args.repeats}; ratio = package / "
          f"unrolled (> 1: unrolled faster)")
    print("| layer | fwd package | fwd unrolled | ratio | dw package | dw unrolled | ratio |")
    print("|---|---|---|---|---|---|---|")
    for N, C, H in ((16, 12, 24), (16, 32, 24), (16, 32, 48), (16, 64, 48), (1, 32, 256),
                    (1, 64, 256)):
        x = rng.standard_normal((N, C, H, H)).astype(np.float32)
        w = (0.1 * rng.standard_normal((C, C, 3, 3))).astype(np.float32)
        f = timed(lambda: W.winograd_forward(x, w, None, 1, 4))
        d = timed(lambda: WD.winograd_backward_weight(x, x, 1, 4))
        print(f"| {C}->{C} {N}x{H}x{H} | {f[0]:.2f} | {f[1]:.2f} | {f[0] / f[1]:.2f} "
              f"| {d[0]:.2f} | {d[1]:.2f} | {d[0] / d[1]:.2f} |", flush=True)
    _parts(rng, args.repeats)


def _parts(rng, repeats):
    """Each transform alone over a whole 32->32 16x48x48 input, in the package's chunks
    (one thread's share), against filling the same chunks' V with a constant."""
    import time

    from minisr.kernels import _winograd as W, _winograd_dw as WD
    N, C, H = 16, 32, 48
    nth = ntw = H // 4
    rows = N * nth
    step = W.chunk_rows(rows, ntw, 6, 2 * C, 4, 1)
    BT, _, AT = (t.astype(np.float32) for t in W.WINOGRAD[4])
    x = rng.standard_normal((N, C, H, H)).astype(np.float32)
    y = np.empty_like(x)
    buf = np.empty(36 * C * step * (ntw + 1), np.float32)
    M = rng.standard_normal(buf.size).astype(np.float32)
    zeros = np.zeros(C, np.float32)

    def chunks(f):
        def run():
            for r0 in range(0, rows, step):
                r1 = min(rows, r0 + step)
                P = (r1 - r0) * (ntw + 1)
                f(r0, r1, buf[:36 * C * P].reshape(36, C, P), M[:36 * C * P].reshape(36, C, P))
        return run
    cases = {
        "input transform": (
            chunks(lambda r0, r1, V, _: W._input_transform(x, V, BT, 4, 1, r0, r1, nth, ntw)),
            chunks(lambda r0, r1, V, _: input_transform4(x, V, 1, r0, r1, nth, ntw))),
        "output transform": (
            chunks(lambda r0, r1, _, Mc: W._output_transform(Mc, y, zeros, ACT_NONE, zeros, AT,
                                                             r0, r1, nth, ntw)),
            chunks(lambda r0, r1, _, Mc: output_transform4(Mc, y, zeros, ACT_NONE, zeros,
                                                           r0, r1, nth, ntw))),
        "dy transform": (
            chunks(lambda r0, r1, Z, _: WD._dy_transform(x, Z, AT, r0, r1, nth, ntw)),
            chunks(lambda r0, r1, Z, _: dy_transform4(x, Z, r0, r1, nth, ntw))),
        "V.fill (the writes alone)": (chunks(lambda r0, r1, V, _: V.fill(1.0)),) * 2}

    def best(f):
        f()
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t0)
        return 1e3 * float(np.median(ts))
    print(f"\n# one transform alone, 32->32 {N}x{H}x{H} in {step}-tile-row chunks "
          f"({step * (ntw + 1)} tiles), this thread, ms")
    print("| step | package | unrolled |")
    print("|---|---|---|")
    for name, (pk, un) in cases.items():
        print(f"| {name} | {best(pk):.3f} | {best(un):.3f} |")


if __name__ == "__main__":
    main()
