"""Where one training step of a shipped model spends its time, kernel by kernel.

    python benchmarks/profile_step.py [--model edsr-small] [--scale 2] [--threads 1]

One step is forward, MSE, backward and Adam on batch 16 of 48x48 LR patches (random data),
as in ``bench_torch.py``. Two views of the same steps, after three warm-up steps:
  * the conv passes timed inside the step (each ``conv2d_*`` primitive of the cpu backend
    wrapped with a timer), against the whole step: what is left is everything else;
  * cProfile's own time per function, summed into Winograd transforms, the products in the
    conv chunks (the time their Python bodies spend in ``np.matmul``), and the rest. On more
    than one thread the work runs on minisr's pool threads, which cProfile does not see, so
    that view is printed for one thread only.
"""
from __future__ import annotations

import argparse
import collections
import cProfile
import pstats
import time

import numba
import numpy as np

from minisr import models, nn
from minisr.autograd import Tensor
from minisr.backend import get_backend
from minisr.optim import Adam

REPEATS = 5
# cProfile function name -> group (the transforms' Numba loops, the chunk bodies whose own
# time is their np.matmul calls)
GROUPS = {"_input_transform_py": "Winograd input transform",
          "_output_transform_py": "Winograd output transform",
          "_dy_transform": "Winograd dy transform (dL/dw)",
          "chunk": "Winograd products (np.matmul in the chunks)"}


def make_step(name, scale):
    model = models.get(name, scale)
    c = 3 if model.colour == "rgb" else 1
    r = 1 if model.pre_upsampled else model.scale
    rng = np.random.default_rng(0)
    x = rng.random((16, c, 48, 48), dtype=np.float32)
    y = rng.random((16, c, 48 * r, 48 * r), dtype=np.float32)
    opt = Adam(model.parameters(), lr=1e-4)

    def step():
        loss = nn.mse_loss(model(Tensor(x)), Tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def conv_inside(step):
    """(ms per step in each conv primitive and shape, median step ms)."""
    be, spent = get_backend("cpu"), collections.defaultdict(float)
    originals = {n: getattr(be, n) for n in dir(be) if n.startswith("conv")}

    def timed(name, f):
        def g(*args, **kw):
            t0 = time.perf_counter()
            out = f(*args, **kw)
            shapes = tuple(a.shape for a in args[:2] if hasattr(a, "shape"))
            spent[(name, shapes)] += time.perf_counter() - t0
            return out
        return g
    for n, f in originals.items():
        setattr(be, n, timed(n, f))
    try:
        for _ in range(3):
            step()
        spent.clear()
        ts = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            step()
            ts.append(time.perf_counter() - t0)
    finally:
        for n, f in originals.items():
            setattr(be, n, f)
    return {k: 1e3 * v / REPEATS for k, v in spent.items()}, 1e3 * float(np.median(ts))


def profile_groups(step):
    """{group: share of cProfile's total own time} over REPEATS steps, and ms per step."""
    for _ in range(3):
        step()
    pr = cProfile.Profile()
    pr.enable()
    for _ in range(REPEATS):
        step()
    pr.disable()
    stats = pstats.Stats(pr).stats
    total = sum(v[2] for v in stats.values())
    groups = collections.defaultdict(float)
    for (_, _, func), v in stats.items():
        groups[GROUPS.get(func, "everything else")] += v[2]
    return {g: t / total for g, t in groups.items()}, 1e3 * total / REPEATS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="edsr-small")
    ap.add_argument("--scale", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    numba.set_num_threads(a.threads)
    step = make_step(a.model, a.scale)
    convs, step_ms = conv_inside(step)
    print(f"# {a.model} x{a.scale}, batch 16 x 48x48, {a.threads} thread(s), "
          f"median of {REPEATS} steps")
    for (name, shapes), ms in sorted(convs.items(), key=lambda kv: -kv[1]):
        print(f"{name:<26} {str(shapes):<42} {ms:8.2f} ms/step")
    total = sum(convs.values())
    print(f"conv passes {total:.1f} ms of a {step_ms:.1f} ms step; the rest "
          f"{step_ms - total:.1f} ms")
    if a.threads == 1:
        shares, ms = profile_groups(step)
        print(f"# cProfile own time, {ms:.0f} ms per step (profiled)")
        for g, share in sorted(shares.items(), key=lambda kv: -kv[1]):
            print(f"{g:<46} {100 * share:5.1f}%")


if __name__ == "__main__":
    main()
