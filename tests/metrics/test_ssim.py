"""SSIM and its Gaussian filter: window values, ref vs fast, closed forms, properties, Set5."""
import math

import numpy as np
import pytest

from minisr.kernels.filter import (gaussian_filter_valid_cpu, gaussian_filter_valid_ref,
                                   gaussian_window)
from minisr.metrics import psnr, ssim
from minisr.metrics.ssim import ssim_map_cpu, ssim_map_ref


def _pair(rng, shape, sigma=0.1):
    a = rng.random(shape)
    return a, np.clip(a + sigma * rng.standard_normal(shape), 0.0, 1.0)


def test_gaussian_window_values():
    # fspecial('gaussian', 11, 1.5): w[i, j] = exp(-(i^2 + j^2) / 4.5) / S over i, j in -5..5,
    # S = sum of the numerators (~ 2 pi 1.5^2 = 14.137). Centre 1/S = 0.070762, edge
    # midpoint exp(-25/4.5)/S = 2.7356e-4, corner exp(-50/4.5)/S = 1.0576e-6.
    k = np.arange(-5, 6)
    e = np.exp(-(k[:, None] ** 2 + k[None, :] ** 2) / 4.5)
    S = e.sum()
    g = gaussian_window(11, 1.5)
    w = np.outer(g, g)
    assert g.shape == (11,) and g.sum() == pytest.approx(1.0, abs=1e-15)
    assert w.sum() == pytest.approx(1.0, abs=1e-15)
    assert w[5, 5] == pytest.approx(1 / S, rel=1e-14) and 1 / S == pytest.approx(0.070762, abs=1e-6)
    assert w[0, 5] == pytest.approx(math.exp(-25 / 4.5) / S, rel=1e-14)
    assert w[0, 0] == pytest.approx(math.exp(-50 / 4.5) / S, rel=1e-14)
    np.testing.assert_allclose(w, e / S, rtol=1e-14)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-13), (np.float32, 1e-5)])
def test_gaussian_filter_cpu_matches_ref(rng, dtype, rtol):
    # Separable vs 2-D sums differ only in rounding order. Measured on 23x31 random [0, 1]:
    # max |diff| 3.3e-16 in float64, 1.2e-7 in float32.
    x = rng.random((23, 31)).astype(dtype)
    g = gaussian_window()
    y_ref, y_cpu = gaussian_filter_valid_ref(x, g), gaussian_filter_valid_cpu(x, g)
    assert y_cpu.shape == y_ref.shape == (13, 21)  # (H - 10, W - 10): 'valid' positions only
    assert y_cpu.dtype == dtype
    np.testing.assert_allclose(y_cpu, y_ref, rtol=rtol, atol=rtol)
    # A constant image filters to itself (the window sums to 1).
    np.testing.assert_allclose(gaussian_filter_valid_cpu(np.full((11, 12), 0.25), g),
                               np.full((1, 2), 0.25), rtol=1e-15)


