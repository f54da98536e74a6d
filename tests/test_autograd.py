"""The engine: graph recording, topological backward, accumulation, no_grad."""
import numpy as np
import pytest

import minisr.ops  # noqa: F401  (Tensor operators)
from minisr.autograd import Function, Tensor, no_grad


def test_diamond_graph_accumulates_both_paths():
    # y = x*x + x*3  ->  dy/dx = 2x + 3 = 7 at x = 2; x feeds three uses.
    x = Tensor(np.array([2.0]), requires_grad=True)
    y = x * x + x * 3.0
    y.backward()
    assert x.grad.tolist() == [7.0]


def test_leaf_grad_accumulates_across_backward_calls():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 2.0).sum().backward()
    (x * 5.0).sum().backward()
    assert x.grad.tolist() == [7.0, 7.0]  # 2 + 5, not overwritten (tinygrad Oct-2020 bug)


def test_deep_chain_needs_no_recursion():
    x = Tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(5000):  # deeper than Python's default recursion limit of 1000
        y = y * 1.0001
    y.backward()
    assert x.grad[0] == pytest.approx(1.0001 ** 5000, rel=1e-9)


def test_no_grad_records_nothing():
    x = Tensor(np.ones(3), requires_grad=True)
    with no_grad():
        y = x * 2.0
    assert not y.requires_grad and y._ctx is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_only_inputs_that_need_grad_get_it():
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.full(3, 4.0))
    (a * b).sum().backward()
    assert a.grad.tolist() == [4.0] * 3 and b.grad is None


def test_float32_stays_float32_with_python_scalars():
    x = Tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    y = (0.5 * x + 1) / 3 - x ** 2
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


def test_wrong_gradient_shape_names_the_function():
    class Bad(Function):
        def forward(ctx, x):
            return x.copy()

        def backward(ctx, dy):
            return dy[:1]

    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="Bad.backward"):
        Bad.apply(x).sum().backward()


def test_backward_of_non_scalar_needs_grad():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="grad must be given"):
        (x * 2.0).backward()


def test_scalar_results_keep_float64():
    # 0-d arithmetic returns NumPy scalars; a scalar loss must not fall back to float32.
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = x.mean() - x.sum() * 0.5
    assert loss.dtype == np.float64
