"""dL/dw by kn2row (``_conv_dw.py``) and by Winograd (``_winograd_dw.py``) against the reference."""
import numba
import numpy as np
import pytest

from minisr.kernels import _conv_paths
from minisr.kernels.conv2d import conv2d_backward_weight_cpu, conv2d_backward_weight_ref


@pytest.mark.parametrize("C_in, C_out, k, p, d", [(32, 3, 3, 1, 1), (12, 5, 3, 2, 2),
                                                  (8, 3, 5, 2, 1), (6, 3, 3, 0, 1)])
def test_kn2row_dw_matches_ref_in_float64(C_in, C_out, k, p, d, rng):
    N = max(2, numba.get_num_threads())
    x = rng.standard_normal((N, C_in, 11, 13))
    H_out = 11 + 2 * p - d * (k - 1)
    W_out = 13 + 2 * p - d * (k - 1)
    dy = rng.standard_normal((N, C_out, H_out, W_out))
    w_shape = (C_out, C_in, k, k)
    assert _conv_paths.choose_path("backward_weight", x.shape, w_shape, (1, 1), (p, p),
                                   (d, d), 1) == "kn2row"
    dw, db = conv2d_backward_weight_cpu(x, dy, w_shape, 1, p, d)
    dw_ref, db_ref = conv2d_backward_weight_ref(x, dy, w_shape, 1, p, d)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, db_ref, rtol=1e-12, atol=1e-12)


def test_kn2row_dw_is_not_taken_where_it_would_not_pay():
    T, one = numba.get_num_threads(), (1, 1)

    def choose(*args):
        return _conv_paths.choose_path("backward_weight", *args)
    assert choose((16, 32, 48, 48), (32, 32, 3, 3), one, one, one, 1) == "winograd4"
    assert choose((16, 32, 48, 48), (32, 32, 5, 5), one, (2, 2), one, 1) == "im2col"
    assert choose((16, 3, 48, 48), (32, 3, 3, 3), one, one, one, 1) == "im2col"
    assert choose((16, 32, 48, 48), (9, 32, 3, 3), one, one, one, 1) == "winograd4"
    assert choose((16, 32, 48, 48), (3, 32, 3, 3), (2, 2), one, one, 1) == "im2col"
    assert choose((16, 32, 48, 48), (8, 16, 3, 3), one, one, one, 2) == "im2col"
    if T > 1:        # one image, few outputs: kn2row would run on one thread
        assert choose((1, 32, 96, 96), (3, 32, 3, 3), one, one, one, 1) == "winograd4"


@pytest.mark.parametrize("N, C_in, C_out, H, W, p", [(2, 8, 8, 7, 9, 1), (1, 12, 9, 10, 13, 1),
                                                     (3, 8, 16, 8, 8, 0), (2, 8, 8, 6, 7, 2)])
def test_winograd_dw_matches_ref(N, C_in, C_out, H, W, p, rng):
    from minisr.kernels._winograd_dw import winograd_backward_weight
    x = rng.standard_normal((N, C_in, H, W))
    dy = rng.standard_normal((N, C_out, H + 2 * p - 2, W + 2 * p - 2))
    w_shape = (C_out, C_in, 3, 3)
    assert _conv_paths.choose_path("backward_weight", x.shape, w_shape, (1, 1), (p, p),
                                   (1, 1), 1) == "winograd4"
    ref = conv2d_backward_weight_ref(x, dy, w_shape, 1, p)[0]
    np.testing.assert_allclose(conv2d_backward_weight_cpu(x, dy, w_shape, 1, p)[0], ref,
                               rtol=1e-11, atol=1e-11)
    for m in (2, 4):     # float64: exact up to rounding; float32: within the forward's bound
        np.testing.assert_allclose(winograd_backward_weight(x, dy, p, m), ref,
                                   rtol=1e-11, atol=1e-11)
        got = winograd_backward_weight(x.astype(np.float32), dy.astype(np.float32), p, m)
        assert got.dtype == np.float32
        assert np.abs(got - ref).max() / np.abs(ref).max() < 1e-5, m
