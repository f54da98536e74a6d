"""Pixel shuffle / unshuffle: known values, CRD channel order, inverse, adjoint, ref == cpu."""
import inspect

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from minisr.kernels import pixel_shuffle as K

SHUFFLE = [K.pixel_shuffle_ref, K.pixel_shuffle_cpu]
UNSHUFFLE = [K.pixel_unshuffle_ref, K.pixel_unshuffle_cpu]
DTYPES = [np.float32, np.float64]


def crd_oracle(x, r):
    """PyTorch / ONNX 'CRD' order written as reshape + transpose, independent of the loops."""
    N, Crr, H, W = x.shape
    C = Crr // (r * r)
    return x.reshape(N, C, r, r, H, W).transpose(0, 1, 4, 2, 5, 3).reshape(N, C, H * r, W * r)


def dcr_oracle(x, r):
    """TensorFlow depth_to_space 'DCR' order: y[n, c, h*r+i, w*r+j] = x[n, (i*r+j)*C + c, h, w]."""
    N, Crr, H, W = x.shape
    C = Crr // (r * r)
    return x.reshape(N, r, r, C, H, W).transpose(0, 3, 4, 1, 5, 2).reshape(N, C, H * r, W * r)


@pytest.mark.parametrize("shuffle", SHUFFLE)
def test_known_values_1x8x1x2(shuffle):
    # x[0, k, 0, w] = 2*k + w, so r = 2 gives C = 8 / 4 = 2 channels of (1*2) x (2*2) pixels:
    #   y[0, c, i, 2*w + j] = x[0, 4c + 2i + j, 0, w] = 2*(4c + 2i + j) + w
    #   c=0, i=0: (w, j) = (0,0) (0,1) (1,0) (1,1) -> k = 0 1 0 1 -> 0 2 1 3
    #   c=0, i=1: k = 2 3 2 3 -> 4 6 5 7;   c=1, i=0: k = 4 5 -> 8 10 9 11;   c=1, i=1: 12 14 13 15
    x = np.arange(16, dtype=np.float64).reshape(1, 8, 1, 2)
    expected = np.array([[[[0, 2, 1, 3], [4, 6, 5, 7]],
                          [[8, 10, 9, 11], [12, 14, 13, 15]]]], dtype=np.float64)
    y = shuffle(x, 2)
    assert_array_equal(y, expected)
    r = 2
    for c in range(2):
        for i in range(r):
            for j in range(r):
                for w in range(2):
                    assert y[0, c, 0 * r + i, w * r + j] == x[0, c * r * r + i * r + j, 0, w]
    # TensorFlow's DCR order would put channel 2 (values 4, 5), not channel 1, at y[0, 0, 0, 1].
    assert dcr_oracle(x, 2)[0, 0, 0, 1] == 4 and y[0, 0, 0, 1] == 2


@pytest.mark.parametrize("shuffle", SHUFFLE)
@pytest.mark.parametrize("r", [2, 3, 4])
def test_channel_order_is_crd_not_dcr(shuffle, r, rng):
    N, C, H, W = 2, 3, 3, 2
    x = rng.standard_normal((N, C * r * r, H, W))
    y = shuffle(x, r)
    assert_array_equal(y, crd_oracle(x, r))
    assert not np.array_equal(y, dcr_oracle(x, r))  # the orders differ once C > 1
    for n, c, h, w, i, j in np.ndindex(N, C, H, W, r, r):
        assert y[n, c, h * r + i, w * r + j] == x[n, c * r * r + i * r + j, h, w]


@pytest.mark.parametrize("impl", [0, 1], ids=["ref", "cpu"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("r", [2, 3, 4])
def test_inverse_both_ways_is_exact(impl, dtype, r, rng):
    shuffle, unshuffle = SHUFFLE[impl], UNSHUFFLE[impl]
    x = rng.standard_normal((2, 3 * r * r, 4, 5)).astype(dtype)
    y = rng.standard_normal((2, 3, 4 * r, 5 * r)).astype(dtype)
    assert shuffle(x, r).dtype == dtype and unshuffle(y, r).dtype == dtype
    assert shuffle(x, r).shape == (2, 3, 4 * r, 5 * r)
    assert unshuffle(y, r).shape == (2, 3 * r * r, 4, 5)
    assert_array_equal(unshuffle(shuffle(x, r), r), x)
    assert_array_equal(shuffle(unshuffle(y, r), r), y)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("r", [2, 3, 4])
def test_cpu_equals_ref_exactly(dtype, r, rng):
    x = rng.standard_normal((2, 3 * r * r, 5, 3)).astype(dtype)
    y = rng.standard_normal((2, 3, 5 * r, 3 * r)).astype(dtype)
    assert_array_equal(K.pixel_shuffle_cpu(x, r), K.pixel_shuffle_ref(x, r))
    assert_array_equal(K.pixel_unshuffle_cpu(y, r), K.pixel_unshuffle_ref(y, r))


def test_non_contiguous_input(rng):
    x = rng.standard_normal((2, 5, 12, 4)).transpose(0, 2, 3, 1)[:, :, ::-1]  # (2, 12, 4, 5)
    y = rng.standard_normal((2, 7, 6, 3)).transpose(0, 3, 2, 1)               # (2, 3, 6, 7)
    assert not x.flags.c_contiguous and not y.flags.c_contiguous
    assert_array_equal(K.pixel_shuffle_cpu(x, 2), K.pixel_shuffle_ref(x, 2))
    assert_array_equal(K.pixel_shuffle_cpu(x, 2), crd_oracle(np.ascontiguousarray(x), 2))
    assert_array_equal(K.pixel_unshuffle_cpu(y[:, :, :6, :6], 3),
                       K.pixel_unshuffle_ref(y[:, :, :6, :6], 3))


@pytest.mark.parametrize("impl", [0, 1], ids=["ref", "cpu"])
@pytest.mark.parametrize("r", [2, 3])
def test_adjoint(impl, r, rng):
    # <shuffle(x), y> == <x, unshuffle(y)>: so unshuffle is shuffle's backward (and vice versa).
    shuffle, unshuffle = SHUFFLE[impl], UNSHUFFLE[impl]
    x = rng.standard_normal((2, 3 * r * r, 4, 3))
    y = rng.standard_normal((2, 3, 4 * r, 3 * r))
    assert_allclose(np.vdot(shuffle(x, r), y), np.vdot(x, unshuffle(y, r)), rtol=1e-12)


def test_every_ref_has_a_cpu_twin():
    refs = {n[:-4] for n in dir(K) if n.endswith("_ref") and not n.startswith("_")}
    assert refs == {"pixel_shuffle", "pixel_unshuffle"}
    for name in refs:
        ref, cpu = getattr(K, name + "_ref"), getattr(K, name + "_cpu")
        assert inspect.signature(ref) == inspect.signature(cpu), name
