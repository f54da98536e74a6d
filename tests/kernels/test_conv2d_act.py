"""conv2d_act_forward (conv + bias + activation in one pass, the inference epilogue): the fast
path against the reference in float64 on every conv2d case (each algorithm of choose_path),
and in float32 the same numbers as the unfused cpu path, conv2d_forward then the activation."""
import numpy as np
import pytest

from minisr.kernels import activation as A
from minisr.kernels import _conv_paths
from minisr.kernels.conv2d import (conv2d_act_forward_cpu, conv2d_act_forward_ref,
                                   conv2d_forward_cpu, conv2d_forward_ref)
from tests.kernels.test_conv2d import CASES, IDS, _make

ACTS = ["relu", "tanh", "prelu", "prelu_shared", None]


def _slope(act, C_out, dtype, rng):
    if act == "prelu":
        return rng.uniform(0.1, 0.5, C_out).astype(dtype)
    return np.array([0.3], dtype) if act == "prelu_shared" else None


def _unfused(y, act, slope):
    if act is None:
        return y
    if act.startswith("prelu"):
        return A.prelu_forward_cpu(y, slope)
    return {"relu": A.relu_forward_cpu, "tanh": A.tanh_forward_cpu}[act](y)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cpu_matches_ref_float64(case, act, rng):
    x, w, b, kw = _make(case, np.float64, rng)
    slope = _slope(act, w.shape[0], np.float64, rng)
    name = act[:5] if act else None
    y = conv2d_act_forward_ref(x, w, b, **kw, act=name, slope=slope)
    np.testing.assert_allclose(y, _unfused(conv2d_forward_ref(x, w, b, **kw), act, slope),
                               rtol=1e-12, atol=1e-14)
    y_cpu = conv2d_act_forward_cpu(x, w, b, **kw, act=name, slope=slope)
    assert y_cpu.dtype == np.float64 and y_cpu.shape == y.shape
    np.testing.assert_allclose(y_cpu, y, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float32_equals_the_unfused_cpu_path(case, act, rng):
    x, w, b, kw = _make(case, np.float32, rng)
    slope = _slope(act, w.shape[0], np.float32, rng)
    y = conv2d_act_forward_cpu(x, w, b, **kw, act=act[:5] if act else None, slope=slope)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, _unfused(conv2d_forward_cpu(x, w, b, **kw), act, slope),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("act", ["relu", "tanh", "prelu"])
def test_winograd_path_float32(act, monkeypatch, rng):
    # the cost model picks Winograd only on wide images; force it on a small one
    monkeypatch.setattr(_conv_paths, "path_costs",
                        lambda *a: {"im2col": 2.0, "winograd4": 1.0, "winograd2": 1.5})
    x = rng.standard_normal((2, 4, 11, 13)).astype(np.float32)
    w = (0.3 * rng.standard_normal((5, 4, 3, 3))).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    slope = _slope(act, 5, np.float32, rng)
    assert _conv_paths.choose_path("forward", x.shape, w.shape, (1, 1), (1, 1), (1, 1),
                                   1) == "winograd4"
    y = conv2d_act_forward_cpu(x, w, b, 1, 1, 1, 1, act, slope)
    np.testing.assert_allclose(y, _unfused(conv2d_forward_cpu(x, w, b, 1, 1), act, slope),
                               rtol=1e-6, atol=1e-6)
    ref = conv2d_act_forward_ref(x.astype(np.float64), w.astype(np.float64),
                                 b.astype(np.float64), 1, 1, 1, 1, act, slope)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)
