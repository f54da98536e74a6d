"""Max pooling: known values, ref == cpu over a grid (overlapping windows, padding, odd
sizes), gradchecks, argument errors, and torch's max_pool2d as the oracle, ties and NaN
included (when torch is installed)."""
import inspect

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from minisr.autograd import Tensor
from minisr.backend import use_backend
from minisr.kernels import pool as K
from minisr.ops import functional as F
from minisr.testing import gradcheck

BACKENDS = ["ref", "cpu"]
# (kernel, stride, padding) as pairs; RLFN's ESA pools 7 x 7 with stride 3.
PARAMS = [((1, 1), (1, 1), (0, 0)), ((2, 2), (2, 2), (0, 0)), ((3, 3), (2, 2), (1, 1)),
          ((3, 3), (1, 1), (1, 1)), ((7, 7), (3, 3), (0, 0)), ((7, 7), (3, 3), (3, 3)),
          ((2, 3), (1, 2), (1, 1)), ((3, 2), (3, 1), (0, 1)), ((4, 4), (1, 1), (2, 2))]
SHAPES = [(2, 3, 13, 11), (1, 1, 7, 7), (1, 2, 24, 24), (3, 2, 9, 8)]


def _fits(shape, k, p):
    return all(shape[2 + a] + 2 * p[a] >= k[a] for a in range(2))


def _passes(impl, x, k, s, p, dy_seed=1):
    fwd, bwd = getattr(K, f"max_pool2d_forward_{impl}"), getattr(K, f"max_pool2d_backward_{impl}")
    y, idx = fwd(x, k, s, p)
    dy = np.random.default_rng(dy_seed).standard_normal(y.shape).astype(x.dtype)
    return y, idx, bwd(dy, idx, x.shape, k, s, p)


@pytest.mark.parametrize("impl", BACKENDS)
def test_known_values(impl):
    fwd, bwd = getattr(K, f"max_pool2d_forward_{impl}"), getattr(K, f"max_pool2d_backward_{impl}")
    # 4 x 4 arange, 2 x 2 windows, stride 2: each window's max is its bottom-right element,
    # whose value is also its flat index h * 4 + w.
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    y, idx = fwd(x, (2, 2), (2, 2), (0, 0))
    assert_array_equal(y[0, 0], [[5, 7], [13, 15]])
    assert_array_equal(idx[0, 0], [[5, 7], [13, 15]])
    # overlapping windows: every 2 x 2 window (stride 1) of this 3 x 3 holds the centre 9,
    # so the centre's gradient is the sum of all four dy and everything else gets 0.
    x = np.array([[0.0, 1, 0], [1, 9, 1], [0, 1, 0]]).reshape(1, 1, 3, 3)
    y, idx = fwd(x, (2, 2), (1, 1), (0, 0))
    assert_array_equal(y, 9)
    assert_array_equal(idx, 4)
    dx = bwd(np.array([1.0, 2, 3, 4]).reshape(1, 1, 2, 2), idx, x.shape, (2, 2), (1, 1), (0, 0))
    assert_array_equal(dx[0, 0], [[0, 0, 0], [0, 10, 0], [0, 0, 0]])
    # padding is -inf: with pad 1 the corner window of an all-negative map sees only x[0, 0]
    y, idx = fwd(-np.ones((1, 1, 2, 2)) - np.eye(2)[None, None], (2, 2), (1, 1), (1, 1))
    assert y[0, 0, 0, 0] == -2 and idx[0, 0, 0, 0] == 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k, s, p", PARAMS)
def test_cpu_equals_ref(k, s, p, dtype):
    # max and argmax involve no rounding, and both scatters add in the same order: equal
    # bit for bit in both dtypes.
    rng = np.random.default_rng(0)
    for shape in SHAPES:
        if not _fits(shape, k, p):
            continue
        x = rng.standard_normal(shape).astype(dtype)
        ref, cpu = _passes("ref", x, k, s, p), _passes("cpu", x, k, s, p)
        for name, r, c in zip(("y", "indices", "dx"), ref, cpu):
            assert c.dtype == r.dtype and c.shape == r.shape
            assert_array_equal(c, r, err_msg=f"{name} {shape}")


