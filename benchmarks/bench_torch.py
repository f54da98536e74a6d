"""minisr against PyTorch's CPU backend, in one process, same threads, interleaved medians.

    python benchmarks/bench_torch.py [--repeats N] [--threads T] [--quick]

Rows, all float32 (ratio = torch time / minisr time; > 1 means minisr is faster):
- conv2d 3x3 64->64 and 32->32 at batch 16 x 48x48 and 1 x 256x256: fwd, bwd_in, bwd_w;
- every conv layer shape of every registered model (``minisr.models.names()``) at training
  size (batch 16 of 48x48 inputs), each of the three passes (bwd_w includes db);
- every model's training step (forward, MSE, backward, Adam) on that batch, and its
  forward on one 512x512 input (no grad).
The torch twin of each model is built from the minisr one (same weights, same layer
attributes, the minisr class's own ``forward`` run on torch tensors). Repeats alternate
minisr, torch, minisr, ... after a warm-up of each, so load bursts hit both columns.
Skips (exit 0) when torch is not installed; torch is never a dependency of minisr.
"""
from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time

import os

import numpy as np

# Two thread pools share the cores: OpenBLAS's (minisr) and torch's OpenMP pool. OpenMP's
# default is to spin after each parallel region, which starves OpenBLAS's threads when a
# minisr call follows a torch call (first run here: minisr rows stuck at ~250 ms); passive
# waiting is set before torch loads, unless the caller chose a policy.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
try:
    import torch
except ImportError:  # pragma: no cover - the normal case outside benchmarking
    torch = None

import minisr.nn as nn
from minisr import models
from minisr.autograd import Tensor, no_grad
from minisr.backend import get_backend
from minisr.kernels import conv2d as C2
from minisr.kernels import conv_transpose2d as CT
from minisr.optim import Adam

SCALE = {"edsr-small": 2}          # the others at x3, the scale their weights ship at


# ----------------------------------------------------------------------------- torch twins
def torch_twin(m):
    """A torch module with m's children and weights; composites run m's own forward."""
    from minisr.models.blocks import MeanShift
    tnn = torch.nn
    t = lambda a: torch.nn.Parameter(torch.from_numpy(np.array(a.data)))  # noqa: E731
    if isinstance(m, nn.Conv2d):
        c = tnn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                       m.dilation, m.groups, bias=m.bias is not None)
    elif isinstance(m, nn.ConvTranspose2d):
        c = tnn.ConvTranspose2d(m.in_channels, m.out_channels, m.kernel_size, m.stride,
                                m.padding, m.output_padding, m.groups, m.bias is not None,
                                m.dilation)
    elif isinstance(m, nn.PReLU):
        c = tnn.PReLU(m.weight.shape[0])
        c.weight = t(m.weight)
        return c
    elif isinstance(m, (nn.ReLU, nn.Tanh, nn.PixelShuffle)):
        return {nn.ReLU: tnn.ReLU, nn.Tanh: tnn.Tanh}.get(type(m), None)() \
            if not isinstance(m, nn.PixelShuffle) else tnn.PixelShuffle(m.upscale_factor)
    elif isinstance(m, MeanShift):
        shift = torch.from_numpy(m._shift.copy())
        return _Fn(lambda x: x + shift)
    elif isinstance(m, nn.ResidualBlock):
        c1, c2, rs = torch_twin(m.conv1), torch_twin(m.conv2), m.res_scale
        return _Fn(lambda x: x + rs * c2(torch.relu(c1(x))), c1, c2)
    elif isinstance(m, nn.Sequential):
        return tnn.Sequential(*[torch_twin(c) for _, c in m.named_children()])
    else:
        return _Composite(m)
    c.weight = t(m.weight)
    if m.bias is not None:
        c.bias = t(m.bias)
    return c


