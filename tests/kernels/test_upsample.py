"""Bilinear resizing (torch's half-pixel convention): known values, the tap tables, ref == cpu
over a grid of up, down and non-integer ratios, the adjoint identity, gradchecks, argument
errors, and torch's F.interpolate as the oracle (when torch is installed)."""
import inspect

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from minisr.autograd import Tensor
from minisr.backend import use_backend
from minisr.kernels import upsample as K
from minisr.ops import functional as F
from minisr.testing import gradcheck

BACKENDS = ["ref", "cpu"]
# (input H, W), then (size, scale_factor) with exactly one given: upscales (x2, x3, to a
# non-integer size), downscales, mixed axes, an unchanged axis, a 1-pixel input.
RESIZES = [((4, 5), (8, 10), None), ((4, 5), (12, 15), None), ((4, 5), (7, 9), None),
           ((7, 9), (3, 5), None), ((8, 8), (24, 24), None), ((13, 11), (4, 4), None),
           ((7, 6), None, (0.5, 1.5)), ((5, 7), None, (2.5, 0.3)), ((3, 4), None, (1.2, 2.0)),
           ((6, 5), (6, 8), None), ((1, 3), (5, 2), None), ((5, 5), None, (1.5, 1.5)),
           ((24, 24), (8, 8), None), ((9, 10), (1, 1), None)]


def _out(in_hw, size, scale):
    if size is not None:
        return size, (None, None)
    return tuple(int(np.floor(n * f)) for n, f in zip(in_hw, scale)), scale


def _passes(impl, x, size, scales, dy):
    fwd = getattr(K, f"upsample_bilinear2d_forward_{impl}")
    bwd = getattr(K, f"upsample_bilinear2d_backward_{impl}")
    return fwd(x, size, scales), bwd(dy, x.shape[2:], scales)


@pytest.mark.parametrize("impl", BACKENDS)
def test_known_values(impl):
    fwd = getattr(K, f"upsample_bilinear2d_forward_{impl}")
    # [0, 1] to 4 pixels: ratio 1/2, src = (i + 0.5) / 2 - 0.5 = -0.25 (clamped to 0),
    # 0.25, 0.75, 1.25 (past the last pixel: x[1]) -> 0, 0.25, 0.75, 1
    y = fwd(np.array([[[[0.0, 1.0]]]]), (1, 4), (None, None))
    assert_array_equal(y[0, 0, 0], [0, 0.25, 0.75, 1])
    # 2 x 2 to 1 x 1: src = 2 * 0.5 - 0.5 = 0.5 on both axes, the mean of the four
    y = fwd(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), (1, 1), (None, None))
    assert y[0, 0, 0, 0] == 2.5


def test_taps():
    w, idx = K.linear_taps(2, 4, None, np.float64)
    assert_array_equal(idx, [[0, 1], [0, 1], [0, 1], [1, 1]])
    assert_array_equal(w, [[1, 0], [0.75, 0.25], [0.25, 0.75], [0.75, 0.25]])
    # an unchanged axis is copied even when the scale factor says 1.2 (torch does the same)
    w, idx = K.linear_taps(3, 3, 1.2, np.float32)
    assert w.dtype == np.float32
    assert_array_equal(idx, [[0, 0], [1, 1], [2, 2]])
    assert_array_equal(w, [[1, 0], [1, 0], [1, 0]])
    # a given scale factor sets the ratio (1/1.5), not in/out (5/7): output 3 samples
    # src = 3.5 / 1.5 - 0.5 = 1.8333 (pixels 1 and 2, weights 1/6 and 5/6), not 2.0
    w15, i15 = K.linear_taps(5, 7, 1.5, np.float64)
    w57, i57 = K.linear_taps(5, 7, None, np.float64)
    assert_array_equal(i15[3], [1, 2])
    assert_allclose(w15[3], [1 / 6, 5 / 6], rtol=1e-14)
    assert_array_equal(i57[3], [2, 3])
    assert_allclose(w57[3], [1, 0], atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("in_hw, size, scale", RESIZES)
def test_cpu_equals_ref(in_hw, size, scale, dtype):
    # the same operations in the same order on both sides: equal bit for bit
    rng = np.random.default_rng(0)
    out, scales = _out(in_hw, size, scale)
    x = rng.standard_normal((2, 3) + in_hw).astype(dtype)
    dy = rng.standard_normal((2, 3) + out).astype(dtype)
    ref, cpu = _passes("ref", x, out, scales, dy), _passes("cpu", x, out, scales, dy)
    for name, r, c in zip(("y", "dx"), ref, cpu):
        assert c.dtype == dtype and c.shape == r.shape
        assert_array_equal(c, r, err_msg=name)


@pytest.mark.parametrize("impl", BACKENDS)
@pytest.mark.parametrize("in_hw, size, scale", RESIZES)
def test_backward_is_the_adjoint(impl, in_hw, size, scale):
    # <up(x), dy> == <x, up^T(dy)> for every x and dy
    rng = np.random.default_rng(1)
    out, scales = _out(in_hw, size, scale)
    x, dy = rng.standard_normal((2, 2) + in_hw), rng.standard_normal((2, 2) + out)
    y, dx = _passes(impl, x, out, scales, dy)
    assert_allclose(np.vdot(y, dy), np.vdot(x, dx), rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kwargs, shape", [(dict(size=(7, 9)), (2, 2, 4, 5)),
                                           (dict(size=3), (1, 2, 7, 8)),
                                           (dict(scale_factor=(0.5, 1.5)), (1, 2, 7, 6)),
                                           (dict(scale_factor=3), (2, 1, 3, 2))])
