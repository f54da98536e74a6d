"""The direct loops for layers with one or two output channels, against what they replaced.

    python benchmarks/bench_direct.py [--repeats N]

Forward: ``_conv_gemm.forward_direct`` (one image, or one band of rows, per thread) against
kn2row (``forward_kn2row``) and im2col on the same layer. dL/dw: the direct loop with its
(output, input channel) pairs shared between the threads against the same call on one
thread (how it ran before). Interleaved medians, float32, ms; every variant is checked
against the reference first.
"""
from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from minisr.kernels import _conv_dw, _conv_gemm
from minisr.kernels.conv2d import conv2d_backward_weight_ref, conv2d_forward_ref

# (label, N, C_in, C_out, H, k): SRCNN's last layer at training and inference size, a 5x5
# 64->1, and few-output 3x3 layers (2, 3 like EDSR's last, 9 like ESPCN's) for the cut-off
LAYERS = (("srcnn 5x5 32->1", 16, 32, 1, 48, 5), ("srcnn 5x5 32->1", 1, 32, 1, 512, 5),
          ("5x5 64->1", 16, 64, 1, 48, 5), ("3x3 32->2", 16, 32, 2, 48, 3),
          ("3x3 32->3", 16, 32, 3, 96, 3), ("3x3 32->9", 16, 32, 9, 48, 3))


def timed(fns, repeats):
    ts = [[] for _ in fns]
    for k in range(repeats + 1):
        for i, f in enumerate(fns):
            t0 = time.perf_counter()
            f()
            if k:
                ts[i].append(time.perf_counter() - t0)
    return [1e3 * float(np.median(t)) for t in ts]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=9)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"# {numba.get_num_threads()} threads, float32, median of {a.repeats}, ms")
    print("| layer | input | fwd direct | fwd kn2row | fwd im2col | dw shared | dw 1 thread |")
    print("|---|---|---|---|---|---|---|")
    for label, N, C_in, C_out, H, k in LAYERS:
        p, one = k // 2, (1, 1)
        x = rng.standard_normal((N, C_in, H, H)).astype(np.float32)
        w = rng.standard_normal((C_out, C_in, k, k)).astype(np.float32)
        dy = rng.standard_normal((N, C_out, H, H)).astype(np.float32)
        y = np.empty((N, C_out, H, H), np.float32)
        fwd = [lambda: _conv_gemm.forward_direct(x, w, None, (p, p), one, y),
               lambda: _conv_gemm.forward_kn2row(x, w, None, (p, p), one, 1, y),
               lambda: _conv_gemm.forward_im2col(x, w, None, one, (p, p), one, 1, y)]
        ref = conv2d_forward_ref(x[:1].astype(np.float64), w.astype(np.float64), None, 1, p)
        for f in fwd:
            f()
            assert np.allclose(y[:1], ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
        T = numba.get_num_threads()

        def dw_on(threads):
            numba.set_num_threads(threads)
            try:
                _conv_dw.backward_weight_direct_padded(x, dy, w.shape, one, (p, p), one)
            finally:
                numba.set_num_threads(T)
        dws = [lambda: dw_on(T), lambda: dw_on(1)]
        if N == 16 and H <= 48:
            dref = conv2d_backward_weight_ref(x[:2].astype(np.float64),
                                              dy[:2].astype(np.float64), w.shape, 1, p)[0]
            got = _conv_dw.backward_weight_direct_padded(x[:2], dy[:2], w.shape, one, (p, p), one)
            assert np.allclose(got, dref, rtol=1e-4, atol=1e-4 * np.abs(dref).max())
        f = timed(fwd, a.repeats)
        d = timed(dws, a.repeats) if C_out <= 2 else [float("nan")] * 2
        print(f"| {label} | {N}x{H}x{H} | {f[0]:.2f} | {f[1]:.2f} | {f[2]:.2f} | {d[0]:.2f} "
              f"| {d[1]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