if torch is not None:
    class _Fn(torch.nn.Module):
        def __init__(self, f, *children):
            super().__init__()
            self.f, self.kids = f, torch.nn.ModuleList(children)

        def forward(self, x):
            return self.f(x)

    class _Composite(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self._forward = type(m).forward
            for name, child in vars(m).items():
                if isinstance(child, nn.Module):
                    setattr(self, name, torch_twin(child))
                elif isinstance(child, (bool, int, float)) and not hasattr(self, name):
                    setattr(self, name, child)  # scale, residual (False: the bench's models)

        def forward(self, x):
            return self._forward(self, x)


# ----------------------------------------------------------------------------- timing
def interleaved(fa, fb, repeats):
    """Median seconds of fa and of fb, their repeats alternated after one warm-up each."""
    fa(), fb()
    ta, tb = [], []
    for _ in range(repeats):
        for f, ts in ((fa, ta), (fb, tb)):
            t0 = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t0)
    return float(np.median(ta)), float(np.median(tb))


def conv_passes(x_shape, w_shape, args, transposed, rng):
    """{pass: (minisr fn, torch fn)} for one conv layer; args = (stride, padding, ...)."""
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = (rng.standard_normal(w_shape, dtype=np.float32) * 0.05).astype(np.float32)
    b = np.zeros(w_shape[1] if transposed else w_shape[0], np.float32)
    xt, wt, bt = (torch.from_numpy(a) for a in (x, w, b))
    if transposed:
        s, p, op, d, g = args
        y = CT.conv_transpose2d_forward_cpu(x, w, b, s, p, op, d, g)
        dy = rng.standard_normal(y.shape, dtype=np.float32)
        ours = {"fwd": lambda: CT.conv_transpose2d_forward_cpu(x, w, b, s, p, op, d, g),
                "bwd_in": lambda: CT.conv_transpose2d_backward_input_cpu(dy, w, s, p, d, g),
                "bwd_w": lambda: CT.conv_transpose2d_backward_weight_cpu(x, dy, w.shape, s,
                                                                         p, d, g)}
    else:
        s, p, d, g = args
        op = (0, 0)
        y = C2.conv2d_forward_cpu(x, w, b, s, p, d, g)
        dy = rng.standard_normal(y.shape, dtype=np.float32)
        ours = {"fwd": lambda: C2.conv2d_forward_cpu(x, w, b, s, p, d, g),
                "bwd_in": lambda: C2.conv2d_backward_input_cpu(dy, w, x.shape, s, p, d, g),
                "bwd_w": lambda: C2.conv2d_backward_weight_cpu(x, dy, w.shape, s, p, d, g)}
    dyt = torch.from_numpy(dy)
    conv = torch.ops.aten.convolution
    back = torch.ops.aten.convolution_backward
    sp = [list(map(int, np.broadcast_to(v, 2))) for v in (s, p, d, op)]
    theirs = {"fwd": lambda: conv(xt, wt, bt, sp[0], sp[1], sp[2], transposed, sp[3], g),
              "bwd_in": lambda: back(dyt, xt, wt, [b.size], sp[0], sp[1], sp[2], transposed,
                                     sp[3], g, [True, False, False]),
              "bwd_w": lambda: back(dyt, xt, wt, [b.size], sp[0], sp[1], sp[2], transposed,
                                    sp[3], g, [False, True, True])}
    return {k: (ours[k], theirs[k]) for k in ours}


def layer_shapes(model, x_shape):
    """(x_shape, w_shape, args, transposed) of every conv the model runs on x_shape."""
    table, seen = get_backend("cpu"), {}
    saved = table.conv2d_forward, table.conv_transpose2d_forward

    def fwd(x, w, b, *args):
        seen.setdefault((x.shape, w.shape, tuple(args), False), None)
        return saved[0](x, w, b, *args)

    def tfwd(x, w, b, *args):
        seen.setdefault((x.shape, w.shape, tuple(args), True), None)
        return saved[1](x, w, b, *args)
    table.conv2d_forward, table.conv_transpose2d_forward = fwd, tfwd
    try:
        with no_grad():
            model(Tensor(np.zeros(x_shape, np.float32)))
    finally:
        table.conv2d_forward, table.conv_transpose2d_forward = saved
    return list(seen)


