"""Strided convolution against the stride-1 path on the same work, and against PyTorch.

    python benchmarks/bench_strided.py [--repeats N] [--threads T] [--json [PATH]]
    python benchmarks/bench_strided.py --sweep [--repeats N] [--threads T]

For each strided conv of the GAN discriminator (``DISCRIMINATOR`` below: ESRGAN's
VGGStyleDiscriminator scaled down, HR patches 96x96, batch 8, float32), the three passes
(``fwd``, ``bwd_in``, ``bwd_w`` incl. db) in GFLOP/s = 2 * MACs / median time, where MACs =
N C_out H_out W_out C_in KH KW for every pass. Variants, all run on the same arrays' shapes:

- ``minisr``: ``conv2d_*_cpu`` on the strided layer (whatever ``choose_path`` picks);
- ``im2col``: the generic strided path every stride-2 pass took before the space-to-depth
  rewrite (``forward_im2col``, ``transpose_col2im``, ``backward_weight_im2col``), called
  directly, so before and after sit in one run;
- ``s1 4x4``: the same work at stride 1: a 4x4 stride-1 conv, same C_in and C_out, padding 1
  on an (H_out+1)^2 input, so it makes the same H_out x W_out output with the same MACs;
- ``s1 3x3``: the stride-1 layer beside it in the network, 3x3 padding 1, same C_in and
  C_out, at H_out x W_out (its own MACs, 9/16 of the strided layer's; Winograd's savings
  count as speed, as the direct-conv FLOP count is used);
- ``torch``: ``aten.convolution`` / ``convolution_backward`` on the strided shape, when
  torch is importable (ratio torch / minisr: > 1 means minisr is faster).

Repeats alternate the variants (minisr, im2col, s1 4x4, s1 3x3, torch, minisr, ...) after a
warm-up of each, so load bursts on a shared machine hit every column. ``spread`` is the
interquartile range of minisr's times over their median. minisr and the im2col variant are
checked against each other (and torch, if present) before timing.

``--sweep`` measures where the space-to-depth rule (``_conv_paths._space_to_depth_ok``)
draws its lines: for strided shapes on both sides of them (channel counts, C_out > C_in,
output sizes down to 6x6, FSRCNN's 9x9 stride-3 deconvolution in conv2d's terms), each
pass of ``conv2d_*_cpu`` with the rule forced on (every structurally possible case: stride
> 1, dilation 1, kernel a whole number of strides) and forced off (the strided im2col /
col2im), interleaved; the ratio is im2col's time over space-to-depth's (> 1: the twin wins).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

# torch's OpenMP threads would spin after each call and starve minisr's (bench_torch.py)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
try:
    import torch
except ImportError:  # pragma: no cover - torch is a benchmark peer, never a dependency
    torch = None

import numba

from minisr.kernels import _conv_dw, _conv_gemm
from minisr.kernels._conv_blocks import bias_grad
from minisr.kernels.conv2d import (conv2d_backward_input_cpu, conv2d_backward_weight_cpu,
                                   conv2d_forward_cpu)

# (name, N, C_in, C_out, H, K, stride, padding): the discriminator's convs on 96x96 HR
# patches, batch 8. Only the strided ones are timed; the 3x3 ones are listed for reference
# (the "s1 3x3" column times a 3x3 of the strided layer's own channels at its output size).
DISCRIMINATOR = [
    ("conv0_0", 8, 3, 32, 96, 3, 1, 1), ("conv0_1", 8, 32, 32, 96, 4, 2, 1),
    ("conv1_0", 8, 32, 64, 48, 3, 1, 1), ("conv1_1", 8, 64, 64, 48, 4, 2, 1),
    ("conv2_0", 8, 64, 128, 24, 3, 1, 1), ("conv2_1", 8, 128, 128, 24, 4, 2, 1),
    ("conv3_0", 8, 128, 128, 12, 3, 1, 1), ("conv3_1", 8, 128, 128, 12, 4, 2, 1),
]
# (N, C_in, C_out, H, K, stride, padding) for --sweep: the rule's boundaries
SWEEP = [
    (8, 2, 2, 96, 4, 2, 1), (8, 8, 8, 96, 4, 2, 1), (8, 32, 32, 48, 4, 2, 1),
    (8, 64, 64, 48, 4, 2, 1), (8, 64, 64, 96, 4, 2, 1),
    (8, 128, 128, 24, 4, 2, 1), (8, 128, 128, 12, 4, 2, 1),
    (8, 4, 32, 96, 4, 2, 1), (8, 8, 64, 48, 4, 2, 1), (8, 16, 64, 48, 4, 2, 1),
    (1, 1, 56, 170, 9, 3, 3),   # FSRCNN x3's deconvolution on a 170x170 output (conv2d terms)
]
PASSES = ("fwd", "bwd_in", "bwd_w")
VARIANTS = ("minisr", "im2col", "s1 4x4", "s1 3x3", "torch")


def minisr_passes(N, C_in, C_out, H, K, s, p, rng):
    """(arrays, {pass: fn}, MACs) of minisr's ``_cpu`` passes on one layer."""
    x = rng.standard_normal((N, C_in, H, H), dtype=np.float32)
    w = rng.standard_normal((C_out, C_in, K, K), dtype=np.float32) * 0.1
    b = rng.standard_normal(C_out, dtype=np.float32)
    Ho = (H + 2 * p - K) // s + 1
    dy = rng.standard_normal((N, C_out, Ho, Ho), dtype=np.float32)
    fns = {"fwd": lambda: conv2d_forward_cpu(x, w, b, s, p),
           "bwd_in": lambda: conv2d_backward_input_cpu(dy, w, x.shape, s, p),
           "bwd_w": lambda: conv2d_backward_weight_cpu(x, dy, w.shape, s, p)}
    return (x, w, b, dy), fns, N * C_out * Ho * Ho * C_in * K * K


