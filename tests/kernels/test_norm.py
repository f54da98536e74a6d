"""Batch norm kernels and F.batch_norm: known values, ref == cpu, gradchecks, float32
statistics, and torch.nn.functional.batch_norm as an oracle (when torch is installed)."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from minisr.autograd import Tensor, no_grad
from minisr.backend import use_backend
from minisr.kernels import norm as K
from minisr.ops import functional as F
from minisr.testing import gradcheck

SHAPE = (3, 4, 5, 6)      # M = 3 * 5 * 6 = 90 values per channel
BACKENDS = ["ref", "cpu"]


def _inputs(rng, shape=SHAPE, dtype=np.float64):
    C = shape[1]
    x = rng.standard_normal(shape) * rng.uniform(0.5, 3, (1, C) + (1,) * (len(shape) - 2)) + 2
    w, b = rng.uniform(0.5, 1.5, C), rng.standard_normal(C)
    rm, rv = rng.standard_normal(C) * 0.1, rng.uniform(0.5, 2, C)
    return [a.astype(dtype) for a in (x, w, b, rm, rv)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_known_values(backend):
    fwd = getattr(K, f"batch_norm_forward_{backend}")
    bwd = getattr(K, f"batch_norm_backward_{backend}")
    # one channel holding 1, 2, 3: mean 2, biased var 2/3, unbiased var 1
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 1, 3, 1)
    rm, rv = np.zeros(1), np.ones(1)
    y, mean, invstd = fwd(x, None, None, rm, rv, True, 0.5, 0.0)
    assert_allclose(y.ravel(), np.array([-1, 0, 1]) * np.sqrt(1.5), rtol=1e-15)
    assert_allclose([mean[0], invstd[0]], [2, np.sqrt(1.5)], rtol=1e-15)
    assert_allclose([rm[0], rv[0]], [0.5 * 0 + 0.5 * 2, 0.5 * 1 + 0.5 * 1], rtol=1e-15)
    # sum(dy) = 0 and sum(dy * xhat) = 0 for dy = 1 everywhere: dx = 0, dbias = 3, dweight = 0
    dx, dw, db = bwd(np.ones_like(x), x, None, mean, invstd, True)
    assert_allclose(dx, 0, atol=1e-15)
    assert_allclose([dw[0], db[0]], [0, 3], atol=1e-15)
    # eval: y = (x - 1) / sqrt(4) * 3 + 1 with running mean 1, var 4, weight 3, bias 1
    y, _, _ = fwd(x, np.array([3.0]), np.array([1.0]), np.ones(1), np.full(1, 4.0), False,
                  0.1, 0.0)
    assert_allclose(y.ravel(), [1, 2.5, 4], rtol=1e-15)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-5)])
@pytest.mark.parametrize("training", [True, False])
def test_cpu_matches_ref(dtype, rtol, training):
    rng = np.random.default_rng(1)
    x, w, b, rm, rv = _inputs(rng, dtype=dtype)
    dy = rng.standard_normal(SHAPE).astype(dtype)
    out = {}
    for be in BACKENDS:
        r = [rm.copy(), rv.copy()]
        y, mean, invstd = getattr(K, f"batch_norm_forward_{be}")(x, w, b, *r, training, 0.1,
                                                                 1e-5)
        grads = getattr(K, f"batch_norm_backward_{be}")(dy, x, w, mean, invstd, training)
        out[be] = [y, mean, invstd, *r, *grads]
    atol = rtol * np.sqrt(x.size)
    for k, (c, r) in enumerate(zip(out["cpu"], out["ref"])):
        assert c.dtype == dtype
        assert_allclose(c, r, rtol=rtol, atol=atol, err_msg=f"output {k}")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("training", [True, False])
def test_gradcheck_x_weight_bias(backend, training):
    x, w, b, rm, rv = _inputs(np.random.default_rng(2), shape=(2, 3, 4, 3))
    inputs = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    fn = lambda x, w, b: F.batch_norm(x, rm.copy(), rv.copy(), w, b, training)  # noqa: E731
    with use_backend(backend):
        errors = gradcheck(fn, inputs, eps=1e-6, rtol=1e-5, atol=1e-6)
    assert set(errors) == {0, 1, 2} and max(errors.values()) < 1e-7


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_statistics_are_accurate_far_from_zero(backend):
    # 4 channels of 2 * 64 * 64 values at 1000 + N(0, 1e-2^2): a float32 running sum would
    # lose the variance; the float64 accumulation keeps mean and var to float32 rounding.
    rng = np.random.default_rng(3)
    x = (1000 + 1e-2 * rng.standard_normal((2, 4, 64, 64))).astype(np.float32)
    x64 = x.astype(np.float64)
    rm, rv = np.zeros(4, np.float32), np.ones(4, np.float32)
    y, mean, invstd = getattr(K, f"batch_norm_forward_{backend}")(x, None, None, rm, rv, True,
                                                                  1.0, 0.0)
    m64, v64 = x64.mean(axis=(0, 2, 3)), x64.var(axis=(0, 2, 3))
    assert_allclose(mean, m64, rtol=1e-7)
    assert_allclose(invstd, 1 / np.sqrt(v64), rtol=1e-6)
    assert_allclose(rv, v64 * x.size / 4 / (x.size / 4 - 1), rtol=1e-6)
    assert_allclose(y.std(axis=(0, 2, 3), dtype=np.float64), 1, rtol=1e-3)


def test_no_grad_training_still_updates_running_stats():
    x, w, b, rm, rv = _inputs(np.random.default_rng(4))
    with no_grad():
        y = F.batch_norm(Tensor(x), rm, rv, Tensor(w), Tensor(b), training=True, momentum=0.2)
    assert not y.requires_grad
    assert_allclose(rm, 0.8 * _inputs(np.random.default_rng(4))[3] + 0.2 * x.mean(axis=(0, 2, 3)),
                    rtol=1e-12)


def test_errors_name_the_op():
    x = Tensor(np.zeros((2, 3, 4, 4)))
    with pytest.raises(ValueError, match="batch_norm: eval"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match="batch_norm: weight"):
        F.batch_norm(x, None, None, Tensor(np.ones(4)), training=True)
    with pytest.raises(ValueError, match="more than 1 value"):
        F.batch_norm(Tensor(np.zeros((1, 3))), None, None, training=True)


# --- torch as an oracle -----------------------------------------------------------------

@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_matches_torch_functional(training, dtype, tol):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x, w, b, rm, rv = _inputs(rng, dtype=dtype)
    dy = rng.standard_normal(SHAPE).astype(dtype)
    xs, ws, bs = (Tensor(a.copy(), requires_grad=True) for a in (x, w, b))
    rms, rvs = rm.copy(), rv.copy()
    y = F.batch_norm(xs, rms, rvs, ws, bs, training, 0.3, 1e-3)
    y.backward(dy)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    rmt, rvt = torch.tensor(rm), torch.tensor(rv)
    yt = torch.nn.functional.batch_norm(xt, rmt, rvt, wt, bt, training, 0.3, 1e-3)
    yt.backward(torch.tensor(dy))
    pairs = [(y.data, yt), (xs.grad, xt.grad), (ws.grad, wt.grad), (bs.grad, bt.grad),
             (rms, rmt), (rvs, rvt)]
    for k, (ours, theirs) in enumerate(pairs):
        theirs = theirs.detach().numpy()
        assert_allclose(ours, theirs, rtol=tol, atol=tol * np.abs(theirs).max(),
                        err_msg=f"item {k}")


# --- CUDA against the CPU kernels (simulator by default; conftest.py) -------------------

def _cuda_or_skip():
    pytest.importorskip("numba.cuda", reason="numba-cuda is not installed")
    from minisr import backend
    if not backend.cuda_available():
        pytest.skip("numba.cuda finds no GPU and the simulator is off")
    from minisr.kernels.cuda import _launch
    return backend, _launch


@pytest.mark.parametrize("shape, training, affine", [((2, 4, 8, 16), True, True),
                                                     ((2, 4, 8, 16), False, True),
                                                     ((3, 5, 7, 9), True, False),
                                                     ((300, 3), True, True)])
def test_cuda_matches_cpu_float32(shape, training, affine, monkeypatch):
    # ~1k elements; (3, 5, 7, 9) leaves 189 per channel, a ragged last stride of the block;
    # (300, 3) has L = 1 and 300 values per channel (more than a block's 128 threads).
    backend, launch = _cuda_or_skip()
    monkeypatch.setattr(launch, "POISON", True)          # unwritten outputs show as NaN
    from minisr.kernels.cuda import norm as KC
    rng = np.random.default_rng(6)
    x, w, b, rm, rv = _inputs(rng, shape=shape, dtype=np.float32)
    w, b = (w, b) if affine else (None, None)
    dy = rng.standard_normal(shape).astype(np.float32)
    dev = lambda a: None if a is None else backend.to_device(a, "cuda")  # noqa: E731
    host = lambda a: backend.to_device(a, "cpu")  # noqa: E731
    r_cpu, r_gpu = [rm.copy(), rv.copy()], [dev(rm), dev(rv)]
    y, mean, invstd = K.batch_norm_forward_cpu(x, w, b, *r_cpu, training, 0.1, 1e-5)
    grads = K.batch_norm_backward_cpu(dy, x, w, mean, invstd, training)
    yg, meang, invstdg = KC.batch_norm_forward_cuda(dev(x), dev(w), dev(b), *r_gpu, training,
                                                    0.1, 1e-5)
    gradsg = KC.batch_norm_backward_cuda(dev(dy), dev(x), dev(w), meang, invstdg, training)
    ours = [y, mean, invstd, *r_cpu, *grads]
    theirs = [host(a) for a in (yg, meang, invstdg, *r_gpu, *gradsg)]
    for k, (c, g) in enumerate(zip(ours, theirs)):
        assert g.dtype == np.float32 and g.shape == c.shape
        assert_allclose(g, c, rtol=1e-5, atol=1e-5 * np.abs(c).max(), err_msg=f"output {k}")


def test_batchnorm2d_trains_on_cuda_as_on_cpu():
    backend, _ = _cuda_or_skip()
    from minisr.nn import BatchNorm2d
    rng = np.random.default_rng(7)
    xs = [_inputs(rng, shape=(2, 4, 8, 16), dtype=np.float32)[0] for _ in range(2)]
    states = []
    for device in ("cpu", "cuda"):
        bn = BatchNorm2d(4).to(device)
        for x in xs:
            bn(Tensor(x).to(device)).sum().backward()
        bn.eval()
        y = bn(Tensor(xs[0]).to(device)).numpy()
        assert bn.num_batches_tracked.device == device == bn.running_var.device
        states.append((y, bn.state_dict(), backend.to_device(bn.weight.grad, "cpu")))
    (y_c, sd_c, g_c), (y_g, sd_g, g_g) = states
    assert_allclose(y_g, y_c, rtol=1e-5, atol=1e-5)
    assert_allclose(g_g, g_c, rtol=1e-4, atol=1e-4)
    assert sd_g["num_batches_tracked"].dtype == np.int64 and sd_g["num_batches_tracked"] == 2
    for k in sd_c:
        assert_allclose(sd_g[k], sd_c[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_cuda_float32_statistics_far_from_zero():
    # As the CPU test above, on 2 * 16 * 16 values per channel at 1000 +- 3e-3: the
    # corrected two-pass variance cancels the mean's float32 rounding (up to 3e-5 at 1000,
    # squared 1e-9 against a variance of 9e-6), which the plain sum of squared deviations
    # keeps: then invstd is off by 1.3e-5 and 4.5e-6 here (computed in float64).
    backend, _ = _cuda_or_skip()
    from minisr.kernels.cuda import norm as KC
    x = (1000 + 3e-3 * np.random.default_rng(3).standard_normal((2, 2, 16, 16)))
    x = x.astype(np.float32)
    x64 = x.astype(np.float64)
    _, mean, invstd = KC.batch_norm_forward_cuda(backend.to_device(x, "cuda"), None, None,
                                                 None, None, True, 0.1, 0.0)
    assert_allclose(backend.to_device(mean, "cpu"), x64.mean(axis=(0, 2, 3)), rtol=1e-7)
    assert_allclose(backend.to_device(invstd, "cpu"), 1 / x64.std(axis=(0, 2, 3)), rtol=1e-6)
