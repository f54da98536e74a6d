"""Benchmark minisr's conv kernels against a plain NumPy im2col + np.matmul baseline.

    python benchmarks/bench_kernels.py [--quick] [--repeats N] [--only NAME]

One table: a row per conv layer of SRCNN / FSRCNN / ESPCN / EDSR (training: batch 16 at 48x48;
inference: batch 1 at 256x256), and for each pass (forward, backward_input, backward_weight)
the GFLOP/s of ``*_cpu``, of the baseline, their ratio, and the fraction of this machine's
sgemm throughput (a large float32 ``np.matmul`` timed in the same run: the practical
ceiling). float32, medians of repeats after a warm-up (compile excluded). Then the peak
memory of one forward+backward of the 64->64 layer (tracemalloc). See benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
import tracemalloc

import numpy as np

from minisr.kernels._threads import blas_threads
from minisr.kernels.conv2d import (conv2d_backward_input_cpu, conv2d_backward_weight_cpu,
                                   conv2d_forward_cpu)
from minisr.kernels.conv_transpose2d import (conv_transpose2d_backward_input_cpu,
                                             conv_transpose2d_backward_weight_cpu,
                                             conv_transpose2d_forward_cpu)

try:  # optional oracle column; never a dependency
    import torch
except ImportError:
    torch = None

# name, C_in, C_out, K, stride, padding, output_padding, transposed
LAYERS = [
    ("SRCNN 9x9 1->64", 1, 64, 9, 1, 4, 0, False),
    ("SRCNN 1x1 64->32", 64, 32, 1, 1, 0, 0, False),
    ("SRCNN 5x5 32->1", 32, 1, 5, 1, 2, 0, False),
    ("FSRCNN 5x5 1->56", 1, 56, 5, 1, 2, 0, False),
    ("FSRCNN 1x1 56->12", 56, 12, 1, 1, 0, 0, False),
    ("FSRCNN 3x3 12->12", 12, 12, 3, 1, 1, 0, False),
    ("FSRCNN 1x1 12->56", 12, 56, 1, 1, 0, 0, False),
    ("FSRCNN 9x9/3 T 56->1", 56, 1, 9, 3, 4, 2, True),
    ("ESPCN 5x5 1->64", 1, 64, 5, 1, 2, 0, False),
    ("ESPCN 3x3 64->32", 64, 32, 3, 1, 1, 0, False),
    ("ESPCN 3x3 32->9", 32, 9, 3, 1, 1, 0, False),
    ("EDSR 3x3 32->32", 32, 32, 3, 1, 1, 0, False),
    ("EDSR 3x3 64->64", 64, 64, 3, 1, 1, 0, False),
]
PASSES = ("fwd", "bwd_in", "bwd_w")


# ----------------------------------------------------------------------------- baseline
def _cols(x, KH, KW, s, p):
    """Full-batch im2col: (C*KH*KW, N*H_out*W_out), one strided slice copy per kernel tap.

    The fastest plain-NumPy im2col we measured: 1.1-2x faster than copying a
    ``sliding_window_view`` through a 6-D transpose (the first baseline of this script).
    """
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    Ho, Wo = (H + 2 * p - KH) // s + 1, (W + 2 * p - KW) // s + 1
    cols = np.empty((C, KH, KW, N, Ho, Wo), x.dtype)
    for a in range(KH):
        for c in range(KW):
            cols[:, a, c] = xp[:, :, a:a + s * Ho:s, c:c + s * Wo:s].transpose(1, 0, 2, 3)
    return cols.reshape(C * KH * KW, N * Ho * Wo), Ho, Wo


def base_forward(x, w, s, p):
    C_out = w.shape[0]
    cols, Ho, Wo = _cols(x, w.shape[2], w.shape[3], s, p)
    y = w.reshape(C_out, -1) @ cols                       # (C_out, N*Ho*Wo)
    return np.ascontiguousarray(y.reshape(C_out, x.shape[0], Ho, Wo).transpose(1, 0, 2, 3))


def base_backward_input(dy, w, x_shape, s, p):
    N, C_out, Ho, Wo = dy.shape
    _, C_in, KH, KW = w.shape
    dy2 = dy.transpose(1, 0, 2, 3).reshape(C_out, -1)      # (C_out, N*Ho*Wo)
    dcols = (w.reshape(C_out, -1).T @ dy2).reshape(C_in, KH, KW, N, Ho, Wo)
    H, W = x_shape[2:]
    dxp = np.zeros((N, C_in, H + 2 * p + s, W + 2 * p + s), dy.dtype)
    for a in range(KH):                       # col2im: one strided add per kernel tap
        for c in range(KW):
            dxp[:, :, a:a + s * Ho:s, c:c + s * Wo:s] += dcols[:, a, c].transpose(1, 0, 2, 3)
    return dxp[:, :, p:p + H, p:p + W]


def base_backward_weight(x, dy, w_shape, s, p):
    cols, _, _ = _cols(x, w_shape[2], w_shape[3], s, p)
    dw = dy.transpose(1, 0, 2, 3).reshape(w_shape[0], -1) @ cols.T
    return dw.reshape(w_shape), dy.sum((0, 2, 3))


# ----------------------------------------------------------------------------- timing
def median_time(f, repeats):
    return median_times([f], repeats)[0]


def median_times(fs, repeats):
    """Median seconds of each callable; repeats are interleaved (f0, f1, f0, f1, ...) so that
    load from other processes on a shared machine hits every variant alike."""
    for f in fs:
        f()                                   # warm-up: compile, page in buffers
    ts = [[] for _ in fs]
    for _ in range(repeats):
        for f, t in zip(fs, ts):
            t0 = time.perf_counter()
            f()
            t.append(time.perf_counter() - t0)
    return [float(np.median(t)) for t in ts]


def multi_threaded_blas(f):
    """f with NumPy's OpenBLAS given all Numba threads back for the call (minisr holds it to
    one, ``kernels/_threads.py``): the baseline and the sgemm ceiling stay what NumPy alone
    would run. OpenBLAS's threads spin after it, which the next minisr call pays for: the
    ratios lean against minisr, not for it."""
    import numba

    def run():
        with blas_threads(numba.config.NUMBA_NUM_THREADS):
            return f()
    return run


def sgemm_gflops(n, repeats):
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    return 2 * n ** 3 / median_time(multi_threaded_blas(lambda: a @ a), repeats) / 1e9


def layer_fns(layer, N, H, rng):
    """Arrays and the (cpu, baseline, torch) callables of the three passes, plus the FLOPs."""
    name, C_in, C_out, K, s, p, op, transposed = layer
    f32 = np.float32
    if not transposed:
        x = rng.standard_normal((N, C_in, H, H), dtype=f32)
        w = rng.standard_normal((C_out, C_in, K, K), dtype=f32) * 0.1
        b = rng.standard_normal(C_out, dtype=f32)
        Ho = (H + 2 * p - K) // s + 1
        dy = rng.standard_normal((N, C_out, Ho, Ho), dtype=f32)
        flops = 2 * N * C_out * Ho * Ho * C_in * K * K
        cpu = {"fwd": lambda: conv2d_forward_cpu(x, w, b, s, p),
               "bwd_in": lambda: conv2d_backward_input_cpu(dy, w, x.shape, s, p),
               "bwd_w": lambda: conv2d_backward_weight_cpu(x, dy, w.shape, s, p)}
        base = {"fwd": lambda: base_forward(x, w, s, p) + b.reshape(1, -1, 1, 1),
                "bwd_in": lambda: base_backward_input(dy, w, x.shape, s, p),
                "bwd_w": lambda: base_backward_weight(x, dy, w.shape, s, p)}
    else:  # x is the LR input (H/s square); the baseline runs the adjoint conv2d passes
        h = H // s
        x = rng.standard_normal((N, C_in, h, h), dtype=f32)
        w = rng.standard_normal((C_in, C_out, K, K), dtype=f32) * 0.1
        b = rng.standard_normal(C_out, dtype=f32)
        Ho = (h - 1) * s - 2 * p + K + op
        dy = rng.standard_normal((N, C_out, Ho, Ho), dtype=f32)
        flops = 2 * N * C_in * h * h * C_out * K * K
        cpu = {"fwd": lambda: conv_transpose2d_forward_cpu(x, w, b, s, p, op),
               "bwd_in": lambda: conv_transpose2d_backward_input_cpu(dy, w, s, p),
               "bwd_w": lambda: conv_transpose2d_backward_weight_cpu(x, dy, w.shape, s, p)}
        base = {"fwd": lambda: base_backward_input(x, w, dy.shape, s, p) + b.reshape(1, -1, 1, 1),
                "bwd_in": lambda: base_forward(dy, w, s, p),
                "bwd_w": lambda: base_backward_weight(dy, x, w.shape, s, p)}
    tor = None
    if torch is not None:
        import torch.nn.functional as F
        tx, tw, tb, tdy = (torch.from_numpy(a) for a in (x, w, b, dy))
        if not transposed:
            tor = {"fwd": lambda: F.conv2d(tx, tw, tb, s, p),
                   "bwd_in": lambda: torch.nn.grad.conv2d_input(x.shape, tw, tdy, s, p),
                   "bwd_w": lambda: torch.nn.grad.conv2d_weight(tx, w.shape, tdy, s, p)}
        else:
            tor = {"fwd": lambda: F.conv_transpose2d(tx, tw, tb, s, p, op),
                   "bwd_in": lambda: F.conv2d(tdy, tw, None, s, p),
                   "bwd_w": lambda: torch.nn.grad.conv2d_weight(tdy, w.shape, tx, s, p)}
    return cpu, base, tor, flops


def peak_memory(N, H, C):
    """Peak traced bytes of one fwd + bwd_in + bwd_w beyond its outputs, / (in + out + w)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, H), dtype=np.float32)
    w = rng.standard_normal((C, C, 3, 3), dtype=np.float32)
    b = rng.standard_normal(C, dtype=np.float32)
    dy = rng.standard_normal((N, C, H, H), dtype=np.float32)
    res = {}
    for label, fwd, bin_, bw in [
            ("minisr _cpu", lambda: conv2d_forward_cpu(x, w, b, 1, 1),
             lambda: conv2d_backward_input_cpu(dy, w, x.shape, 1, 1),
             lambda: conv2d_backward_weight_cpu(x, dy, w.shape, 1, 1)),
            ("im2col baseline", lambda: base_forward(x, w, 1, 1),
             lambda: base_backward_input(dy, w, x.shape, 1, 1),
             lambda: base_backward_weight(x, dy, w.shape, 1, 1))]:
        fwd(), bin_(), bw()                       # compile outside the trace
        tracemalloc.start()
        outs = [fwd(), bin_(), bw()]
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out_bytes = sum(a.nbytes for o in outs for a in (o if isinstance(o, tuple) else (o,)))
        base = x.nbytes + w.nbytes + b.nbytes + dy.nbytes + out_bytes
        res[label] = (peak - out_bytes) / base
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, training shapes only")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--only", default=None, help="substring of the layer names to run")
    args = ap.parse_args()
    repeats = args.repeats or (3 if args.quick else 7)
    rng = np.random.default_rng(0)

    import numba
    print(f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"numpy {np.__version__}, numba {numba.__version__} "
          f"({numba.config.NUMBA_NUM_THREADS} threads), repeats {repeats}")
    n_gemm = 1024 if args.quick else 2048
    peak = sgemm_gflops(n_gemm, repeats)
    settings = [("train", 16, 48)] + ([] if args.quick else [("infer", 1, 256)])
    cols = "".join(f" | {p + ' cpu':>10} {'base':>6} {'x':>5} {'%sg':>4}" +
                   (f" {'torch':>6}" if torch else "") for p in PASSES)
    rows = []                     # %sg needs the ceiling measured after the table too
    for label, N, H in settings:
        for layer in LAYERS:
            if args.only and args.only not in layer[0]:
                continue
            cpu, base, tor, flops = layer_fns(layer, N, H, rng)
            cells = []
            for p in PASSES:
                fs = [cpu[p], multi_threaded_blas(base[p])] + ([tor[p]] if tor else [])
                cells.append([flops / t / 1e9 for t in median_times(fs, repeats)])
            rows.append((f"{layer[0]:<22} {label:<5}", cells))
            print(f"# {layer[0]} {label} done", file=sys.stderr, flush=True)
    peak_end = sgemm_gflops(n_gemm, repeats)
    ceiling = max(peak, peak_end)
    print(f"{'layer':<22} {'set':<5}" + cols)
    for name, cells in rows:
        print(name + "".join(f" | {c[0]:10.1f} {c[1]:6.1f} {c[0] / c[1]:5.2f} "
                             f"{100 * c[0] / ceiling:3.0f}%" + "".join(f" {g:6.1f}" for g in c[2:])
                             for c in cells))
    print(f"# sgemm ceiling (%sg column): np.matmul {n_gemm}^3 float32 = {peak:.1f} GFLOP/s "
          f"before the table, {peak_end:.1f} after; %sg uses the larger")
    mem = peak_memory(16, 48, 64)
    print("# peak extra memory of fwd+bwd_in+bwd_w, EDSR 3x3 64->64, batch 16 at 48x48 "
          "(tracemalloc peak minus outputs, / (inputs + outputs + weights)): " +
          ", ".join(f"{k} {v:.2f}x" for k, v in mem.items()))


if __name__ == "__main__":
    main()
