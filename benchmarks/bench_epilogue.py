"""Issue 11, item 2: "less work around the products", each change against the code before it.

Every section times the previous code and the new one in ONE process, interleaved, and
prints the median of old/new time ratios (> 1: the change wins). The previous code is a
git revision's ``minisr/kernels`` loaded as the package ``minisr_base`` (``--base``), so
both run with the same BLAS, threads and background load.

    python benchmarks/bench_epilogue.py                      # all sections, base HEAD~1
    python benchmarks/bench_epilogue.py --only epilogue --base 1f42749 --reps 15

Sections: ``epilogue`` (conv + bias + activation in one pass vs conv then activation, on
the inference layers of the shipped models), ``adam`` (one fused Adam update over all of
EDSR-small's parameters vs one call per parameter). Results: benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import importlib
import io
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def load_base(rev: str):
    """``minisr/kernels`` of git revision ``rev`` as the package ``minisr_base.kernels``."""
    blob = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "minisr/kernels"],
                          check=True, capture_output=True).stdout
    tmp = Path(tempfile.mkdtemp(prefix="minisr_base_"))
    tarfile.open(fileobj=io.BytesIO(blob)).extractall(tmp, filter="data")
    pkg = tmp / "minisr_base"
    (tmp / "minisr").rename(pkg)
    (pkg / "__init__.py").write_text("")
    for f in pkg.rglob("*.py"):
        f.write_text(f.read_text().replace("minisr.", "minisr_base."))
    sys.path.insert(0, str(tmp))
    return importlib.import_module("minisr_base.kernels.conv2d")


CLOCK = time.perf_counter
ONLY_CASE = ""


def interleaved(fns: dict, reps: int) -> dict:
    """Median seconds of each callable, run in turn ``reps`` times (after one warm-up)."""
    times = {k: [] for k in fns}
    for f in fns.values():
        f()
    for _ in range(reps):
        for k, f in fns.items():
            t = CLOCK()
            f()
            times[k].append(CLOCK() - t)
    return times


def ratio(times, old, new) -> tuple[float, float, float, float]:
    """(median old s, median new s, median of per-round old/new ratios, ratio of minima)."""
    r = [a / b for a, b in zip(times[old], times[new])]
    return (statistics.median(times[old]), statistics.median(times[new]),
            statistics.median(r), min(times[old]) / min(times[new]))


# (label, N, C_in, C_out, H, W, k, activation): the inference layers of the shipped models
EPILOGUE_CASES = [
    ("ESPCN conv1 5x5 1->64 tanh, 256^2", 1, 1, 64, 256, 256, 5, "tanh"),
    ("ESPCN conv2 3x3 64->32 tanh, 256^2", 1, 64, 32, 256, 256, 3, "tanh"),
    ("SRCNN conv1 9x9 1->64 relu, 256^2", 1, 1, 64, 256, 256, 9, "relu"),
    ("FSRCNN 5x5 1->56 prelu, 256^2", 1, 1, 56, 256, 256, 5, "prelu"),
    ("FSRCNN 1x1 56->12 prelu, 256^2", 1, 56, 12, 256, 256, 1, "prelu"),
    ("FSRCNN 3x3 12->12 prelu, 256^2", 1, 12, 12, 256, 256, 3, "prelu"),
    ("FSRCNN 1x1 12->56 prelu, 256^2", 1, 12, 56, 256, 256, 1, "prelu"),
    ("EDSR 3x3 32->32 relu, 256^2", 1, 32, 32, 256, 256, 3, "relu"),
]


def bench_epilogue(base, reps: int) -> None:
    from minisr.kernels import activation as A
    from minisr.kernels import conv2d as K
    rng = np.random.default_rng(0)
    print("| layer (float32, inference) | conv then act, s | fused, s | old/new median | "
          "old/new of minima |")
    print("|---|---|---|---|---|")
    for label, N, C_in, C_out, H, W, k, act in EPILOGUE_CASES:
        if ONLY_CASE and ONLY_CASE not in label:
            continue
        x = rng.standard_normal((N, C_in, H, W)).astype(np.float32)
        w = (0.1 * rng.standard_normal((C_out, C_in, k, k))).astype(np.float32)
        b = (0.1 * rng.standard_normal(C_out)).astype(np.float32)
        a = np.full(C_out, 0.25, np.float32) if act == "prelu" else None
        p = k // 2
        fn = {"relu": A.relu_forward_cpu, "tanh": A.tanh_forward_cpu,
              "prelu": lambda y: A.prelu_forward_cpu(y, a)}[act]
        old = lambda: fn(base.conv2d_forward_cpu(x, w, b, 1, p))      # noqa: E731
        new = lambda: K.conv2d_act_forward_cpu(x, w, b, 1, p, 1, 1, act, a)  # noqa: E731
        assert np.array_equal(old(), new())
        t_old, t_new, r, rmin = ratio(interleaved({"old": old, "new": new}, reps), "old", "new")
        print(f"| {label} | {t_old:.4f} | {t_new:.4f} | {r:.2f} | {rmin:.2f} |", flush=True)


def bench_adam(reps: int) -> None:
    """The most a fused Adam could win: one adam_step over all of EDSR-small's parameters
    concatenated (a lower bound on any fused update) against today's one call per
    parameter, and both against the training step they belong to."""
    from minisr.kernels.optim import adam_step_cpu
    from minisr.models import get
    params = [p.data for p in get("edsr-small", 2).parameters()]
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(p.shape).astype(p.dtype) for p in params]
    state = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    flat = [np.concatenate([a.ravel() for a in arrs]) for arrs in (params, grads)]
    m, v = np.zeros_like(flat[0]), np.zeros_like(flat[0])

    def per_param():
        for p, g, (mp, vp) in zip(params, grads, state):
            adam_step_cpu(p, g, mp, vp, 1e-4, 0.9, 0.999, 1e-8, 0.0, 1, False)

    def fused():
        adam_step_cpu(flat[0], flat[1], m, v, 1e-4, 0.9, 0.999, 1e-8, 0.0, 1, False)
    t_old, t_new, r, rmin = ratio(interleaved({"old": per_param, "new": fused}, reps),
                                  "old", "new")
    print(f"adam, EDSR-small x2 ({len(params)} parameters, {flat[0].size} numbers): "
          f"per parameter {t_old * 1e3:.3f} ms, one call {t_new * 1e3:.3f} ms, "
          f"old/new median {r:.2f}, of minima {rmin:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="HEAD~1", help="git revision of the previous code")
    ap.add_argument("--only", choices=["epilogue", "adam"], default=None)
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--cpu-time", action="store_true",
                    help="time with process_time (CPU seconds of this process, less "
                         "sensitive to the background load than wall time)")
    ap.add_argument("--case", default="", help="only the epilogue rows whose label has this")
    args = ap.parse_args()
    global CLOCK, ONLY_CASE
    ONLY_CASE = args.case
    CLOCK = time.process_time if args.cpu_time else time.perf_counter
    import numba
    print(f"threads: numba {numba.get_num_threads()}; base {args.base}; "
          f"clock {CLOCK.__name__}")
    base = load_base(args.base)
    if args.only in (None, "adam"):
        bench_adam(max(args.reps, 50))
    if args.only in (None, "epilogue"):
        bench_epilogue(base, args.reps)


if __name__ == "__main__":
    main()
