"""Optimizer kernels: hand-computed steps, and the fused cpu pass against the reference."""
import inspect

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from minisr.kernels import optim as K

SHAPE = (3, 4, 5)
DTYPES = [np.float32, np.float64]

SGD_CASES = {  # (lr, momentum, dampening, weight_decay, nesterov)
    "plain": (0.1, 0.0, 0.0, 0.0, False),
    "momentum": (0.1, 0.9, 0.0, 0.0, False),
    "nesterov": (0.05, 0.9, 0.0, 0.0, True),
    "dampening": (0.1, 0.8, 0.3, 0.0, False),
    "weight_decay": (0.1, 0.9, 0.1, 1e-2, False),
    "weight_decay_no_momentum": (0.1, 0.0, 0.0, 5e-2, False),
}
ADAM_CASES = {  # (lr, beta1, beta2, eps, weight_decay, decoupled)
    "adam": (1e-3, 0.9, 0.999, 1e-8, 0.0, False),
    "adam_l2": (1e-2, 0.8, 0.99, 1e-6, 1e-2, False),
    "adamw": (1e-2, 0.9, 0.999, 1e-8, 5e-2, True),
}


# --- fast == reference --------------------------------------------------------------------
# Both sides do the same IEEE operations (+ - * / sqrt, each correctly rounded) in the same
# order and dtype, with the scalars cast to that dtype, so they agree bit for bit. A float32
# loop that silently computed in float64 would round differently and fail here.