def model_cases(name, rng, batch, side, infer_side):
    """(label, minisr fn, torch fn) for the training step and the 512x512 forward."""
    model = models.get(name, SCALE.get(name, 3))
    twin = torch_twin(model)
    c = 3 if model.colour == "rgb" else 1
    r = 1 if model.pre_upsampled else model.scale
    x = rng.random((batch, c, side, side), dtype=np.float32)
    y = rng.random((batch, c, side * r, side * r), dtype=np.float32)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    opt, topt = Adam(model.parameters(), lr=1e-4), torch.optim.Adam(twin.parameters(), lr=1e-4)

    def step():
        loss = nn.mse_loss(model(Tensor(x)), Tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()

    def tstep():
        loss = torch.nn.functional.mse_loss(twin(xt), yt)
        topt.zero_grad()
        loss.backward()
        topt.step()

    big = rng.random((1, c, infer_side, infer_side), dtype=np.float32)
    bigt = torch.from_numpy(big)

    def infer():
        with no_grad():
            model(Tensor(big))

    def tinfer():
        with torch.no_grad():
            twin(bigt)
    with no_grad(), torch.no_grad():   # the twin computes the same function
        a, b = model(Tensor(x[:1])).data, twin(xt[:1]).numpy()
    assert np.allclose(a, b, rtol=1e-3, atol=1e-4), f"{name}: torch twin differs"
    return [(f"{name} x{model.scale} train step {batch}x{side}x{side}", step, tstep),
            (f"{name} x{model.scale} forward {infer_side}x{infer_side}", infer, tinfer)], model


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        return next(ln.split(":", 1)[1].strip() for ln in out.splitlines()
                    if ln.startswith("Model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="fewer repeats, 128x128 forwards")
    a = ap.parse_args()
    if torch is None:
        print("bench_torch: torch is not installed; skipped (pip install torch to compare)")
        return 0
    torch.set_num_threads(a.threads)
    reps = 3 if a.quick else a.repeats
    rng = np.random.default_rng(0)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cpu_model()}, "
          f"{a.threads} threads, numpy {np.__version__}, torch {torch.__version__}, "
          f"repeats {reps} (interleaved medians; ratio = torch / minisr), "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}")
    print(f"{'case':<44}{'pass':>8}{'minisr ms':>11}{'torch ms':>10}{'ratio':>7}")

    def row(label, pas, f_ours, f_theirs):
        t_ours, t_theirs = interleaved(f_ours, f_theirs, reps)
        print(f"{label:<44}{pas:>8}{t_ours * 1e3:>11.2f}{t_theirs * 1e3:>10.2f}"
              f"{t_theirs / t_ours:>7.2f}", flush=True)

    one = (1, 1)
    for C in (64, 32):
        for N, H in ((16, 48), (1, 256)):
            for pas, (f, g) in conv_passes((N, C, H, H), (C, C, 3, 3), (one, one, one, 1),
                                           False, rng).items():
                row(f"conv2d 3x3 {C}->{C} {N}x{H}x{H}", pas, f, g)
    shapes, whole = {}, []
    for name in models.names():
        if name == "edsr-small-gan":  # edsr-small's architecture, other weights: bench_gan.py
            continue
        cases, model = model_cases(name, rng, 16, 48, 128 if a.quick else 512)
        whole += cases
        c = 3 if model.colour == "rgb" else 1
        for shape in layer_shapes(model, (16, c, 48, 48)):
            shapes.setdefault(shape, name)
    for (x_shape, w_shape, args, transposed), name in shapes.items():
        k = f"{w_shape[2]}x{w_shape[3]}" + (f"/{args[0][0]}" if args[0] != one else "")
        cin, cout = (w_shape[0], w_shape[1]) if transposed else (w_shape[1], w_shape[0])
        label = f"{name} {'convT' if transposed else 'conv'} {k} {cin}->{cout} " \
                f"{x_shape[2]}x{x_shape[3]}"
        for pas, (f, g) in conv_passes(x_shape, w_shape, args, transposed, rng).items():
            row(label, pas, f, g)
    for label, f, g in whole:
        row(label, "", f, g)
    return 0


if __name__ == "__main__":
    sys.exit(main())
