"""degrade(): the defaults give the papers' bicubic LR; blur, noise and JPEG are measurable."""
import numpy as np
import pytest

from minisr.image.degrade import degrade, gaussian_blur
from minisr.image.resize import resize


@pytest.fixture
def hr(rng):
    smooth = resize(rng.random((12, 10, 3)), 4)  # 48 x 40, values near [0, 1]
    return np.clip(smooth, 0, 1).astype(np.float32)


def test_default_is_clipped_bicubic(hr):
    lr = degrade(hr, 4)
    assert lr.shape == (12, 10, 3) and lr.dtype == np.float32
    np.testing.assert_array_equal(lr, np.clip(resize(hr, 0.25), 0, 1))


def test_blur_preserves_constants_and_mean_and_lowers_variance(hr, rng):
    np.testing.assert_allclose(gaussian_blur(np.full((9, 7, 1), 0.4), 2.0), 0.4, atol=1e-15)
    x = rng.random((64, 64, 1))
    y = gaussian_blur(x, 1.5)
    # white noise through a normalised Gaussian: var ratio = sum g^2 per axis ~ 1/(4 pi s^2)
    assert y.std() / x.std() < 0.25 and abs(y.mean() - x.mean()) < 0.01
    assert not np.allclose(degrade(hr, 2, blur_sigma=1.0), degrade(hr, 2))


def test_noise_is_seeded_and_has_the_requested_std():
    flat = np.full((400, 400, 1), 0.5)
    a = degrade(flat, 2, noise_sigma=0.05, seed=3)
    np.testing.assert_array_equal(a, degrade(flat, 2, noise_sigma=0.05, seed=3))
    assert not np.array_equal(a, degrade(flat, 2, noise_sigma=0.05, seed=4))
    assert abs((a - 0.5).std() - 0.05) < 0.002  # 40,000 samples: std error ~ 0.0002


def test_jpeg_changes_the_image_but_keeps_shape(hr):
    plain = degrade(hr, 2)
    for q in (10, 90):
        lr = degrade(hr, 2, jpeg_quality=q)
        assert lr.shape == plain.shape and lr.dtype == plain.dtype
        assert np.abs(lr - plain).max() > 1 / 255
    assert np.abs(degrade(hr, 2, jpeg_quality=10) - plain).mean() > \
        np.abs(degrade(hr, 2, jpeg_quality=90) - plain).mean()
    gray = degrade(hr[:, :, :1], 2, jpeg_quality=50)
    assert gray.shape == (24, 20, 1)


def test_rejects_bad_arguments(hr):
    for kwargs in [dict(scale=0), dict(scale=2, noise_sigma=-1), dict(scale=2, jpeg_quality=0)]:
        with pytest.raises(ValueError):
            degrade(hr, **kwargs)
