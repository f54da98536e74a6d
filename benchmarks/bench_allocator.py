"""Training steps with and without minisr's glibc allocator tuning (``minisr/__init__.py``).

    python benchmarks/bench_allocator.py [--rounds R] [--repeats N]

Each shipped model's training step (forward, MSE, backward, Adam; batch 16 on 48x48 LR
patches) runs in a fresh interpreter, once as ``import minisr`` leaves the allocator (mmap
threshold 32 MiB, trim threshold 1 GiB) and once with the tuning switched off by
``MALLOC_PERTURB_=0`` (any ``MALLOC_*`` variable does; this one changes nothing else),
alternated for R rounds. Columns: median step ms of N, minor page faults per step
(``getrusage``), and the process's peak RSS.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

MODELS = (("srcnn", 3), ("fsrcnn", 3), ("espcn", 3), ("edsr-small", 2))

_CHILD = r"""
import json, resource, sys, time
import numpy as np
from minisr import models, nn
from minisr.autograd import Tensor
from minisr.optim import Adam
name, scale, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
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
for _ in range(3):
    step()
f0, ts = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, []
for _ in range(repeats):
    t0 = time.perf_counter()
    step()
    ts.append(time.perf_counter() - t0)
use = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"ms": 1e3 * float(np.median(ts)), "faults": (use.ru_minflt - f0) / repeats,
                  "rss_mb": use.ru_maxrss / 1024}))
"""


def run(name: str, scale: int, repeats: int, tuned: bool) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    if not tuned:
        env["MALLOC_PERTURB_"] = "0"
    out = subprocess.run([sys.executable, "-c", _CHILD, name, str(scale), str(repeats)],
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args()
    print(f"# training step, batch 16 x 48x48, median of {a.repeats}, {a.rounds} alternated "
          f"rounds, each in a fresh process")
    print("| model | step ms untuned | step ms tuned | faults/step untuned | tuned "
          "| peak RSS MB untuned | tuned |")
    print("|---|---|---|---|---|---|---|")
    for name, scale in MODELS:
        res = {False: [], True: []}
        for _ in range(a.rounds):
            for tuned in (False, True):
                res[tuned].append(run(name, scale, a.repeats, tuned))

        def col(tuned, key, fmt):
            return ", ".join(fmt.format(r[key]) for r in res[tuned])
        print(f"| {name} x{scale} | {col(False, 'ms', '{:.1f}')} | {col(True, 'ms', '{:.1f}')} "
              f"| {col(False, 'faults', '{:,.0f}')} | {col(True, 'faults', '{:,.0f}')} "
              f"| {col(False, 'rss_mb', '{:.0f}')} | {col(True, 'rss_mb', '{:.0f}')} |",
              flush=True)


if __name__ == "__main__":
    main()