def test_ssim_map_cpu_matches_ref_on_odd_nonsquare(rng):
    # Measured on 23x31 [0, 1] noise pairs: |ref - cpu| = 2.2e-16 gray, 0 colour (mean SSIM);
    # 2.6e-15 max over the map on the 0..255 scale, where E[x^2] - mu^2 cancels most digits.
    for shape in [(23, 31), (23, 31, 3)]:
        a, b = _pair(rng, shape)
        for kw in [{}, {"y_channel": True, "quantize": True}]:
            assert abs(ssim(a, b, impl="ref", **kw) - ssim(a, b, impl="cpu", **kw)) < 1e-12
    a, b = _pair(rng, (23, 31))
    m_ref, m_cpu = ssim_map_ref(a * 255, b * 255, 255.0), ssim_map_cpu(a * 255, b * 255, 255.0)
    assert m_cpu.shape == (13, 21)
    np.testing.assert_allclose(m_cpu, m_ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("impl", ["ref", "cpu"])
def test_identical_images_give_exactly_one_and_ssim_is_symmetric(rng, impl):
    # x == y makes numerator and denominator bit-identical (see ssim_term): exactly 1.0.
    a, b = _pair(rng, (13, 17, 3))
    assert ssim(a, a.copy(), impl=impl) == 1.0
    assert ssim(a, a.copy(), impl=impl, y_channel=True, quantize=True) == 1.0
    assert ssim(a, b, impl=impl) == ssim(b, a, impl=impl)  # bit-symmetric, too
    assert ssim(a, b, impl=impl) < 1.0


def test_ssim_falls_monotonically_with_noise(rng):
    # y = x + sigma * n with one seeded n: measured 1.0, 0.977, 0.914, 0.647, 0.332, 0.118.
    i, j = np.mgrid[0:40, 0:48]
    x = 0.5 + 0.25 * np.sin(i / 5.0) * np.cos(j / 7.0)
    n = rng.standard_normal(x.shape)
    values = [ssim(x, x + s * n) for s in [0.0, 0.01, 0.02, 0.05, 0.1, 0.2]]
    assert values[0] == 1.0
    assert all(v1 > v2 for v1, v2 in zip(values, values[1:]))


@pytest.mark.parametrize("impl, rtol", [("ref", 1e-14), ("cpu", 1e-12)])
def test_constant_images_match_closed_form(impl, rtol):
    # Constant images have var_x = var_y = cov_xy = 0, so the structure factor is C2/C2 = 1
    # and SSIM = (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1). For 0.3 vs 0.7 with L = 1,
    # C1 = 1e-4: (0.42 + 1e-4) / (0.58 + 1e-4) = 0.72418548526. The cpu path computes the
    # variances as E[x^2] - mu^2 (~1e-16 rounding against C2 = 9e-4): measured rel. 3.5e-13.
    mx, my, c1 = 0.3, 0.7, 0.01 ** 2
    expected = (2 * mx * my + c1) / (mx ** 2 + my ** 2 + c1)
    a, b = np.full((15, 17), mx), np.full((15, 17), my)
    assert ssim(a, b, impl=impl) == pytest.approx(expected, rel=rtol)
    # Same images on the 0..255 scale with L = 255: C1 scales by 255^2, so SSIM is unchanged.
    assert ssim(a * 255, b * 255, data_range=255.0, impl=impl) == pytest.approx(expected, rel=rtol)


def test_float32_and_float64_inputs_agree(rng):
    # Inputs are widened to float64; only their float32 rounding differs.
    # Measured: |diff| 3.5e-10 gray, 5.3e-10 colour.
    for shape in [(23, 31), (23, 31, 3)]:
        a, b = _pair(rng, shape)
        a32, b32 = a.astype(np.float32), b.astype(np.float32)
        assert abs(ssim(a, b) - ssim(a32, b32)) < 1e-6
        assert abs(ssim(a, b, y_channel=True) - ssim(a32, b32, y_channel=True)) < 1e-6


def test_crop_and_bad_arguments(rng):
    a, b = _pair(rng, (20, 24, 3))
    # Cropping 3 pixels is the same as measuring the cropped images.
    assert ssim(a, b, crop_border=3) == ssim(a[3:-3, 3:-3], b[3:-3, 3:-3])
    with pytest.raises(ValueError, match="11x11"):
        ssim(a, b, crop_border=5)  # 10x14 left
    with pytest.raises(ValueError, match=r"\(20, 24, 3\) vs \(20, 24\)"):
        ssim(a, b[:, :, 0])
    with pytest.raises(ValueError, match="impl"):
        ssim(a, b, impl="cuda")


def test_set5_noisy_copy_matches_its_derivation(datasets):
    # Gaussian noise sigma = 2/255 per RGB channel, measured under the papers' protocol.
    # hr is already on the 8-bit grid, so each channel's error after rounding is round(2 n):
    # variance 4 + 1/12 = 4.083 (Sheppard's correction). Y weighs the channels by
    # (65.481, 128.553, 24.966) / 255, so that part of the Y error has variance
    # (65.481^2 + 128.553^2 + 24.966^2) / 255^2 * 4.083 = 0.3297 * 4.083 = 1.346. Rounding
    # Y of both images adds two nearly independent uniform errors, 2/12 = 0.167. MSE_Y =
    # 1.513 and PSNR_Y = 10 log10(255^2 / 1.513) = 46.33 dB. Over 280^2 pixels the sample
    # MSE has a relative spread of sqrt(2 / 78400) = 0.5% (0.02 dB), and clipping at 0
    # (1.2% of bird's values) removes some noise: measured 46.391 dB, SSIM 0.98911.
    iio = pytest.importorskip("imageio.v3")
    hr = iio.imread(datasets / "Set5" / "bird.png").astype(np.float64) / 255
    rng = np.random.default_rng(0)
    sr = np.clip(hr + 2 / 255 * rng.standard_normal(hr.shape), 0, 1)
    kw = {"crop_border": 4, "y_channel": True, "quantize": True}
    assert psnr(sr, hr, **kw) == pytest.approx(46.33, abs=0.1)
    # SSIM has no closed form here (it depends on each window's variance); the fast path
    # must give the reference's number on the whole image (measured |diff| 8e-16).
    assert ssim(sr, hr, **kw) == pytest.approx(ssim(sr, hr, impl="ref", **kw), abs=1e-12)
    # ref == cpu on a 40x40 RGB patch as well (measured |diff| 1.8e-15).
    p = (slice(100, 140), slice(120, 160))
    assert abs(ssim(sr[p], hr[p], impl="ref") - ssim(sr[p], hr[p])) < 1e-12


def test_ssim_uint8_input_and_wrong_scale(rng):
    # Same preprocessing as psnr (tests/metrics/test_psnr.py): uint8 u equals float u / 255,
    # and 0..255 floats with the default data_range raise instead of giving a wrong SSIM.
    a = rng.integers(0, 256, (16, 17, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-20, 21, a.shape), 0, 255).astype(np.uint8)
    for kw in ({}, dict(y_channel=True, quantize=True, crop_border=2)):
        assert ssim(a, b, **kw) == ssim(a / 255, b / 255, **kw) == ssim(a, b / 255, **kw)
    assert ssim(a, a / 255) == 1.0
    with pytest.raises(ValueError, match="ssim: .* data_range"):
        ssim(a.astype(np.float64), b.astype(np.float64))