def im2col_passes(x, w, b, dy, s, p):
    """The generic strided passes (the only stride-2 path before space-to-depth)."""
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    Ho, Wo = dy.shape[2:]
    S, P, one = (s, s), (p, p), (1, 1)

    def fwd():
        y = np.empty(dy.shape, np.float32)
        return _conv_gemm.forward_im2col(x, w, b, S, P, one, 1, y)

    def bwd_in():
        dx = np.empty(x.shape, np.float32)
        return _conv_gemm.transpose_col2im(dy, w.reshape(C_out, -1), KH, KW, S, P, one, 1, dx)

    def bwd_w():
        dw = np.zeros((C_out, C_in * KH * KW), np.float32)
        _conv_dw.backward_weight_im2col(x, dy.reshape(N, C_out, Ho * Wo), dw, w.shape, S, P,
                                        one, 1, Ho, Wo)
        return dw.reshape(w.shape), bias_grad(dy)
    return {"fwd": fwd, "bwd_in": bwd_in, "bwd_w": bwd_w}


def torch_passes(x, w, b, dy, s, p):
    xt, wt, bt, dyt = (torch.from_numpy(a) for a in (x, w, b, dy))
    conv, back = torch.ops.aten.convolution, torch.ops.aten.convolution_backward
    S, P, one, zero = [s, s], [p, p], [1, 1], [0, 0]
    return {"fwd": lambda: conv(xt, wt, bt, S, P, one, False, zero, 1),
            "bwd_in": lambda: back(dyt, xt, wt, [b.size], S, P, one, False, zero, 1,
                                   [True, False, False])[0],
            "bwd_w": lambda: back(dyt, xt, wt, [b.size], S, P, one, False, zero, 1,
                                  [False, True, True])[1:]}


def check(a, b, what):
    """Same numbers up to float32 rounding (each output sums up to 16 C_in products)."""
    for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        u, v = np.asarray(u), np.asarray(v)
        err = np.abs(u - v).max() / max(np.abs(v).max(), 1e-30)
        assert u.shape == v.shape and err < 1e-4, f"{what}: relative error {err:.1e}"


