"""BT.601 colour conversion (MATLAB rgb2ycbcr) at hand-computed points and round trips."""
import numpy as np
import pytest

from minisr.image.color import rgb_to_y, rgb_to_ycbcr, ycbcr_to_rgb


def test_black_white_and_primaries():
    # Y = 16 + 65.481 R + 128.553 G + 24.966 B on the 0..255 scale; Cb/Cr are 128 for gray.
    rgb = np.array([[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64)
    ycc = rgb_to_ycbcr(rgb) * 255
    np.testing.assert_allclose(ycc[:, 0], [16, 235, 81.481, 144.553, 40.966], atol=1e-12)
    np.testing.assert_allclose(ycc[:2, 1:], 128, atol=1e-12)
    np.testing.assert_allclose(ycc[2, 1:], [128 - 37.797, 240], atol=1e-12)


def test_roundtrip_and_y_agree(rng):
    x = rng.random((7, 6, 3)).astype(np.float32)
    back = ycbcr_to_rgb(rgb_to_ycbcr(x))
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, x, atol=1e-5)
    np.testing.assert_allclose(rgb_to_y(x), rgb_to_ycbcr(x)[..., 0], atol=1e-7)


def test_gray_counts_as_equal_rgb(rng):
    g = rng.random((5, 4, 1))
    np.testing.assert_allclose(rgb_to_y(g), rgb_to_y(np.repeat(g, 3, axis=2)), atol=1e-12)
    with pytest.raises(ValueError):
        rgb_to_y(np.zeros((3, 3, 2)))
