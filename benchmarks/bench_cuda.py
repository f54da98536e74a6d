"""Benchmark the CUDA backend: conv2d GFLOP/s per layer and training-step time vs the CPU.

    python benchmarks/bench_cuda.py [--repeats N]

Needs a GPU and ``pip install 'minisr[cuda12]'`` (or ``[cuda13]``). Without one, or in the
simulator (NUMBA_ENABLE_CUDASIM=1, where timings mean nothing), it says so and exits 0.
Rows: 3x3 64->64 and 32->32 convs at batch 16x48x48 (training) and 1x256x256 (inference),
forward (tiled and simple kernels), backward_input and backward_weight, float32, median of
repeats after a warm-up (compile excluded), synchronised. Then one SGD/Adam training step
of ESPCN (x3) and EDSR (32 features, 8 blocks, x2) on 16 patches, CUDA vs the Numba CPU
backend.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np


def _gpu_or_exit() -> None:
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1":
        print("bench_cuda: NUMBA_ENABLE_CUDASIM=1 (simulator); timings would be meaningless")
        sys.exit(0)
    try:
        from numba import cuda
        ok = cuda.is_available()
    except Exception as e:  # noqa: BLE001 - numba-cuda missing or a broken driver
        print(f"bench_cuda: no usable numba.cuda ({type(e).__name__}: {e}); nothing to do")
        sys.exit(0)
    if not ok:
        print("bench_cuda: numba.cuda finds no GPU; nothing to do")
        sys.exit(0)


def _median_time(fn, repeats: int) -> float:
    from numba import cuda
    fn()
    cuda.synchronize()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def bench_layers(repeats: int) -> None:
    from minisr.backend import to_device
    from minisr.kernels.cuda import conv2d as k
    rng = np.random.default_rng(0)
    print(f"{'layer':<28}{'pass':<18}{'GFLOP/s':>10}{'ms':>10}")
    for (N, C, H) in [(16, 64, 48), (16, 32, 48), (1, 64, 256), (1, 32, 256)]:
        x = to_device(rng.standard_normal((N, C, H, H)).astype(np.float32), "cuda")
        w = to_device((0.1 * rng.standard_normal((C, C, 3, 3))).astype(np.float32), "cuda")
        b = to_device(np.zeros(C, np.float32), "cuda")
        dy = to_device(rng.standard_normal((N, C, H, H)).astype(np.float32), "cuda")
        flops = 2.0 * N * C * C * 9 * H * H
        passes = {
            "forward tiled": lambda: k._conv2d_forward_tiled(x, w, b, 1, 1, 1, 1),
            "forward simple": lambda: k._conv2d_forward_simple(x, w, b, 1, 1, 1, 1),
            "backward_input": lambda: k.conv2d_backward_input_cuda(dy, w, x.shape, 1, 1, 1, 1),
            "backward_weight": lambda: k.conv2d_backward_weight_cuda(x, dy, w.shape, 1, 1, 1, 1),
        }
        for name, fn in passes.items():
            t = _median_time(fn, repeats)
            print(f"{f'3x3 {C}->{C} {N}x{H}x{H}':<28}{name:<18}{flops / t / 1e9:>10.1f}"
                  f"{t * 1e3:>10.2f}")


def _step_time(model_fn, x_shape, scale: int, device: str, repeats: int) -> float:
    from minisr.autograd import Tensor
    from minisr.nn import losses
    from minisr.optim import Adam
    rng = np.random.default_rng(0)
    net = model_fn().to(device)
    opt = Adam(net.parameters(), lr=1e-4)
    N, C, H, W = x_shape
    x = Tensor(rng.random(x_shape, dtype=np.float32)).to(device)
    t = Tensor(rng.random((N, C, H * scale, W * scale), dtype=np.float32)).to(device)

    def step():
        opt.zero_grad()
        loss = losses.mse_loss(net(x), t)
        loss.backward()
        opt.step()
        return loss.item()          # .item() synchronises on the GPU

    step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def bench_training(repeats: int) -> None:
    from minisr.models.edsr import EDSR
    from minisr.models.espcn import ESPCN
    nets = [("ESPCN x3", lambda: ESPCN(scale=3), (16, 1, 17, 17), 3),
            ("EDSR 32f 8b x2", lambda: EDSR(scale=2, num_features=32, num_blocks=8),
             (16, 3, 48, 48), 2)]
    print(f"\n{'model':<18}{'cpu s/step':>12}{'cuda s/step':>13}{'speed-up':>10}")
    for name, fn, shape, scale in nets:
        cpu = _step_time(fn, shape, scale, "cpu", max(1, repeats // 3))
        gpu = _step_time(fn, shape, scale, "cuda", repeats)
        print(f"{name:<18}{cpu:>12.3f}{gpu:>13.4f}{cpu / gpu:>10.1f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args(argv)
    _gpu_or_exit()
    bench_layers(args.repeats)
    bench_training(args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
