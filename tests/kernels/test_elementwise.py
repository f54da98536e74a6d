"""Elementwise kernels: the Numba binary loop against the NumPy reference, on both sides of
its size cut-off (``PARALLEL_MIN_SIZE``); the generic op cases are all below it."""
import numpy as np
import pytest

from minisr.kernels import elementwise as E

OPS = [(E.add_cpu, E.add_ref), (E.sub_cpu, E.sub_ref), (E.mul_cpu, E.mul_ref),
       (E.div_cpu, E.div_ref)]
OP_IDS = ["add", "sub", "mul", "div"]
N = E.PARALLEL_MIN_SIZE


@pytest.fixture
def loop_calls(monkeypatch):
    """The argument tuples of every call of the Numba loop during the test."""
    calls = []
    loop = E._binary_same_shape

    def counted(*args):
        calls.append(args)
        return loop(*args)

    monkeypatch.setattr(E, "_binary_same_shape", counted)
    return calls


def _operands(rng, shape, dtype):
    a = rng.standard_normal(shape).astype(dtype)
    b = rng.uniform(0.5, 2.0, shape).astype(dtype)  # no division by zero
    return a, b


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, loop", [
    ((N - 1,), False),                 # one short of the cut-off: NumPy's ufunc
    ((N,), True),                      # exactly the cut-off: the Numba loop
    ((3, 7, 29, 31), True),            # 18879 elements, odd and non-square
    ((2, 1, 91, 90), False),           # 16380 elements, 4-D, just below
])
@pytest.mark.parametrize("cpu, ref", OPS, ids=OP_IDS)
def test_binary_cpu_matches_ref_both_sides_of_the_cut_off(cpu, ref, shape, loop, dtype, rng,
                                                          loop_calls):
    # One IEEE operation per element in the array's dtype on both paths (no fastmath, no
    # reassociation), so the loop's results are NumPy's bit for bit.
    a, b = _operands(rng, shape, dtype)
    y = cpu(a, b)
    assert len(loop_calls) == int(loop)
    assert y.dtype == dtype and y.shape == shape
    np.testing.assert_array_equal(y, ref(a, b))


@pytest.mark.parametrize("cpu, ref", OPS, ids=OP_IDS)
def test_binary_cpu_on_strided_views_above_the_cut_off(cpu, ref, rng, loop_calls):
    # Transposed (non-contiguous) operands are copied to C order before the raveled loop;
    # a wrong ravel would pair a[i, j] with b[j, i].
    a, b = _operands(rng, (181, 97), np.float64)
    at, bt = a.T, b[::-1].T
    y = cpu(at, bt)
    assert len(loop_calls) == 1 and y.shape == (97, 181)
    np.testing.assert_array_equal(y, ref(at, bt))


@pytest.mark.parametrize("cpu, ref", OPS, ids=OP_IDS)
def test_binary_cpu_falls_back_for_broadcasts_and_mixed_dtypes(cpu, ref, rng, loop_calls):
    a, b = _operands(rng, (4, N), np.float32)
    # Broadcasting (b is one row) and mixed dtypes (float32 with float64: NumPy promotes)
    # are left to NumPy's ufunc even above the cut-off.
    for x, y in [(a, b[:1]), (a, b.astype(np.float64))]:
        out = cpu(x, y)
        assert out.dtype == ref(x, y).dtype
        np.testing.assert_array_equal(out, ref(x, y))
    assert loop_calls == []
