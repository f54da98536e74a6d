"""The three generic checks of STYLE.md section 6, over every case in ``cases.py``:
gradcheck in float64, fast (cpu) vs reference tables in float64 and float32, and (in
``test_backend.py``) that all tables expose the same names."""
import numpy as np
import pytest

from minisr.autograd import Tensor
from minisr.backend import use_backend
from minisr.testing import gradcheck
from tests.cases import CASES

IDS = [c.name for c in CASES]


def _run(case, arrays, dy):
    """Forward, then backward with dy: (y, [grad of each input])."""
    ts = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    y = case.fn(*ts)
    y.backward(dy.astype(y.dtype))
    return y.data, [t.grad for t in ts]


@pytest.mark.parametrize("backend", ["ref", "cpu"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradcheck_float64(case, backend):
    inputs = [Tensor(a, requires_grad=True) for a in case.arrays()]
    with use_backend(backend):
        errors = gradcheck(case.fn, inputs, eps=1e-6, rtol=1e-5, atol=1e-6)
    assert errors and max(errors.values()) < 1e-6


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-5)])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cpu_matches_ref(case, dtype, rtol):
    arrays = [a.astype(dtype) for a in case.arrays(seed=1)]
    with use_backend("ref"):
        y_ref = case.fn(*[Tensor(a) for a in arrays]).data
    dy = np.random.default_rng(2).standard_normal(y_ref.shape)
    with use_backend("ref"):
        y_ref, g_ref = _run(case, arrays, dy)
    with use_backend("cpu"):
        y_cpu, g_cpu = _run(case, arrays, dy)
    assert y_cpu.dtype == dtype and all(g.dtype == dtype for g in g_cpu)
    # atol scales with the longest reduction any input of the case takes part in.
    atol = rtol * max(a.size for a in arrays) ** 0.5
    np.testing.assert_allclose(y_cpu, y_ref, rtol=rtol, atol=atol)
    for k, (gc, gr) in enumerate(zip(g_cpu, g_ref)):
        np.testing.assert_allclose(gc, gr, rtol=rtol, atol=atol, err_msg=f"input {k}")