@pytest.mark.parametrize("case", SGD_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_cpu_matches_ref(case, dtype, rng):
    lr, momentum, dampening, wd, nesterov = SGD_CASES[case]
    p = rng.standard_normal(SHAPE).astype(dtype)
    state = {b: (p.copy(), np.zeros_like(p)) for b in ("ref", "cpu")}
    for t in range(5):
        g = rng.standard_normal(SHAPE).astype(dtype)
        for b, step in (("ref", K.sgd_step_ref), ("cpu", K.sgd_step_cpu)):
            q, buf = state[b]
            step(q, g, buf, lr, momentum, dampening, wd, nesterov, t == 0)
    (p_ref, buf_ref), (p_cpu, buf_cpu) = state["ref"], state["cpu"]
    assert p_cpu.dtype == dtype and buf_cpu.dtype == dtype
    assert not np.array_equal(p_ref, p)  # it moved
    assert_array_equal(p_cpu, p_ref)
    assert_array_equal(buf_cpu, buf_ref)
    if momentum == 0:
        assert not buf_cpu.any()  # without momentum the buffer is never touched


@pytest.mark.parametrize("case", ADAM_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_cpu_matches_ref(case, dtype, rng):
    lr, beta1, beta2, eps, wd, decoupled = ADAM_CASES[case]
    p = rng.standard_normal(SHAPE).astype(dtype)
    state = {b: [p.copy(), np.zeros_like(p), np.zeros_like(p)] for b in ("ref", "cpu")}
    for step in range(1, 6):
        g = rng.standard_normal(SHAPE).astype(dtype)
        for b, fn in (("ref", K.adam_step_ref), ("cpu", K.adam_step_cpu)):
            q, m, v = state[b]
            fn(q, g, m, v, lr, beta1, beta2, eps, wd, step, decoupled)
    for got, want in zip(state["cpu"], state["ref"]):
        assert got.dtype == dtype
        assert_array_equal(got, want)


def test_cpu_contiguity(rng):
    # ravel() of a strided view is a copy, so an in-place update of one would be silently
    # lost: p and the state buffers must be contiguous. The gradient is only read, so any
    # strides do.
    strided = rng.standard_normal((4, 6))[:, ::2]
    zeros = np.zeros(strided.shape)
    with pytest.raises(AssertionError):
        K.sgd_step_cpu(strided, zeros, zeros.copy(), 0.1, 0.9, 0.0, 0.0, False, True)
    with pytest.raises(AssertionError):
        K.adam_step_cpu(zeros.copy(), zeros, strided, zeros.copy(), 0.1, 0.9, 0.99, 1e-8, 0.0,
                        1, False)
    p = rng.standard_normal(strided.shape)
    q, buf_p, buf_q = p.copy(), np.zeros_like(p), np.zeros_like(p)
    K.sgd_step_ref(p, strided, buf_p, 0.1, 0.9, 0.0, 0.0, False, True)
    K.sgd_step_cpu(q, strided, buf_q, 0.1, 0.9, 0.0, 0.0, False, True)
    assert_array_equal(q, p)


# --- hand-computed values -----------------------------------------------------------------

@pytest.mark.parametrize("backend", ["ref", "cpu"])
@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_on_a_quadratic(backend, nesterov):
    # f(p) = p^2, so g = 2p; p0 = 1, lr = 0.1, momentum = 0.9, no dampening.
    # heavy ball:  t=1  g = 2     buf = 2                     p = 1    - 0.1*2     = 0.8
    #              t=2  g = 1.6   buf = 0.9*2    + 1.6 = 3.4  p = 0.8  - 0.1*3.4   = 0.46
    #              t=3  g = 0.92  buf = 0.9*3.4  + 0.92 = 3.98 p = 0.46 - 0.1*3.98 = 0.062
    # Nesterov (d = g + 0.9*buf):
    #              t=1  g = 2      buf = 2      d = 3.8      p = 1      - 0.38     = 0.62
    #              t=2  g = 1.24   buf = 3.04   d = 3.976    p = 0.62   - 0.3976   = 0.2224
    #              t=3  g = 0.4448 buf = 3.1808 d = 3.30752  p = 0.2224 - 0.330752 = -0.108352
    expected = {False: ([0.8, 0.46, 0.062], [2, 3.4, 3.98]),
                True: ([0.62, 0.2224, -0.108352], [2, 3.04, 3.1808])}[nesterov]
    step = getattr(K, f"sgd_step_{backend}")
    p, buf = np.array([1.0]), np.zeros(1)
    for t in range(3):
        step(p, 2 * p, buf, 0.1, 0.9, 0.0, 0.0, nesterov, t == 0)
        assert_allclose(p[0], expected[0][t], rtol=1e-12)
        assert_allclose(buf[0], expected[1][t], rtol=1e-12)


@pytest.mark.parametrize("backend", ["ref", "cpu"])
@pytest.mark.parametrize("mode", ["adam", "adam_l2", "adamw"])
def test_adam_first_step(backend, mode, rng):
    # From m = v = 0 at step 1: m = (1-b1) g', v = (1-b2) g'^2, and the bias corrections
    # divide those factors out again: m_hat = g', v_hat = g'^2, so
    #     p1 = p0 - lr * g' / (|g'| + eps)  ~=  p0 - lr * sign(g'),
    # every parameter moves by about lr whatever the size of its gradient.
    # Adam with L2: g' = g + wd*p0.  AdamW: g' = g, and p0 is first shrunk by (1 - lr*wd).
    lr, b1, b2, eps, wd = 1e-2, 0.9, 0.999, 1e-8, 0.1
    p0 = rng.standard_normal(SHAPE)
    g = rng.choice([-1, 1], SHAPE) * rng.uniform(1e-3, 1e3, SHAPE)  # six decades of |g|
    if mode == "adam":
        wd = 0.0
    p, m, v = p0.copy(), np.zeros(SHAPE), np.zeros(SHAPE)
    getattr(K, f"adam_step_{backend}")(p, g, m, v, lr, b1, b2, eps, wd, 1, mode == "adamw")
    gp = g + wd * p0 if mode == "adam_l2" else g
    shrunk = p0 * (1 - lr * wd) if mode == "adamw" else p0
    assert_allclose(m, (1 - b1) * gp, rtol=1e-14)
    assert_allclose(v, (1 - b2) * gp**2, rtol=1e-14)
    assert_allclose(p, shrunk - lr * gp / (np.abs(gp) + eps), rtol=1e-12, atol=1e-15)
    # The step is lr*sign(g') to within lr*eps/|g'| (<= 1e-2 * 1e-8 / 1e-3 = 1e-7 for plain
    # Adam); 1e-14 covers the rounding of p0 - step.
    assert np.all(np.abs((shrunk - p) - lr * np.sign(gp)) <= lr * eps / np.abs(gp) + 1e-14)


def test_every_ref_has_a_cpu_twin():
    refs = {n[:-4] for n in dir(K) if n.endswith("_ref") and not n.startswith("_")}
    assert refs == {"sgd_step", "adam_step"}
    for name in refs:
        ref, cpu = getattr(K, name + "_ref"), getattr(K, name + "_cpu")
        assert inspect.signature(ref) == inspect.signature(cpu), name