@pytest.mark.parametrize("impl", BACKENDS)
def test_ties_go_to_the_first_position_and_nan_wins(impl):
    fwd = getattr(K, f"max_pool2d_forward_{impl}")
    x = np.zeros((1, 1, 3, 3))
    _, idx = fwd(x, (3, 3), (1, 1), (1, 1))
    # every window is clipped to the image; its first (top-left) pixel wins the tie
    assert_array_equal(idx[0, 0], [[0, 0, 1], [0, 0, 1], [3, 3, 4]])
    x = np.array([1.0, np.nan, 2.0, np.nan]).reshape(1, 1, 1, 4)
    y, idx = fwd(x, (1, 4), (1, 4), (0, 0))
    assert np.isnan(y[0, 0, 0, 0]) and idx[0, 0, 0, 0] == 3   # torch keeps the last NaN


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("k, s, p, shape", [(3, 2, 1, (2, 2, 7, 6)), (7, 3, 3, (1, 2, 10, 9)),
                                            (4, 1, 2, (1, 1, 5, 4)), ((2, 3), (1, 2), 0,
                                                                      (2, 1, 5, 7))])
def test_gradcheck(backend, k, s, p, shape):
    x = np.random.default_rng(3).permutation(np.prod(shape)).reshape(shape) / 10.0  # no ties
    with use_backend(backend):
        errors = gradcheck(lambda t: F.max_pool2d(t, k, s, p), [Tensor(x, requires_grad=True)])
    assert max(errors.values()) < 1e-7   # central differences of a piecewise-linear map


@pytest.mark.parametrize("kwargs, shape", [
    (dict(kernel_size=0), (1, 1, 4, 4)), (dict(kernel_size=(3,)), (1, 1, 4, 4)),
    (dict(kernel_size=2.0), (1, 1, 4, 4)), (dict(kernel_size=2, stride=0), (1, 1, 4, 4)),
    (dict(kernel_size=3, padding=-1), (1, 1, 4, 4)), (dict(kernel_size=3, padding=2), (1, 1, 4, 4)),
    (dict(kernel_size=(3, 1), padding=(0, 1)), (1, 1, 4, 4)),
    (dict(kernel_size=5), (1, 1, 4, 4)), (dict(kernel_size=2), (1, 4, 4)),
    (dict(kernel_size=2, ceil_mode=True), (1, 1, 4, 4)),
    (dict(kernel_size=2, dilation=2), (1, 1, 4, 4)),
    (dict(kernel_size=2, return_indices=True), (1, 1, 4, 4))])
def test_bad_arguments_are_one_line_value_errors(kwargs, shape):
    with pytest.raises(ValueError, match="^max_pool2d: ") as e:
        F.max_pool2d(Tensor(np.zeros(shape)), **kwargs)
    assert "\n" not in str(e.value)


def test_every_ref_has_a_cpu_twin():
    refs = {n[:-4] for n in dir(K) if n.endswith("_ref") and not n.startswith("_")}
    assert refs == {"max_pool2d_forward", "max_pool2d_backward"}
    for name in refs:
        ref, cpu = getattr(K, name + "_ref"), getattr(K, name + "_cpu")
        assert inspect.signature(ref) == inspect.signature(cpu), name


# --- torch as the oracle -----------------------------------------------------------------

def _torch(x, dy, k, s, p):
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x, requires_grad=True)
    yt, it = torch.nn.functional.max_pool2d(xt, k, s, p, return_indices=True)
    yt.backward(torch.tensor(dy))
    return yt.detach().numpy(), it.numpy(), xt.grad.numpy()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k, s, p", PARAMS)
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
def test_matches_torch(k, s, p, dtype, ties, backend):
    # With ties (values in {0, 1, 2}) the argmax is torch's rule, first in row-major window
    # order, so even the gradients agree exactly; overlapping windows add theirs up.
    pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    shape = (2, 3, 13, 11)
    x = (rng.integers(0, 3, shape) if ties else rng.standard_normal(shape)).astype(dtype)
    xs = Tensor(x, requires_grad=True)
    with use_backend(backend):
        y = F.max_pool2d(xs, k, s, p)
        dy = rng.standard_normal(y.shape).astype(dtype)
        y.backward(dy)
        _, idx = getattr(K, f"max_pool2d_forward_{backend}")(x, k, s, p)
    yt, it, gt = _torch(x, dy, k, s, p)
    assert_array_equal(y.data, yt)
    assert_array_equal(idx, it)
    assert_array_equal(xs.grad, gt)


@pytest.mark.parametrize("impl", BACKENDS)
def test_nan_and_inf_match_torch(impl):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 2, 9, 8))
    x[0, 0, 2, 3] = x[0, 0, 3, 5] = np.nan
    x[0, 1, :4, :4] = -np.inf
    dy = rng.standard_normal((1, 2, 3, 3))
    y, idx, dx = _passes(impl, x, (4, 4), (3, 3), (1, 1))
    yt, it, _ = _torch(x, dy, (4, 4), (3, 3), (1, 1))
    assert_array_equal(y, yt)
    assert_array_equal(idx, it)
