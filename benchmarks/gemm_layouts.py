"""BLAS on the products of dL/dw: the "NT" layout they have against "NN".

    python benchmarks/gemm_layouts.py

Every dL/dw product in minisr is dy @ cols^T, or Z @ V^T for Winograd: both operands keep
the reduction axis contiguous ("NT" in BLAS terms). The same product with the second
operand stored transposed ("NN": reduction axis strided) is what the forward's U @ V has.
Both are timed on one thread (minisr's setting for NumPy's OpenBLAS) on the shapes of the
Winograd dL/dw (36 positions, C x C outputs, P tiles per chunk) and of SRCNN's 9x9 1->64
dL/dw (64 x 81 outputs over 16 images of 48x48), with the forward's U @ V beside. GFLOP/s,
median of 15; the transposed copy is made once, outside the timing.
"""
from __future__ import annotations

import time

import numpy as np

import minisr.kernels.conv2d  # noqa: F401  (sets NumPy's OpenBLAS to one thread)


def gflops(f, flops, repeats=15):
    f()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return flops / float(np.median(ts)) / 1e9


def main() -> None:
    rng = np.random.default_rng(0)
    print("| product | NT GFLOP/s | NN GFLOP/s | forward U @ V GFLOP/s |")
    print("|---|---|---|---|")
    for C, P in ((32, 455), (64, 195), (32, 1400), (64, 650)):
        Z, V = (rng.random((36, C, P), dtype=np.float32) for _ in range(2))
        VT = np.ascontiguousarray(V.transpose(0, 2, 1))
        U, out, M = rng.random((36, C, C), dtype=np.float32), np.empty((36, C, C), np.float32), \
            np.empty((36, C, P), np.float32)
        f = 2 * 36 * C * C * P
        nt = gflops(lambda: np.matmul(Z, V.transpose(0, 2, 1), out=out), f)
        nn = gflops(lambda: np.matmul(Z, VT, out=out), f)
        fw = gflops(lambda: np.matmul(U, V, out=M), f)
        print(f"| Winograd dL/dw, C = {C}, P = {P} | {nt:.0f} | {nn:.0f} | {fw:.0f} |")
    dy = rng.random((64, 16 * 2304), dtype=np.float32)
    cols = rng.random((81, 16 * 2304), dtype=np.float32)
    colsT, tmp = np.ascontiguousarray(cols.T), np.empty((64, 81), np.float32)
    f = 2 * 64 * 81 * 16 * 2304
    nt = gflops(lambda: np.matmul(dy, cols.T, out=tmp), f)
    nn = gflops(lambda: np.matmul(dy, colsT, out=tmp), f)
    print(f"| 9x9 1->64 dL/dw, 64 x 81 x 36,864 | {nt:.0f} | {nn:.0f} | - |")


if __name__ == "__main__":
    main()