def interleaved(fns, repeats):
    """Every repeat's seconds of each fn, the fns alternated, after one warm-up each."""
    for f in fns:
        f()
    ts = [[] for _ in fns]
    for _ in range(repeats):
        for f, t in zip(fns, ts):
            t0 = time.perf_counter()
            f()
            t.append(time.perf_counter() - t0)
    return ts


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        return next(ln.split(":", 1)[1].strip() for ln in out.splitlines()
                    if ln.startswith("Model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def _forced(on: bool):
    """A stand-in for ``_space_to_depth_ok``: every structurally possible case (on), none (off)."""
    def ok(x_shape, w_shape, s, p, d, groups):
        _, _, KH, KW = w_shape
        return on and s != (1, 1) and d == (1, 1) and not KH % s[0] and not KW % s[1]
    return ok


def sweep(repeats: int) -> None:
    """The --sweep table: im2col / space-to-depth time ratio per pass on SWEEP's shapes."""
    from minisr.kernels import _conv_paths
    rng, rule = np.random.default_rng(0), _conv_paths._space_to_depth_ok
    print("| shape | H_out | rule picks | " + " | ".join(f"{q} im2col/s2d" for q in PASSES)
          + " |")
    print("|---|---|---|" + "---|" * len(PASSES))
    for N, C_in, C_out, H, K, s, p in SWEEP:
        arrays, fns, _ = minisr_passes(N, C_in, C_out, H, K, s, p, rng)
        picks = rule(arrays[0].shape, arrays[1].shape, (s, s), (p, p), (1, 1), 1)
        ratios = []
        for pas in PASSES:
            def run(on, f=fns[pas]):
                def call():
                    _conv_paths._space_to_depth_ok = _forced(on)
                    try:
                        return f()
                    finally:
                        _conv_paths._space_to_depth_ok = rule
                return call
            on, off = run(True), run(False)
            check(on(), off(), f"{C_in}->{C_out} {pas} s2d vs im2col")
            t_on, t_off = interleaved([on, off], repeats)
            ratios.append(float(np.median(t_off) / np.median(t_on)))
        shape = f"{K}x{K}/{s} {C_in}->{C_out} {N}x{H}x{H}"
        print(f"| {shape} | {arrays[3].shape[2]} | {'s2d' if picks else 'im2col'} | "
              + " | ".join(f"{r:.2f}" for r in ratios) + " |", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", nargs="?", const="-", default=None, metavar="PATH",
                    help="also write the numbers as JSON to PATH (stdout without PATH)")
    ap.add_argument("--sweep", action="store_true",
                    help="time the space-to-depth rule's boundaries instead (see above)")
    a = ap.parse_args()
    # minisr's conv passes run on numba.get_num_threads() threads of their own (BLAS on one
    # per thread, kernels/_threads.py); torch gets the same count
    numba.set_num_threads(a.threads)
    if torch is not None:
        torch.set_num_threads(a.threads)
    rng = np.random.default_rng(0)
    head = (f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cpu_model()}, "
            f"{a.threads} threads, numpy {np.__version__}, numba {numba.__version__}, "
            f"torch {torch.__version__ if torch else 'absent'}, float32, median of "
            f"{a.repeats} interleaved repeats, GFLOP/s = 2 MACs / time")
    print(f"# {head}", flush=True)
    if a.sweep:
        sweep(a.repeats)
        return 0
    cols = ("minisr", "ms", "spread", "im2col", "s1 4x4", "s1 3x3", "torch",
            "/im2col", "/s1 4x4", "/s1 3x3", "torch/m")
    print(f"| layer | shape | pass | " + " | ".join(cols) + " |")
    print("|" + "---|" * (3 + len(cols)))
    records = []
    for name, N, C_in, C_out, H, K, s, p in DISCRIMINATOR:
        if s == 1:
            continue
        arrays, ours, macs = minisr_passes(N, C_in, C_out, H, K, s, p, rng)
        Ho = dy_side = arrays[3].shape[2]
        fns = {"minisr": ours, "im2col": im2col_passes(*arrays, s, p)}
        _, fns["s1 4x4"], macs4 = minisr_passes(N, C_in, C_out, Ho + 1, K, 1, 1, rng)
        _, fns["s1 3x3"], macs3 = minisr_passes(N, C_in, C_out, Ho, 3, 1, 1, rng)
        flops = {"minisr": macs, "im2col": macs, "s1 4x4": macs4, "s1 3x3": macs3,
                 "torch": macs}
        if torch is not None:
            fns["torch"] = torch_passes(*arrays, s, p)
        assert macs4 == macs
        for pas in PASSES:
            check(ours[pas](), fns["im2col"][pas](), f"{name} {pas} minisr vs im2col")
            if torch is not None:
                theirs = fns["torch"][pas]()
                theirs = tuple(t.numpy() for t in theirs) if isinstance(theirs, tuple) \
                    else theirs.numpy()
                check(ours[pas](), theirs, f"{name} {pas} minisr vs torch")
            names = [v for v in VARIANTS if v in fns]
            ts = dict(zip(names, interleaved([fns[v][pas] for v in names], a.repeats)))
            med = {v: float(np.median(t)) for v, t in ts.items()}
            gf = {v: 2 * flops[v] / med[v] / 1e9 for v in names}
            q1, q3 = np.percentile(ts["minisr"], [25, 75])
            spread = (q3 - q1) / med["minisr"]
            rec = dict(layer=name, N=N, C_in=C_in, C_out=C_out, H=H, K=K, stride=s,
                       padding=p, H_out=dy_side, pas=pas, ms={v: 1e3 * med[v] for v in names},
                       gflops=gf, spread=spread)
            records.append(rec)
            t = gf.get("torch", float("nan"))
            cells = [f"{gf['minisr']:.1f}", f"{1e3 * med['minisr']:.2f}", f"{spread:.0%}",
                     f"{gf['im2col']:.1f}", f"{gf['s1 4x4']:.1f}", f"{gf['s1 3x3']:.1f}",
                     f"{t:.1f}", f"{gf['minisr'] / gf['im2col']:.2f}",
                     f"{gf['minisr'] / gf['s1 4x4']:.2f}", f"{gf['minisr'] / gf['s1 3x3']:.2f}",
                     f"{t / gf['minisr']:.2f}"]
            shape = f"{K}x{K}/{s} {C_in}->{C_out} {N}x{H}x{H}"
            print(f"| {name} | {shape} | {pas} | " + " | ".join(cells) + " |", flush=True)
    if a.json:
        doc = json.dumps(dict(header=head, cpu=cpu_model(), threads=a.threads,
                              repeats=a.repeats, rows=records), indent=1)
        if a.json == "-":
            print(doc)
        else:
            with open(a.json, "w") as f:
                f.write(doc + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
