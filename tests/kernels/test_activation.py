"""Activations: known values, ref == cpu, and backward against central differences."""
import inspect
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from minisr.kernels import activation as K
from minisr.testing import numerical_gradient

SHAPE = (2, 3, 5, 4)
SLOPE = 0.1
RTOL_CPU = {np.float32: 1e-6, np.float64: 1e-12}
BACKENDS = ["ref", "cpu"]


def fn(name, backend):
    return getattr(K, f"{name}_{backend}")


def away_from_zero(rng, shape):
    """Normal samples pushed at least 1e-2 from the kink at 0 (finite differences step 1e-6)."""
    x = rng.standard_normal(shape)
    return np.where(x >= 0, x + 1e-2, x - 1e-2)


# Each op as (forward(x), backward(x, y, dy) -> dx), so one test body covers the backwards that
# take x (relu, leaky) and the ones that take the output y (tanh, sigmoid).
def ops(backend):
    f = lambda name: fn(name, backend)  # noqa: E731
    return {
        "relu": (f("relu_forward"), lambda x, y, dy: f("relu_backward")(x, dy)),
        "leaky_relu": (lambda x: f("leaky_relu_forward")(x, SLOPE),
                       lambda x, y, dy: f("leaky_relu_backward")(x, dy, SLOPE)),
        "tanh": (f("tanh_forward"), lambda x, y, dy: f("tanh_backward")(y, dy)),
        "sigmoid": (f("sigmoid_forward"), lambda x, y, dy: f("sigmoid_backward")(y, dy)),
        "softplus": (f("softplus_forward"), lambda x, y, dy: f("softplus_backward")(x, dy)),
    }


OP_NAMES = ["relu", "leaky_relu", "tanh", "sigmoid", "softplus"]


