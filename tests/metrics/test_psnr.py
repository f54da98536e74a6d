"""PSNR against hand-derived values: inf, 48.1308 dB, offsets, border crop, Y scaling, rounding."""
import math

import numpy as np
import pytest

from minisr.metrics import psnr


def test_identical_images_give_inf(rng):
    a = rng.random((9, 7, 3))
    assert psnr(a, a.copy()) == math.inf
    assert psnr(a, a.copy(), y_channel=True, quantize=True, crop_border=2) == math.inf


def test_mse_one_on_255_scale_is_48_1308_db():
    # Checkerboard of +-1 on the 0..255 scale: every squared error is 1, so MSE = 1 and
    # PSNR = 10 log10(255^2 / 1) = 48.1308 dB.
    a = np.full((8, 10), 128.0)
    b = a + np.where(np.indices(a.shape).sum(0) % 2 == 0, 1.0, -1.0)
    assert psnr(a / 255, b / 255) == pytest.approx(10 * math.log10(255 ** 2), abs=1e-10)
    assert psnr(a, b, data_range=255.0) == pytest.approx(48.1308036086791, abs=1e-10)
    assert psnr(a / 255, b / 255, quantize=True) == pytest.approx(48.1308036086791, abs=1e-12)


@pytest.mark.parametrize("d", [1, 5, 20])
def test_constant_offset(rng, d):
    # MSE = (d/255)^2 on [0, 1] with L = 1: PSNR = 10 log10(1 / (d/255)^2) = 20 log10(255 / d).
    # d = 5 -> 34.1514 dB; d = 20 -> 22.1102 dB.
    a = rng.random((6, 11, 3)) * 0.5
    assert psnr(a, a + d / 255) == pytest.approx(20 * math.log10(255 / d), abs=1e-9)


def test_data_range_is_the_input_scale(rng):
    # The same pair on [0, 1] with L = 1 and on [0, 255] with L = 255 is one measurement.
    a, b = rng.random((7, 9)), rng.random((7, 9))
    assert psnr(a * 255, b * 255, data_range=255.0) == pytest.approx(psnr(a, b), abs=1e-10)
    assert psnr(a * 255, b * 255, data_range=255.0, y_channel=True, quantize=True) == \
        pytest.approx(psnr(a, b, y_channel=True, quantize=True), abs=1e-10)


def test_crop_border_removes_exactly_the_border(rng):
    a = rng.random((12, 15, 3))
    b = a.copy()
    b[:3] += 0.1
    b[:, -3:] -= 0.1  # all error within 3 pixels of the edge
    assert psnr(a, b, crop_border=3) == math.inf
    assert np.isfinite(psnr(a, b, crop_border=2))
    # One error of 0.1 at (3, 3), the first kept pixel: MSE = 0.01 / (6 * 9 * 3) with L = 1.
    c = a.copy()
    c[3, 3, 0] += 0.1
    assert psnr(a, c, crop_border=3) == pytest.approx(10 * math.log10(6 * 9 * 3 / 0.01))


def test_y_channel_on_gray_as_rgb(rng):
    # R = G = B = g gives Y = 16 + 219 g (the coefficients sum to 219), so on 0..255 the
    # Y differences are 219/255 times the gray differences: MSE_Y = (219/255)^2 MSE_gray and
    # PSNR_Y = PSNR_gray - 20 log10(219/255) = PSNR_gray + 1.3216 dB.
    g1, g2 = rng.random((10, 13)), rng.random((10, 13))
    rgb1, rgb2 = np.repeat(g1[:, :, None], 3, axis=2), np.repeat(g2[:, :, None], 3, axis=2)
    expected = psnr(g1, g2) - 20 * math.log10(219 / 255)
    assert psnr(rgb1, rgb2, y_channel=True) == pytest.approx(expected, abs=1e-9)
    # A 1-channel (H, W) or (H, W, 1) image is used as Y directly, as the papers' MATLAB
    # scripts do (rgb2ycbcr only on 3 channels): no 1.32 dB shift.
    assert psnr(g1, g2, y_channel=True) == pytest.approx(psnr(g1, g2), abs=1e-12)
    assert psnr(g1[:, :, None], g2[:, :, None], y_channel=True) == \
        pytest.approx(psnr(g1, g2), abs=1e-12)


