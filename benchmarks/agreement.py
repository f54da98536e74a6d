"""Print how closely every fast path agrees with its reference, and float32 with float64.

    python benchmarks/agreement.py

Correctness figures, not speed: the tests assert bounds on these; this script prints the
measured values (max abs or relative differences) so they can be quoted. Seeded inputs,
odd non-square sizes.
"""
from __future__ import annotations

import numpy as np

from minisr.autograd import Tensor
from minisr.backend import use_backend
from minisr.image.resize import resize
from minisr.kernels import conv2d as C2
from minisr.kernels import conv_transpose2d as CT
from minisr.kernels.filter import gaussian_filter_valid_cpu, gaussian_filter_valid_ref, \
    gaussian_window
from minisr.metrics import psnr, ssim
from minisr.testing import gradcheck


def rel(a, b) -> float:
    """max |a - b| / max |b|: error relative to the output's scale."""
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def resize_rows(rng):
    img = rng.random((23, 17, 3))
    for method in ("bicubic", "bilinear", "nearest"):
        for scale in (0.5, 1 / 3, (0.7, 0.3), 2, 3, (2.5, 1.5)):
            ref = resize(img, scale, method=method, impl="ref")
            cpu = resize(img, scale, method=method)
            f32 = resize(img.astype(np.float32), scale, method=method)
            label = f"{scale:.4g}" if isinstance(scale, float) else str(scale)
            yield (f"resize {method} x{label}", float(np.max(np.abs(cpu - ref))),
                   float(np.max(np.abs(f32 - ref))))


def metric_rows(rng):
    a = rng.random((23, 31, 3))
    b = np.clip(a + 0.05 * rng.standard_normal(a.shape), 0, 1)
    g = gaussian_window()
    yield ("gaussian filter (valid)", float(np.max(np.abs(
        gaussian_filter_valid_cpu(a[:, :, 0], g) - gaussian_filter_valid_ref(a[:, :, 0], g)))),
        float(np.max(np.abs(gaussian_filter_valid_cpu(a[:, :, 0].astype(np.float32), g)
                            - gaussian_filter_valid_ref(a[:, :, 0], g)))))
    for kw in ({}, {"y_channel": True, "quantize": True}):
        name = "Y, 8-bit" if kw else "RGB"
        yield (f"ssim {name} (cpu vs ref; f32 vs f64)",
               abs(ssim(a, b, impl="cpu", **kw) - ssim(a, b, impl="ref", **kw)),
               abs(ssim(a.astype(np.float32), b.astype(np.float32), **kw) - ssim(a, b, **kw)))
        yield (f"psnr {name} dB (f32 vs f64)", 0.0,
               abs(psnr(a.astype(np.float32), b.astype(np.float32), **kw) - psnr(a, b, **kw)))


CONV_CASES = [  # N, C_in, C_out, H, W, K, stride, padding, dilation, groups
    (2, 3, 4, 7, 6, 3, 2, 1, 1, 1), (2, 64, 64, 12, 11, 3, 1, 1, 1, 1),
    (1, 1, 8, 13, 12, 9, 1, 4, 1, 1), (2, 6, 3, 9, 8, 3, 1, 1, 2, 1),
    (1, 4, 6, 9, 10, 3, 1, 1, 1, 2), (2, 32, 1, 10, 9, 5, 1, 2, 1, 1)]


def conv_rows(rng):
    for N, ci, co, H, W, K, s, p, d, g in CONV_CASES:
        x = rng.standard_normal((N, ci, H, W))
        w = rng.standard_normal((co, ci // g, K, K))
        b = rng.standard_normal(co)
        kw = dict(stride=s, padding=p, dilation=d, groups=g)
        y = C2.conv2d_forward_ref(x, w, b, **kw)
        dy = rng.standard_normal(y.shape)
        passes = {
            "fwd": lambda m, x, w, b, dy: m.conv2d_forward_cpu(x, w, b, **kw),
            "bwd_in": lambda m, x, w, b, dy: m.conv2d_backward_input_cpu(dy, w, x.shape, **kw),
            "bwd_w": lambda m, x, w, b, dy: m.conv2d_backward_weight_cpu(x, dy, w.shape,
                                                                          **kw)[0],
        }
        refs = {"fwd": y, "bwd_in": C2.conv2d_backward_input_ref(dy, w, x.shape, **kw),
                "bwd_w": C2.conv2d_backward_weight_ref(x, dy, w.shape, **kw)[0]}
        for name, f in passes.items():
            f64 = f(C2, x, w, b, dy)
            f32 = f(C2, *(t.astype(np.float32) for t in (x, w, b, dy)))
            yield (f"conv2d {name} {ci}->{co} {K}x{K} s{s} p{p} d{d} g{g}",
                   rel(f64, refs[name]), rel(f32, refs[name]))
    x = rng.standard_normal((2, 56, 6, 5))
    w = rng.standard_normal((56, 1, 9, 9))
    kw = dict(stride=3, padding=4, output_padding=2)
    ref = CT.conv_transpose2d_forward_ref(x, w, None, **kw)
    yield ("conv_transpose2d fwd 56->1 9x9/3 (FSRCNN)",
           rel(CT.conv_transpose2d_forward_cpu(x, w, None, **kw), ref),
           rel(CT.conv_transpose2d_forward_cpu(x.astype(np.float32), w.astype(np.float32),
                                               None, **kw), ref))


def gradcheck_rows():
    from tests.cases import CASES
    for case in CASES:
        worst = {}
        for backend in ("ref", "cpu"):
            with use_backend(backend):
                errors = gradcheck(case.fn, [Tensor(a, requires_grad=True)
                                             for a in case.arrays()])
            worst[backend] = max(errors.values())
        yield f"gradcheck {case.name} (ref; cpu)", worst["ref"], worst["cpu"]


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"{'check':<52}{'fast vs ref (f64)':>19}{'f32 vs f64 ref':>16}")
    for rows in (resize_rows(rng), metric_rows(rng), conv_rows(rng)):
        for name, a, b in rows:
            print(f"{name:<52}{a:>19.1e}{b:>16.1e}")
    print(f"\n{'float64 central differences, eps 1e-6':<52}{'max |err| ref':>19}"
          f"{'max |err| cpu':>16}")
    for name, a, b in gradcheck_rows():
        print(f"{name:<52}{a:>19.1e}{b:>16.1e}")


if __name__ == "__main__":
    import pathlib
    import sys
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # tests.cases
    main()
