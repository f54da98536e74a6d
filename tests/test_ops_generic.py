"""The three generic checks of STYLE.md section 6, over the cases in ``cases.py``:
gradcheck in float64 (every case), fast (cpu) vs reference tables in float64 and float32
(the cases where the cpu table runs code of its own), and (in ``test_backend.py``) that all
tables expose the same names."""
from types import SimpleNamespace

import numpy as np
import pytest

from minisr import backend
from minisr.autograd import Tensor
from minisr.backend import use_backend
from minisr.kernels import elementwise
from minisr.testing import gradcheck
from minisr.ops import functional as F
from tests.cases import CASES, Case

IDS = [c.name for c in CASES]
FAST = [c for c in CASES if c.fast]
# The cpu binary ops are functions of their own, but run their Numba loop only on equal
# shapes of at least elementwise.PARALLEL_MIN_SIZE elements; otherwise they call NumPy's
# ufunc, as the reference does (tests/kernels/test_elementwise.py covers both sides).
BINARY = {"add", "sub", "mul", "div"}


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
@pytest.mark.parametrize("case", FAST, ids=[c.name for c in FAST])
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


def _own_code_calls(case, monkeypatch) -> tuple[set[str], set[str]]:
    """(primitives the case's cpu run calls, those among them that ran the cpu table's own
    code: an entry that is not the ref entry, and for BINARY ops one that ran its loop)."""
    cpu, ref = backend.get_backend("cpu"), backend.get_backend("ref")
    loops = []
    loop = elementwise._binary_same_shape

    def counted_loop(*args):
        loops.append(args)
        return loop(*args)

    monkeypatch.setattr(elementwise, "_binary_same_shape", counted_loop)
    called, own = set(), set()

    def recording(name, f):
        def call(*args, **kwargs):
            before = len(loops)
            out = f(*args, **kwargs)
            called.add(name)
            if f is not getattr(ref, name) and (name not in BINARY or len(loops) > before):
                own.add(name)
            return out
        return call

    table = SimpleNamespace(name="cpu", **{k: recording(k, f) for k, f in vars(cpu).items()
                                           if k != "name"})
    monkeypatch.setitem(backend._tables, "cpu", table)
    arrays = case.arrays(seed=1)
    with use_backend("cpu"):
        y = case.fn(*[Tensor(a) for a in arrays]).data
        _run(case, arrays, np.random.default_rng(2).standard_normal(y.shape))
    return called, own


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fast_vs_ref_cases_are_exactly_those_with_code_of_their_own(case, monkeypatch):
    # A case in test_cpu_matches_ref must run some cpu code that is not the reference's, or
    # it would compare a function with itself; a case left out must not (else it belongs in).
    called, own = _own_code_calls(case, monkeypatch)
    if case.fast:
        assert own, f"{case.name}: cpu runs the reference's code for {sorted(called)}"
    else:
        assert not own, f"{case.name} is labelled {case.cpu_is_ref!r} but runs {sorted(own)}"


def test_the_label_check_sees_the_elementwise_loop(monkeypatch):
    # Equal shapes of PARALLEL_MIN_SIZE elements take the Numba loop: then mul counts as own
    # code, so a small or broadcast case is labelled for what it does, not for its name.
    n = elementwise.PARALLEL_MIN_SIZE
    big = Case("mul_big", F.mul, [(2, n // 2), (2, n // 2)])
    assert _own_code_calls(big, monkeypatch)[1] == {"mul"}
