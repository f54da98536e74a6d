"""Fit ``_conv_paths.path_costs``: time im2col, kn2row and Winograd on stride-1 3x3 layers.

    python benchmarks/conv_path_costs.py [--repeats N] [--threads T]

For each layer of SWEEP (batch, side, C_in, C_out) it prints the min-of-N milliseconds of the
forward by im2col, kn2row, Winograd F(4x4) and F(2x2) (at the chunk size in use), which one
``choose_path`` picks, and how much slower the pick is than the measured best. Then it fits
the constants of each path's cost formula (least squares on relative error, the formulas of
``path_costs``) and prints them next to the ones in ``_conv_paths``, with each formula's
worst relative error. Run it on a quiet machine: the constants are only as good as the
timings (benchmarks/README.md, "Cost model refit").
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

SWEEP = [(1, 256, 32, 32), (16, 48, 32, 32), (1, 256, 64, 64), (16, 48, 64, 64),
         (16, 48, 32, 128), (16, 48, 64, 32), (1, 128, 32, 32), (4, 96, 64, 64),
         (1, 512, 32, 32), (16, 24, 32, 32), (1, 256, 32, 128), (2, 192, 32, 32),
         (8, 64, 48, 48), (1, 384, 64, 64), (16, 32, 64, 64), (1, 256, 64, 32),
         (16, 48, 56, 12)]
PATHS = ("im2col", "kn2row", "winograd4", "winograd2")


def features(path, N, side, C_in, C_out):
    """The terms of ``path_costs``' formula for one path, in the order of its constants."""
    pixels = N * side * side
    if path == "im2col":
        return [pixels * 9 * C_in * C_out, pixels * 9 * C_in]
    if path == "kn2row":
        return [pixels * 9 * C_in * C_out, pixels * 9 * (C_in + 3 * C_out)]
    m = int(path[-1])
    rows = N * -(-side // m)
    tiles = rows * (-(-side // m) + 1)
    a2 = (m + 2) ** 2
    return [tiles * a2 * C_in * C_out, tiles * a2 * (C_in + C_out), rows * (C_in + C_out)]


def time_paths(N, side, C_in, C_out, repeats, rng):
    from minisr.kernels import _conv_gemm as gemm
    from minisr.kernels._winograd import winograd_forward
    x = rng.standard_normal((N, C_in, side, side), dtype=np.float32)
    w = (0.1 * rng.standard_normal((C_out, C_in, 3, 3))).astype(np.float32)
    b = np.zeros(C_out, np.float32)
    y = np.empty((N, C_out, side, side), np.float32)
    one = (1, 1)
    fns = {"im2col": lambda: gemm.forward_im2col(x, w, b, one, one, one, 1, y),
           "kn2row": lambda: gemm.forward_kn2row(x, w, b, one, one, 1, y),
           "winograd4": lambda: winograd_forward(x, w, b, 1, 4),
           "winograd2": lambda: winograd_forward(x, w, b, 1, 2)}
    for f in fns.values():
        f()
    ts = {k: [] for k in fns}
    for _ in range(repeats):            # interleaved, so a load burst hits every column
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()
            ts[k].append(time.perf_counter() - t0)
    return {k: 1e3 * min(v) for k, v in ts.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    for var in ("NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, str(a.threads))
    from minisr.kernels import _conv_paths as P
    from minisr.train import _cpu_name
    print(f"CPU: {_cpu_name()}, threads {a.threads}")
    rng = np.random.default_rng(0)
    rows = []
    print(f"{'layer':>22} " + " ".join(f"{p:>9}" for p in PATHS) + "   pick       vs best")
    for N, side, C_in, C_out in SWEEP:
        t = time_paths(N, side, C_in, C_out, a.repeats, rng)
        pick = P.choose_path("forward", (N, C_in, side, side), (C_out, C_in, 3, 3),
                             (1, 1), (1, 1), (1, 1), 1)
        best = min(t.values())
        rows.append((N, side, C_in, C_out, t))
        print(f"{C_in:>4}->{C_out:<4} {N:>2}x{side:>3}x{side:<3} "
              + " ".join(f"{t[p]:9.2f}" for p in PATHS)
              + f"   {pick:10s} {t[pick] / best:5.2f}x", flush=True)
    shipped = {"im2col": (P.GEMM_NS, P.COPY_NS),
               "kn2row": (P.KN2ROW_GEMM_NS, P.KN2ROW_MOVE_NS),
               "winograd4": (P.WINO_GEMM_NS, P.WINO_NS, P.WINO_ROW_NS)}
    print("\nfitted constants (ns) vs _conv_paths, worst relative error of the fit")
    for path, now in shipped.items():
        A = np.array([features(path, *r[:4]) for r in rows], float)
        t = np.array([r[4][path] for r in rows]) * 1e6
        c = np.linalg.lstsq(A / t[:, None], np.ones(len(t)), rcond=None)[0]
        err = np.abs(A @ c / t - 1).max()
        print(f"{path:10s} fitted {np.round(c, 5).tolist()}  in use {list(now)}  "
              f"worst error {err:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
