"""Backend tables: same names everywhere, selection by context."""
import numpy as np

from minisr.backend import IMPLS, current_backend_name, primitive_names, use_backend


def test_all_backends_expose_the_same_primitives():
    names = [primitive_names(b) for b in IMPLS]
    assert all(n == names[0] for n in names)
    for must in ("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight",
                 "conv_transpose2d_forward", "pixel_shuffle", "pixel_unshuffle",
                 "relu_forward", "prelu_backward", "sgd_step", "adam_step", "sum_to_shape"):
        assert must in names[0]


def test_use_backend_nests_and_restores():
    assert current_backend_name() == "cpu"
    with use_backend("ref"):
        assert current_backend_name() == "ref"
        with use_backend("cpu"):
            assert current_backend_name() == "cpu"
        assert current_backend_name() == "ref"
    assert current_backend_name() == "cpu"


def test_sum_to_shape_is_adjoint_of_broadcast():
    from minisr.kernels.reduce import broadcast_to_ref, sum_to_shape_ref
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((3, 1, 5)), rng.standard_normal((2, 3, 4, 5))
    lhs = np.sum(broadcast_to_ref(x, g.shape) * g)
    rhs = np.sum(x * sum_to_shape_ref(g, x.shape))
    assert abs(lhs - rhs) < 1e-12 * abs(lhs) + 1e-12
