"""End-to-end speed and memory of networks built from ``minisr.nn``.

    python benchmarks/bench_models.py [--repeats N] [--quick]

Rows: one training step (forward + MSE + backward + Adam) of an ESPCN-shaped x3 network
(5x5 1->64, 3x3 64->32, 3x3 32->9, tanh, pixel shuffle) and of an EDSR-shaped x2 network
(8 residual blocks x 32 features), batch 16 on 48x48 LR patches; and ESPCN inference on
one 512x512 single-channel image. Columns: median seconds with minisr's ``cpu`` kernels,
the same network with the convolutions swapped for the NumPy im2col + matmul baseline of
``bench_kernels.py`` (measured in the same run), their ratio, the peak of NumPy memory
traced during one run (tracemalloc), and the whole process's peak RSS (each case runs in
its own subprocess, so the RSS includes Python, NumPy, Numba and the compiled kernels).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

import minisr.nn as nn
from minisr.autograd import Tensor, no_grad
from minisr.backend import get_backend
from minisr.optim import Adam

CASES = ("espcn_train", "edsr_train", "espcn_infer_512")


def espcn(scale: int = 3) -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 64, 5, padding=2), nn.Tanh(),
                         nn.Conv2d(64, 32, 3, padding=1), nn.Tanh(),
                         nn.Conv2d(32, scale * scale, 3, padding=1), nn.PixelShuffle(scale))


class EDSRShaped(nn.Module):
    def __init__(self, num_features: int = 32, num_blocks: int = 8, scale: int = 2):
        f = num_features
        self.conv_first = nn.Conv2d(3, f, 3, padding=1)
        self.body = nn.Sequential(*[nn.ResidualBlock(f) for _ in range(num_blocks)],
                                  nn.Conv2d(f, f, 3, padding=1))
        self.upsample = nn.Sequential(nn.Conv2d(f, f * scale * scale, 3, padding=1),
                                      nn.PixelShuffle(scale))
        self.conv_last = nn.Conv2d(f, 3, 3, padding=1)

    def forward(self, x):
        h = self.conv_first(x)
        return self.conv_last(self.upsample(h + self.body(h)))


@contextlib.contextmanager
def baseline_convs():
    """Swap the cpu table's conv2d primitives for the im2col + matmul baseline."""
    from bench_kernels import base_backward_input, base_backward_weight, base_forward

    def fwd(x, w, b, stride, padding, dilation, groups):
        assert dilation == (1, 1) and groups == 1 and stride[0] == stride[1]
        y = base_forward(x, w, stride[0], padding[0])
        return y if b is None else y + b[None, :, None, None]

    def bwd_in(dy, w, x_shape, stride, padding, dilation, groups):
        return np.ascontiguousarray(base_backward_input(dy, w, x_shape, stride[0], padding[0]))

    def bwd_w(x, dy, w_shape, stride, padding, dilation, groups):
        return base_backward_weight(x, dy, w_shape, stride[0], padding[0])

    table = get_backend("cpu")
    saved = (table.conv2d_forward, table.conv2d_backward_input, table.conv2d_backward_weight)
    table.conv2d_forward, table.conv2d_backward_input, table.conv2d_backward_weight = \
        fwd, bwd_in, bwd_w
    try:
        yield
    finally:
        (table.conv2d_forward, table.conv2d_backward_input,
         table.conv2d_backward_weight) = saved


def make_case(case: str, quick: bool):
    """(callable running the case once, description)."""
    rng = np.random.default_rng(0)
    nn.init.seed(0)
    N, H = (4, 32) if quick else (16, 48)
    if case == "espcn_infer_512":
        net = espcn()
        x = Tensor(rng.random((1, 1, 512, 512), dtype=np.float32))

        def run():
            with no_grad():
                net(x)
        return run
    net, C, r = (espcn(), 1, 3) if case == "espcn_train" else (EDSRShaped(), 3, 2)
    opt = Adam(net.parameters(), lr=1e-4)
    x = Tensor(rng.random((N, C, H, H), dtype=np.float32))
    y = Tensor(rng.random((N, C, H * r, H * r), dtype=np.float32))

    def run():
        loss = nn.mse_loss(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return run


def measure(case: str, impl: str, repeats: int, quick: bool) -> dict:
    run = make_case(case, quick)
    ctx = baseline_convs() if impl == "baseline" else contextlib.nullcontext()
    with ctx:
        run()  # warm-up: compile, first-touch allocations
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
        tracemalloc.start()
        run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux -> MiB
    return {"seconds": float(np.median(times)), "traced_mib": peak / 2**20, "rss_mib": rss}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="small batches (a smoke test)")
    ap.add_argument("--child", nargs=2, metavar=("CASE", "IMPL"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child, args.repeats, args.quick)))
        return
    print(f"# minisr end-to-end, float32, median of {args.repeats} "
          f"({'quick' if args.quick else 'batch 16 x 48x48 LR'}), each case in its own "
          f"process")
    print(f"{'case':<18}{'minisr s':>10}{'im2col s':>10}{'ratio':>7}"
          f"{'traced MiB':>12}{'base MiB':>10}{'RSS MiB':>9}{'base RSS':>10}")
    for case in CASES:
        res = {}
        for impl in ("minisr", "baseline"):
            cmd = [sys.executable, __file__, "--child", case, impl, "--repeats",
                   str(args.repeats)] + (["--quick"] if args.quick else [])
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            res[impl] = json.loads(out.strip().splitlines()[-1])
        m, b = res["minisr"], res["baseline"]
        print(f"{case:<18}{m['seconds']:>10.3f}{b['seconds']:>10.3f}"
              f"{b['seconds'] / m['seconds']:>7.2f}{m['traced_mib']:>12.1f}"
              f"{b['traced_mib']:>10.1f}{m['rss_mib']:>9.0f}{b['rss_mib']:>10.0f}")


if __name__ == "__main__":
    main()
