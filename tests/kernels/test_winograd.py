"""Winograd F(m x m, 3 x 3): the transforms, the kernel against the reference, its gradient
by finite differences, the float32 error on real activations, and the path choice."""
import numpy as np
import pytest

from minisr.kernels import _conv_paths
from minisr.kernels._shared import ACT_NONE, ACT_PRELU, ACT_RELU, ACT_TANH
from minisr.kernels._winograd import WINOGRAD, winograd_forward
from minisr.kernels.conv2d import (conv2d_backward_input_cpu, conv2d_backward_input_ref,
                                   conv2d_forward_cpu, conv2d_forward_ref)
from minisr.testing import numerical_gradient

M = (2, 4)


@pytest.mark.parametrize("m", M)
def test_transforms_give_a_1d_correlation(m, rng):
    # A^T [(G g) * (B^T d)] = the m outputs of correlating d (m + 2 taps) with g (3 taps)
    BT, G, AT = WINOGRAD[m]
    g, d = rng.standard_normal(3), rng.standard_normal(m + 2)
    direct = np.array([d[i:i + 3] @ g for i in range(m)])
    np.testing.assert_allclose(AT @ ((G @ g) * (BT @ d)), direct, rtol=1e-13, atol=1e-13)


# (N, C_in, C_out, H, W, padding): odd sizes overhang the last tile; N = 3 spans chunks
SHAPES = [(2, 3, 4, 7, 6, 1), (1, 5, 2, 9, 11, 0), (3, 2, 3, 5, 5, 2), (1, 1, 1, 3, 4, 1)]


@pytest.mark.parametrize("m", M)
@pytest.mark.parametrize("shape", SHAPES, ids=[f"shape{i}" for i in range(len(SHAPES))])
@pytest.mark.parametrize("chunk_bytes", [1, 1 << 20], ids=["row_chunks", "one_chunk"])
def test_forward_matches_ref_float64(m, shape, chunk_bytes, rng):
    N, C_in, C_out, H, W, p = shape
    x = rng.standard_normal((N, C_in, H, W))
    w, b = rng.standard_normal((C_out, C_in, 3, 3)), rng.standard_normal(C_out)
    ref = conv2d_forward_ref(x, w, b, 1, p)
    slope = rng.uniform(0.1, 0.5, C_out)
    epilogues = ((ACT_NONE, ref), (ACT_RELU, np.maximum(ref, 0)), (ACT_TANH, np.tanh(ref)),
                 (ACT_PRELU, np.where(ref > 0, ref, slope.reshape(-1, 1, 1) * ref)))
    for act, want in epilogues:
        for parallel in (False, True):
            y = winograd_forward(x, w, b, p, m, act=act, slope=slope, parallel=parallel,
                                 chunk_bytes=chunk_bytes)
            np.testing.assert_allclose(y, want, rtol=1e-10, atol=1e-12)
    assert winograd_forward(x, w, None, p, m).dtype == np.float64


@pytest.mark.parametrize("m", M)
def test_input_gradient_by_finite_differences(m, rng):
    # dL/dx of the Winograd forward, L = sum(y * dy), against central differences and the
    # reference scatter; the backward pass runs Winograd too (flipped kernel, pad 2 - p)
    x = rng.standard_normal((1, 3, 5, 6))
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    dy = rng.standard_normal((1, 4, 5, 6))
    num = numerical_gradient(lambda: winograd_forward(x, w, b, 1, m), x, dy)
    ref = conv2d_backward_input_ref(dy, w, x.shape, 1, 1)
    np.testing.assert_allclose(num, ref, rtol=1e-5, atol=1e-6)
    # conv2d's dL/dx is the transposed conv of dy, i.e. a conv with w flipped and swapped
    wf = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    np.testing.assert_allclose(winograd_forward(dy, wf, None, 1, m), ref, rtol=1e-10,
                               atol=1e-12)


