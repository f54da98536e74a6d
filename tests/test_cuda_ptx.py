"""Every CUDA kernel compiles to PTX for sm_80 and sm_90, and no float32 kernel does float64
arithmetic (a stray Python float literal promotes a whole float32 expression to double,
which is 1/64 of the speed on consumer GPUs and silently changes the numbers).

``cuda.compile_ptx`` needs NVVM but no GPU, so this runs on any machine with the toolkit
wheels (``pip install 'cuda-toolkit[nvvm,nvrtc]==13.*'``, or ``minisr[cuda12]``/``[cuda13]``),
in a subprocess with the simulator off (conftest turns it on for this process). It skips
with the reason when numba-cuda or NVVM is missing.
"""
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("numba.cuda", reason="numba-cuda is not installed")

SCRIPT = textwrap.dedent(r'''
    import importlib, sys
    from numba import cuda, types as t
    try:
        cuda.compile_ptx(lambda x: None, (t.float32[::1],), cc=(8, 0))
    except Exception as e:  # noqa: BLE001
        print("NO_NVVM", type(e).__name__, str(e).splitlines()[0][:200]); sys.exit(0)
    # Kernels that call @cuda.jit(device=True) helpers ask the current device for its
    # compute capability; there may be no GPU here, so answer for it (PTX only).
    import numba.cuda.dispatcher as _dispatcher
    class _NoGpu:
        compute_capability = (8, 0)
    _dispatcher.get_current_device = lambda: _NoGpu
    f, i, b, d = t.float32, t.int64, t.boolean, t.float64
    f1, i1, d1, f4 = f[::1], i[::1], d[::1], f[:, :, :, ::1]
    f2, i2, f3, i4 = f[:, ::1], i[:, ::1], f[:, :, ::1], i[:, :, :, ::1]
    T = t.UniTuple(i, 6)
    SIGS = {
        "elementwise": {"_binary_forward_kernel": (i, f1, T, f1, T, f1, T),
                        "_unary_forward_kernel": (i, f1, f, f1),
                        "_full_forward_kernel": (f, f1)},
        "shape": {"_strided_copy_kernel": (f1, i, T, f1, i, T, T, i),
                  "_gather_forward_kernel": (f1, i1, f1),
                  "_gather_backward_kernel": (f1, i1, i1, f1),
                  "_pad_reflect_forward_kernel": (f1, i, i, i, i, f1, i, i),
                  "_pad_reflect_backward_kernel": (f1, i, i, i, i, i, i, f1)},
        "reduce": {"_sum_forward_kernel": (f1, T, T, T, T, i, f, b, f1),
                   "_sum_partial_kernel": (f1, T, T, T, T, i, i, f1),
                   "_sum_of_squares_partial_kernel": (f1, i, d1)},
        "activation": {"_relu_forward_kernel": (f1, f1), "_relu_backward_kernel": (f1, f1, f1),
                       "_leaky_relu_forward_kernel": (f1, f, f1),
                       "_leaky_relu_backward_kernel": (f1, f1, f, f1),
                       "_prelu_forward_kernel": (f1, f1, i, i, f1),
                       "_prelu_backward_kernel": (f1, f1, f1, i, i, f1, f1),
                       "_tanh_forward_kernel": (f1, f1), "_tanh_backward_kernel": (f1, f1, f1),
                       "_sigmoid_forward_kernel": (f1, f1),
                       "_sigmoid_backward_kernel": (f1, f1, f1),
                       "_softplus_forward_kernel": (f1, f1),
                       "_softplus_backward_kernel": (f1, f1, f1)},
        "pixel_shuffle": {"_pixel_shuffle_forward_kernel": (f4, i, f4),
                          "_pixel_unshuffle_forward_kernel": (f4, i, f4)},
        "optim": {"_sgd_step_kernel": (f1, f1, f1, f, f, f, f, b, b, b, b),
                  "_adam_step_kernel": (f1, f1, f1, f1) + (f,) * 10 + (b, b)},
        "matmul": {"_matmul_forward_kernel": (f1, f1, i, i, i, f1)},
        "norm": {"_batch_norm_stats_kernel": (f1, i, i, f, f, b, f1, f1, f1, f1),
                 "_batch_norm_eval_stats_kernel": (f1, f1, f, f1, f1),
                 "_batch_norm_forward_kernel": (f1, f1, f1, f1, f1, i, i, f1),
                 "_batch_norm_backward_reduce_kernel": (f1, f1, f1, f1, i, i, f1, f1),
                 "_batch_norm_backward_input_kernel": (f1,) * 7 + (i, i, b, f1)},
        "resize": {"_resize_axis_kernel": (f3, f2, i2, f3)},
        "pool": {"_max_pool2d_forward_kernel": (f4,) + (i,) * 6 + (f4, i4),
                 "_max_pool2d_backward_kernel": (f4, i4) + (i,) * 6 + (f4,)},
        "upsample": {"_upsample_bilinear2d_forward_kernel": (f4, f2, i2, f2, i2, f4),
                     "_upsample_bilinear2d_backward_kernel": (f4, f2, i2, f2, i2, f4)},
        "conv2d": {"_conv2d_forward_kernel": (f4, f4, f1, b) + (i,) * 8 + (f1, f4),
                   "_conv2d_forward_tiled_kernel": (f4, f4, f1, b, i, i, i, i, f1, f4),
                   "_conv2d_backward_input_kernel": (f4, f4) + (i,) * 7 + (f4,),
                   "_conv2d_backward_weight_kernel": (f4, f4) + (i,) * 7 + (f4,)},
    }
    # float64 on purpose: the clipping norm accumulates in double, as on the CPU
    F64_ALLOWED = {"_sum_of_squares_partial_kernel"}
    bad = []
    for mod_name, sigs in SIGS.items():
        mod = importlib.import_module("minisr.kernels.cuda." + mod_name)
        kernels = {n for n in vars(mod) if n.startswith("_") and n.endswith("_kernel")}
        bad += [f"{mod_name}.{n}: no signature in this test" for n in kernels - set(sigs)]
        for name, sig in sigs.items():
            for cc in ((8, 0), (9, 0)):
                ptx, _ = cuda.compile_ptx(getattr(mod, name).py_func, sig, cc=cc)
                f64 = [l.strip() for l in ptx.splitlines() if ".f64" in l]
                if f64 and name not in F64_ALLOWED:
                    bad.append(f"{mod_name}.{name} sm_{cc[0]}{cc[1]}: {f64[:3]}")
    print("BAD" if bad else "OK", len(bad)); print("\n".join(bad))
''')


def test_every_kernel_compiles_to_ptx_without_float64():
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "0"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    if out.stdout.startswith("NO_NVVM"):
        pytest.skip(f"NVVM not available for cuda.compile_ptx: {out.stdout.strip()}")
    assert out.stdout.startswith("OK"), out.stdout