# --- known values -------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_known_values(backend):
    f = lambda name: fn(name, backend)  # noqa: E731
    x = np.array([-1.0, 0.5, 0.0, -2.0])
    assert_array_equal(f("relu_forward")(x), [0, 0.5, 0, 0])
    assert_array_equal(f("relu_backward")(x, np.ones(4)), [0, 1, 0, 0])  # relu'(0) := 0
    assert np.isnan(f("relu_forward")(np.array([np.nan]))[0])             # as torch.relu
    assert_allclose(f("leaky_relu_forward")(x, 0.1), [-0.1, 0.5, 0, -0.2], rtol=1e-15)
    assert_allclose(f("leaky_relu_backward")(x, np.ones(4), 0.1), [0.1, 1, 0.1, 0.1])
    # sigmoid(0) = 1/2, sigmoid'(0) = 1/2 * 1/2 = 1/4; tanh(0) = 0, tanh'(0) = 1 - 0^2 = 1.
    zero, one = np.zeros(1), np.ones(1)
    assert f("sigmoid_forward")(zero)[0] == 0.5
    assert f("sigmoid_backward")(np.array([0.5]), one)[0] == 0.25
    assert f("tanh_forward")(zero)[0] == 0
    assert f("tanh_backward")(zero, one)[0] == 1
    # tanh(1) = (e^2 - 1)/(e^2 + 1); sigmoid(log 3) = 1/(1 + 1/3) = 3/4, sigmoid(-log 3) = 1/4.
    assert_allclose(f("tanh_forward")(one), (np.e**2 - 1) / (np.e**2 + 1), rtol=1e-14)
    assert_allclose(f("sigmoid_forward")(np.log([3.0, 1 / 3])), [0.75, 0.25], rtol=1e-14)
    # softplus(0) = log 2, softplus(log 3) = log 4, softplus(-log 3) = log(4/3);
    # softplus'(x) = sigmoid(x): 1/2 at 0, 3/4 at log 3.
    assert_allclose(f("softplus_forward")(np.log([1.0, 3.0, 1 / 3])),
                    np.log([2.0, 4.0, 4 / 3]), rtol=1e-14)
    assert_allclose(f("softplus_backward")(np.log([1.0, 3.0]), np.ones(2)), [0.5, 0.75],
                    rtol=1e-14)
    # PReLU with a = (0.25, 2): channel 0 scales negatives by 0.25, channel 1 doubles them.
    xp = np.array([[-4.0, -1.0], [3.0, 5.0]])  # (N=2, C=2)
    assert_array_equal(f("prelu_forward")(xp, np.array([0.25, 2.0])), [[-1, -2], [3, 5]])
    assert_array_equal(f("prelu_forward")(xp, np.array([0.25])), [[-1, -0.25], [3, 5]])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_saturates_without_overflow(backend, dtype):
    x = np.array([-1000.0, -50.0, 50.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # exp(1000) would overflow with a RuntimeWarning
        y = fn("sigmoid_forward", backend)(x)
    assert y.dtype == dtype
    assert y[0] == 0 and y[-1] == 1 and 0 < y[1] < 1e-20 and y[2] == 1


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_saturates_without_overflow(backend, dtype):
    # softplus(x) -> x for large x and exp(x) -> 0 below: log(1 + e^1000) is 1000, not inf.
    x = np.array([-1000.0, -50.0, 50.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fn("softplus_forward", backend)(x)
        dx = fn("softplus_backward", backend)(x, np.ones_like(x))
    assert y.dtype == dtype and dx.dtype == dtype
    assert y[0] == 0 and 0 < y[1] < 1e-20 and y[2] == 50 and y[3] == 1000
    assert dx[0] == 0 and dx[-1] == 1


# --- fast == reference --------------------------------------------------------------------

@pytest.mark.parametrize("name", OP_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cpu_matches_ref(name, dtype, rng):
    x = rng.standard_normal(SHAPE).astype(dtype)
    dy = rng.standard_normal(SHAPE).astype(dtype)
    (f_ref, b_ref), (f_cpu, b_cpu) = ops("ref")[name], ops("cpu")[name]
    y_ref, y_cpu = f_ref(x), f_cpu(x)
    dx_ref, dx_cpu = b_ref(x, y_ref, dy), b_cpu(x, y_ref, dy)
    for a in (y_ref, y_cpu, dx_ref, dx_cpu):
        assert a.dtype == dtype and a.shape == SHAPE
    assert_allclose(y_cpu, y_ref, rtol=RTOL_CPU[dtype], atol=0)
    assert_allclose(dx_cpu, dx_ref, rtol=RTOL_CPU[dtype], atol=0)


@pytest.mark.parametrize("shared", [False, True], ids=["per_channel", "shared"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_cpu_matches_ref(shared, dtype, rng):
    x = rng.standard_normal(SHAPE).astype(dtype)
    dy = rng.standard_normal(SHAPE).astype(dtype)
    a = rng.uniform(0.05, 0.5, 1 if shared else SHAPE[1]).astype(dtype)
    assert_allclose(K.prelu_forward_cpu(x, a), K.prelu_forward_ref(x, a),
                    rtol=RTOL_CPU[dtype], atol=0)
    dx_ref, da_ref = K.prelu_backward_ref(x, a, dy)
    dx_cpu, da_cpu = K.prelu_backward_cpu(x, a, dy)
    assert da_cpu.shape == a.shape and da_cpu.dtype == dtype and dx_cpu.dtype == dtype
    assert_allclose(dx_cpu, dx_ref, rtol=RTOL_CPU[dtype], atol=0)
    # da is a sum over N*H*W (times C if shared) terms, added in a different order than
    # NumPy's pairwise sum: allow rounding proportional to that length and to sum |x*dy|.
    terms = np.abs(np.where(x > 0, 0, x * dy))
    scale = terms.sum() if shared else terms.sum(axis=(0, 2, 3))
    eps = np.finfo(dtype).eps
    assert np.all(np.abs(da_cpu - da_ref) <= RTOL_CPU[dtype] * np.abs(da_ref) + 4 * eps * scale)


@pytest.mark.parametrize("name", OP_NAMES)
def test_cpu_accepts_non_contiguous(name, rng):
    x = rng.standard_normal((2, 5, 4, 3)).transpose(0, 3, 1, 2)[:, :, ::-1]  # (2, 3, 5, 4)
    dy = rng.standard_normal((4, 5, 3, 2)).T
    (f_ref, b_ref), (f_cpu, b_cpu) = ops("ref")[name], ops("cpu")[name]
    y = f_ref(x)
    assert_allclose(f_cpu(x), y, rtol=1e-12, atol=0)
    assert_allclose(b_cpu(x, y, dy), b_ref(x, y, dy), rtol=1e-12, atol=0)
    a = np.array([0.1, 0.2, 0.3])
    assert_allclose(K.prelu_forward_cpu(x, a), K.prelu_forward_ref(x, a), rtol=1e-12)
    for got, want in zip(K.prelu_backward_cpu(x, a, dy), K.prelu_backward_ref(x, a, dy)):
        assert_allclose(got, want, rtol=1e-12)


# --- gradients ----------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", OP_NAMES)
def test_backward_matches_finite_differences(backend, name, rng):
    forward, backward = ops(backend)[name]
    x = away_from_zero(rng, (2, 3, 3, 4))
    dy = rng.standard_normal(x.shape)
    dx = backward(x, forward(x), dy)
    assert_allclose(dx, numerical_gradient(lambda: forward(x), x, dy), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shared", [False, True], ids=["per_channel", "shared"])
def test_prelu_gradients_match_finite_differences(backend, shared, rng):
    forward, backward = fn("prelu_forward", backend), fn("prelu_backward", backend)
    x = away_from_zero(rng, (2, 3, 3, 4))
    a = rng.uniform(0.05, 0.5, 1 if shared else 3)
    dy = rng.standard_normal(x.shape)
    dx, da = backward(x, a, dy)
    assert da.shape == a.shape
    assert_allclose(dx, numerical_gradient(lambda: forward(x, a), x, dy), rtol=1e-5, atol=1e-6)
    assert_allclose(da, numerical_gradient(lambda: forward(x, a), a, dy), rtol=1e-5, atol=1e-6)


def test_every_ref_has_a_cpu_twin():
    refs = {n[:-4] for n in dir(K) if n.endswith("_ref") and not n.startswith("_")}
    assert len(refs) == 12  # relu, leaky_relu, prelu, sigmoid, tanh, softplus; forward and backward
    for name in refs:
        ref, cpu = getattr(K, name + "_ref"), getattr(K, name + "_cpu")
        assert inspect.signature(ref) == inspect.signature(cpu), name