def test_float32_error_on_real_activations():
    # The shipped ESPCN x3: conv1 + tanh on a real photo gives 64 real activations, fed to
    # its real 3x3 64->32 weights. Error relative to max |y| against the float64 reference
    # (measured: F(2x2) 3.1e-7, F(4x4) 2.6e-6; im2col / the float32 reference 1.0e-7).
    # The .npz is read directly: building the model would draw from nn.init's shared RNG
    # and change the initialisation of every model built after this test.
    from minisr.image.io import imread
    from minisr.models import weights_path
    net = np.load(weights_path("espcn", 3))
    img = imread("tests/data/hopper.png")[:64, :64, 0].astype(np.float64)
    w1, b1, w2, b2 = (net[f"model/conv{i}.{k}"].astype(np.float64)
                      for i in (1, 2) for k in ("weight", "bias"))
    a1 = np.tanh(conv2d_forward_cpu(img[None, None], w1, b1, 1, 2))[:, :, :40, :40]
    ref = conv2d_forward_ref(a1, w2, b2, 1, 1)
    scale = np.abs(ref).max()
    for m, bound in ((2, 1e-6), (4, 1e-5)):
        y = winograd_forward(*(t.astype(np.float32) for t in (a1, w2, b2)), 1, m)
        assert y.dtype == np.float32
        assert np.abs(y - ref).max() / scale < bound, m


def test_choose_path_picks_winograd_where_it_pays():
    choose = _conv_paths.choose_path
    s1, p1 = (1, 1), (1, 1)
    # the measured winners of the sweep the cost model is fitted to (benchmarks/README.md,
    # "minisr's own threads"): Winograd on every 3x3 layer there with 32-128 channels at
    # 48x48 and up, kn2row for 56->12; at 16 x 24x24 the model takes im2col (1.77 ms, best
    # Winograd 1.46)
    assert choose("forward", (1, 64, 256, 256), (64, 64, 3, 3), s1, p1, s1, 1) == "winograd4"
    assert choose("forward", (1, 32, 256, 256), (32, 32, 3, 3), s1, p1, s1, 1) == "winograd4"
    assert choose("forward", (16, 64, 48, 48), (64, 64, 3, 3), s1, p1, s1, 1) == "winograd4"
    assert choose("forward", (16, 32, 48, 48), (32, 32, 3, 3), s1, p1, s1, 1) == "winograd4"
    assert choose("forward", (1, 32, 256, 256), (128, 32, 3, 3), s1, p1, s1, 1) == "winograd4"
    assert choose("forward", (16, 32, 48, 48), (128, 32, 3, 3), s1, p1, s1, 1) == "winograd4"
    assert choose("forward", (16, 64, 48, 48), (32, 64, 3, 3), s1, p1, s1, 1) == "winograd4"
    assert choose("forward", (16, 56, 48, 48), (12, 56, 3, 3), s1, p1, s1, 1) == "kn2row"
    assert choose("forward", (16, 32, 24, 24), (32, 32, 3, 3), s1, p1, s1, 1) == "im2col"
    assert choose("forward", (2, 3, 7, 6), (4, 3, 3, 3), s1, p1, s1, 1) == "im2col"
    assert choose("forward", (16, 32, 48, 48), (32, 32, 3, 3), (2, 2), p1, s1, 1) == "im2col"
    assert choose("forward", (16, 32, 48, 48), (32, 32, 3, 3), s1, p1, (2, 2), 1) == "im2col"
    assert choose("forward", (16, 64, 48, 48), (9, 64, 3, 3), s1, p1, s1, 1) == "kn2row"
    assert choose("forward", (1, 1, 48, 48), (64, 1, 1, 1), s1, (0, 0), s1, 1) == "pointwise"
    assert choose("backward_weight", (16, 32, 48, 48), (1, 32, 3, 3), s1, p1, s1, 1) == "direct"


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_cpu_passes_on_a_winograd_shape(dtype, rtol, rng):
    # a shape the cost model sends to Winograd, through the public _cpu kernels
    x = rng.standard_normal((1, 16, 4, 300))
    w, b = rng.standard_normal((16, 16, 3, 3)) / 12, rng.standard_normal(16)
    assert _conv_paths.choose_path("forward", x.shape, w.shape, (1, 1), (1, 1), (1, 1),
                                   1).startswith("winograd")
    dy = rng.standard_normal((1, 16, 4, 300))
    y_ref, dx_ref = conv2d_forward_ref(x, w, b, 1, 1), conv2d_backward_input_ref(dy, w, x.shape,
                                                                                1, 1)
    xd, wd, bd, dyd = (t.astype(dtype) for t in (x, w, b, dy))
    atol = rtol * x.size ** 0.5
    y = conv2d_forward_cpu(xd, wd, bd, 1, 1)
    dx = conv2d_backward_input_cpu(dyd, wd, x.shape, 1, 1)
    assert y.dtype == dx.dtype == dtype
    np.testing.assert_allclose(y, y_ref, rtol=rtol, atol=atol)
    np.testing.assert_allclose(dx, dx_ref, rtol=rtol, atol=atol)