def test_quantize_with_y_rounds_y_like_matlab_uint8():
    # MATLAB's rgb2ycbcr on uint8 returns uint8 Y. Pure red (255, 0, 0) has
    # Y = 16 + 65.481 = 81.481 -> 81; black has Y = 16. So the MSE is (81 - 16)^2 / 2 over
    # the two pixels against an all-black image: PSNR = 10 log10(255^2 * 2 / 65^2).
    red = np.array([[[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])
    black = np.zeros_like(red)
    got = psnr(red, black, y_channel=True, quantize=True)
    assert got == pytest.approx(10 * math.log10(255**2 * 2 / 65**2), abs=1e-12)
    unrounded = psnr(red, black, y_channel=True)
    assert unrounded == pytest.approx(10 * math.log10(255**2 * 2 / 65.481**2), abs=1e-12)


def test_quantize_rounds_to_the_8bit_grid():
    # 100.3 and 99.6 both round to 100; 0.6 rounds up to 1, 0.4 down to 0 (floor(x + 0.5)).
    a = np.array([[100.0, 0.0]]) / 255
    b = np.array([[100.3, 0.4]]) / 255
    c = np.array([[99.6, 0.6]]) / 255
    assert psnr(a, b, quantize=True) == math.inf
    assert psnr(a, b) < math.inf
    # a vs c after rounding: errors (0, 1), MSE = 1/2 -> 10 log10(255^2 * 2) = 51.1411 dB.
    assert psnr(a, c, quantize=True) == pytest.approx(10 * math.log10(255 ** 2 * 2), abs=1e-12)
    # Out-of-range output saturates like uint8: 1.2 -> 255, -0.1 -> 0.
    assert psnr(np.array([[1.0, 0.0]]), np.array([[1.2, -0.1]]), quantize=True) == math.inf


def test_float32_and_float64_inputs_agree(rng):
    # The arithmetic is float64 either way; only the inputs' float32 rounding (~3e-8
    # relative) differs. Measured: |diff| 2.7e-8 dB gray, 6.8e-8 dB colour.
    for shape in [(23, 31), (23, 31, 3)]:
        a = rng.random(shape)
        b = np.clip(a + 0.1 * rng.standard_normal(shape), 0, 1)
        a32, b32 = a.astype(np.float32), b.astype(np.float32)
        assert abs(psnr(a, b) - psnr(a32, b32)) < 1e-6
        assert abs(psnr(a, b, y_channel=True) - psnr(a32, b32, y_channel=True)) < 1e-6


def test_bad_arguments_raise_one_line_errors(rng):
    a = rng.random((8, 8, 3))
    with pytest.raises(ValueError, match=r"\(8, 8, 3\) vs \(8, 9, 3\)"):
        psnr(a, rng.random((8, 9, 3)))
    with pytest.raises(ValueError, match="crop_border"):
        psnr(a, a, crop_border=4)
    with pytest.raises(ValueError, match=r"\(8, 8, 4\)"):
        psnr(rng.random((8, 8, 4)), rng.random((8, 8, 4)))


def _u8_pair(rng, shape):
    a = rng.integers(0, 256, shape, dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-9, 10, shape), 0, 255).astype(np.uint8)
    return a, b


@pytest.mark.parametrize("kw", [{}, dict(y_channel=True, quantize=True, crop_border=2)])
def test_uint8_and_uint16_input_equal_the_float_input(rng, kw):
    # u / 255 is what imread returns for 8-bit data; the metric divides uint8 input the
    # same way (a division, not a multiplication by 1/255), so the values agree exactly.
    # 65535 = 255 * 257, so u * 257 as uint16 is the same image on the 16-bit scale.
    a, b = _u8_pair(rng, (12, 14, 3))
    expected = psnr(a / 255, b / 255, **kw)
    assert math.isfinite(expected)
    assert psnr(a, b, **kw) == expected
    assert psnr(a.astype(np.uint16) * 257, b.astype(np.uint16) * 257, **kw) == expected
    # uint8 against the same image given as 0..255 floats with data_range=255.
    assert psnr(a, b.astype(np.float64), data_range=255.0, **kw) == pytest.approx(expected,
                                                                                 abs=1e-9)


def test_mixed_dtypes(rng):
    a, b = _u8_pair(rng, (9, 10))
    assert psnr(a, a / 255) == math.inf  # uint8 vs float in [0, 1]
    assert psnr(a.astype(np.uint16) * 257, a) == math.inf  # uint16 vs uint8
    assert psnr(a, a.astype(np.float64), data_range=255.0) == math.inf
    assert psnr(a, b / 255) == psnr(a / 255, b) == psnr(a / 255, b / 255)


@pytest.mark.parametrize("scale", [255.0, -1.0])
def test_float_input_on_the_wrong_scale_raises(rng, scale):
    # 0..255 floats (or [-1, 1] data) with the default data_range=1 used to give a number
    # 48 dB off; now one line names the range and the fix.
    a, b = _u8_pair(rng, (8, 8, 3))
    x, y = a / 255 * scale, b / 255 * scale
    with pytest.raises(ValueError, match=r"^psnr: the first image has values in .* data_range"):
        psnr(x, y)
    with pytest.raises(ValueError, match="data_range"):
        psnr(a / 255, y)
    if scale > 0:  # the same floats are fine once data_range says so
        assert psnr(x, y, data_range=255.0) == pytest.approx(psnr(a, b), abs=1e-9)


def test_small_overshoot_is_accepted_and_nan_refused():
    # Unclipped outputs (bicubic ringing) overshoot [0, 1] a little; that is measured as
    # given (and saturated by quantize, see test_quantize_rounds_to_the_8bit_grid).
    a = np.array([[1.0, 0.0]])
    assert psnr(a, np.array([[1.05, -0.05]])) == pytest.approx(20 * math.log10(1 / 0.05))
    with pytest.raises(ValueError, match="NaN or inf"):
        psnr(a, np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="bool"):
        psnr(a > 0, a > 0)
