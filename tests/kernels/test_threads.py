"""``kernels/_threads.py``: minisr's worker threads, and NumPy's BLAS held to one thread."""
import threading

import numpy as np
import pytest

from minisr.kernels import _threads
from minisr.kernels.conv2d import conv2d_backward_weight_cpu, conv2d_forward_cpu


def test_blas_is_on_one_thread_and_blas_threads_gives_it_back():
    n = _threads.blas_get_threads()
    if n is None:
        pytest.skip("NumPy's BLAS is not an OpenBLAS found in numpy.libs")
    assert n == 1
    with _threads.blas_threads(2):
        assert _threads.blas_get_threads() == 2
    assert _threads.blas_get_threads() == 1


def test_each_thread_takes_a_fixed_share_in_order():
    seen = []
    lock = threading.Lock()

    def body(item, s):
        s.append(item)
        with lock:
            seen.append(item)
    shares = _threads.for_items(range(7), body, list, threads=2)
    assert shares == [[0, 2, 4, 6], [1, 3, 5]]
    assert sorted(seen) == list(range(7))
    assert _threads.for_items([], body, list, threads=2) == [[]]


def test_an_error_in_an_item_reaches_the_caller_and_nested_calls_run_inline():
    def body(item, _):
        if item == 3:
            raise ValueError("item 3")
    with pytest.raises(ValueError, match="item 3"):
        _threads.for_items(range(6), body, threads=2)

    def outer(item, s):
        s.extend(_threads.for_items(range(3), lambda i, t: t.append(i), list, threads=2))
    shares = _threads.for_items(range(2), outer, list, threads=2)
    assert shares == [[[0, 1, 2]], [[0, 1, 2]]]        # one share each: ran inline


def test_threaded_passes_are_deterministic_and_match_one_thread(rng):
    import numba
    x = rng.standard_normal((6, 8, 96, 96)).astype(np.float32)
    dy = rng.standard_normal((6, 8, 96, 96)).astype(np.float32)
    w = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    dw = [conv2d_backward_weight_cpu(x, dy, w.shape, 1, 1)[0] for _ in range(3)]
    assert all(np.array_equal(dw[0], d) for d in dw[1:])   # same bits every call
    y = conv2d_forward_cpu(x, w, None, 1, 1)
    old = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        dw1 = conv2d_backward_weight_cpu(x, dy, w.shape, 1, 1)[0]
        y1 = conv2d_forward_cpu(x, w, None, 1, 1)
    finally:
        numba.set_num_threads(old)
    np.testing.assert_allclose(dw[0], dw1, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(y, y1)   # disjoint outputs: thread count changes nothing
