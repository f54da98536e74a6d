"""How fast can BLAS run the matrix products inside a conv? The roofline behind %sg.

    python benchmarks/gemm_ceiling.py

For the 64->64 and 32->32 3x3 layers, times ``np.matmul`` of exactly the shapes the fast
path multiplies -- W (C_out, C_in*9) @ cols (C_in*9, pixels) per image tile -- next to a
square 2048^3 sgemm, in the same run (interleaved), and minisr's whole forward. The gap
between the product alone and the whole forward is the im2col copy; the gap between the
product and the square sgemm is BLAS's efficiency on a short, wide product. minisr holds
NumPy's OpenBLAS to one thread; the two BLAS columns are timed with it given back all the
Numba threads (``_threads.blas_threads``), so they stay the multi-threaded ceiling.
"""
from __future__ import annotations

import time

import numba
import numpy as np

from minisr.kernels._threads import blas_threads
from minisr.kernels.conv2d import conv2d_forward_cpu


def gflops(f, flops: float, repeats: int = 9) -> float:
    f()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return flops / float(np.median(ts)) / 1e9


def main() -> None:
    rng = np.random.default_rng(0)
    sq = rng.standard_normal((2048, 2048), dtype=np.float32)
    print(f"{'shape':<28}{'sgemm 2048^3':>14}{'W @ cols':>10}{'conv fwd':>10}"
          f"{'GEMM/sgemm':>12}{'fwd/GEMM':>10}")
    for N, C, H in [(16, 64, 48), (1, 64, 256), (16, 32, 48), (1, 32, 256)]:
        x = rng.standard_normal((N, C, H, H), dtype=np.float32)
        w = rng.standard_normal((C, C, 3, 3), dtype=np.float32)
        P = H * H
        wm = w.reshape(C, -1)
        cols = rng.standard_normal((C * 9, P), dtype=np.float32)
        out = np.empty((C, P), dtype=np.float32)
        flops = 2.0 * N * C * P * C * 9

        def products():
            for _ in range(N):
                np.matmul(wm, cols, out=out)
        with blas_threads(numba.config.NUMBA_NUM_THREADS):
            peak = gflops(lambda: sq @ sq, 2.0 * 2048 ** 3, 3)
            g = gflops(products, flops)
        time.sleep(0.3)     # let OpenBLAS's threads stop spinning before minisr runs
        f = gflops(lambda: conv2d_forward_cpu(x, w, None, 1, 1), flops)
        print(f"{f'{N}x{C}x{H}x{H} 3x3 {C}->{C}':<28}{peak:>14.1f}{g:>10.1f}{f:>10.1f}"
              f"{g / peak:>12.0%}{f / g:>10.0%}")


if __name__ == "__main__":
    main()