def test_gradcheck(backend, kwargs, shape):
    x = Tensor(np.random.default_rng(2).standard_normal(shape), requires_grad=True)
    with use_backend(backend):
        errors = gradcheck(lambda t: F.interpolate(t, **kwargs), [x])
    assert max(errors.values()) < 1e-8


@pytest.mark.parametrize("kwargs, shape", [
    (dict(), (1, 1, 4, 4)), (dict(size=4, scale_factor=2), (1, 1, 4, 4)),
    (dict(size=0), (1, 1, 4, 4)), (dict(size=(4,)), (1, 1, 4, 4)),
    (dict(size=2.5), (1, 1, 4, 4)), (dict(size=(4, True)), (1, 1, 4, 4)),
    (dict(scale_factor=0), (1, 1, 4, 4)), (dict(scale_factor=-2), (1, 1, 4, 4)),
    (dict(scale_factor=float("inf")), (1, 1, 4, 4)), (dict(scale_factor="2"), (1, 1, 4, 4)),
    (dict(scale_factor=0.1), (1, 1, 4, 4)), (dict(size=4), (1, 4, 4)),
    (dict(size=4, mode="nearest"), (1, 1, 4, 4)), (dict(size=4, mode="bicubic"), (1, 1, 4, 4)),
    (dict(size=4, align_corners=True), (1, 1, 4, 4))])
def test_bad_arguments_are_one_line_value_errors(kwargs, shape):
    with pytest.raises(ValueError, match="^interpolate: ") as e:
        F.interpolate(Tensor(np.zeros(shape)), **kwargs)
    assert "\n" not in str(e.value)


def test_every_ref_has_a_cpu_twin():
    refs = {n[:-4] for n in dir(K) if n.endswith("_ref") and not n.startswith("_")}
    assert refs == {"upsample_bilinear2d_forward", "upsample_bilinear2d_backward"}
    for name in refs:
        ref, cpu = getattr(K, name + "_ref"), getattr(K, name + "_cpu")
        assert inspect.signature(ref) == inspect.signature(cpu), name


# --- torch as the oracle -----------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-13), (np.float32, 1e-5)])
@pytest.mark.parametrize("in_hw, size, scale", RESIZES)
def test_matches_torch(in_hw, size, scale, dtype, tol, backend):
    # float64 agrees to rounding; float32 to a few ulp (torch's CPU kernel may fuse
    # multiply-adds and orders some sums differently)
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3) + in_hw).astype(dtype)
    out, _ = _out(in_hw, size, scale)
    dy = rng.standard_normal((2, 3) + out).astype(dtype)
    xs, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with use_backend(backend):
        y = F.interpolate(xs, size=size, scale_factor=scale)
        y.backward(dy)
    yt = torch.nn.functional.interpolate(xt, size=size, scale_factor=scale, mode="bilinear",
                                         align_corners=False)
    yt.backward(torch.tensor(dy))
    assert y.shape == tuple(yt.shape) and y.dtype == dtype
    assert_allclose(y.data, yt.detach().numpy(), rtol=tol, atol=tol)
    assert_allclose(xs.grad, xt.grad.numpy(), rtol=tol, atol=4 * tol)
