"""MATLAB imresize semantics from first principles, ref vs fast, and the Set5/Set14 acid test."""
import math

import numpy as np
import pytest

from minisr.image.color import rgb_to_y
from minisr.image.io import imread
from minisr.image.resize import imresize_to_lr, modcrop, output_size, resize
from minisr.kernels._shared import cubic_weight
from minisr.kernels.resize import KERNELS, resize_weights, symmetric_index

METHODS = ("bicubic", "bilinear", "nearest")
# (scale, both dim orders: sh < sw resizes H first, sh > sw resizes W first)
SCALES = (0.5, 1 / 3, (0.3, 0.7), (0.7, 0.3), 2, 3, (2.5, 1.5), (1.5, 0.4), 1)


def test_cubic_kernel_known_values():
    # MATLAB cubic: 1.5|x|^3 - 2.5|x|^2 + 1 on [0, 1]; -0.5|x|^3 + 2.5|x|^2 - 4|x| + 2 on (1, 2]
    # x = 0.25: 0.0234375 - 0.15625 + 1 = 0.8671875;  x = 0.75: 0.6328125 - 1.40625 + 1
    # x = 1.25: -0.9765625 + 3.90625 - 5 + 2 = -0.0703125;  x = 1.75: -2.6796875 + 7.65625 - 5
    for x, w in [(0, 1), (1, 0), (2, 0), (2.5, 0), (0.5, 0.5625), (1.5, -0.0625),
                 (0.25, 0.8671875), (0.75, 0.2265625), (1.25, -0.0703125), (-1.75, -0.0234375)]:
        assert cubic_weight(x) == w


def test_weights_x2_down_antialiased_derived_by_hand():
    # Provenance: derived by hand from MATLAB's contributions() formula (not run in MATLAB).
    # scale 0.5: h(t) = 0.5 cubic(0.5 t), width 8, P = 10. Output x = 1: u = 1/0.5 + 0.5(1 - 2)
    # = 1.5, left = floor(1.5 - 4) = -3, offsets u - j = 4.5 .. -4.5; the +-4.5 columns are
    # zero in every row and are dropped. Weights 0.5 cubic(+-1.75, +-1.25, +-0.75, +-0.25) sum
    # to 1. 1-based j = -2..5 mirror to 3 2 1 1 2 3 4 5, i.e. 0-based 2 1 0 0 1 2 3 4.
    w, idx = resize_weights(8, 4, 0.5, *KERNELS["bicubic"], antialias=True)
    expected = [-0.01171875, -0.03515625, 0.11328125, 0.43359375]
    assert w.shape == (4, 8)
    np.testing.assert_array_equal(w[0], expected + expected[::-1])
    np.testing.assert_array_equal(idx[0], [2, 1, 0, 0, 1, 2, 3, 4])
    np.testing.assert_array_equal(idx[3], [3, 4, 5, 6, 7, 7, 6, 5])


def test_weights_x2_up_derived_by_hand():
    # scale 2: u = x/2 + 0.25; x = 1: u = 0.75, left = floor(0.75 - 2) = -2, offsets 2.75 ..
    # -2.25; the outer two are zero for every x and are dropped: cubic(1.75, 0.75, -0.25, -1.25)
    # on 1-based j = -1, 0, 1, 2 -> mirrored 0-based 1, 0, 0, 1.
    w, idx = resize_weights(8, 16, 2.0, *KERNELS["bicubic"], antialias=True)
    np.testing.assert_array_equal(w[0], [-0.0234375, 0.2265625, 0.8671875, -0.0703125])
    np.testing.assert_array_equal(idx[0], [1, 0, 0, 1])
    np.testing.assert_array_equal(w[1], w[0][::-1])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("n_in,n_out,scale", [(10, 4, 1 / 3), (7, 4, 0.5), (9, 31, 31 / 9),
                                              (5, 15, 3.0), (12, 5, 0.4)])
def test_weights_rows_sum_to_one_and_indices_in_range(method, antialias, n_in, n_out, scale):
    w, idx = resize_weights(n_in, n_out, scale, *KERNELS[method], antialias)
    assert w.shape == idx.shape and w.shape[0] == n_out
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    assert idx.min() >= 0 and idx.max() < n_in


def test_symmetric_index_repeats_the_edge():
    # k = -4 .. 7 on n = 3: (2 2 1 0) | 0 1 2 | (2 1 0 0 1): period 2n, edge pixels doubled
    assert [symmetric_index(k, 3) for k in range(-4, 8)] == [2, 2, 1, 0, 0, 1, 2, 2, 1, 0, 0, 1]


def test_output_size_follows_ceil():
    assert output_size((7, 5), 0.5)[0] == (4, 3)
    assert output_size((10, 10), 1 / 3)[0] == (4, 4)
    assert output_size((10, 9), (2, 1 / 3))[0] == (20, 3)
    assert output_size((10, 8), size=(5, 12)) == ((5, 12), (0.5, 1.5))
    assert resize(np.zeros((7, 5, 2)), 0.5).shape == (4, 3, 2)
    assert resize(np.zeros((10, 10)), 1 / 3).shape == (4, 4)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("scale", [0.5, 1 / 3, (0.4, 2.5), 3])
def test_constant_image_stays_constant(method, scale):
    y = resize(np.full((11, 8, 3), 0.3), scale, method=method)
    np.testing.assert_allclose(y, 0.3, rtol=0, atol=1e-15)


def test_bilinear_upscale_keeps_a_ramp_linear_in_the_interior():
    x = np.tile(0.1 * np.arange(10.0), (6, 1))  # x[i, j] = 0.1 j
    y = resize(x, 3, method="bilinear")
    # output column c (0-based) samples input u = (c + 1)/3 + 0.5(1 - 1/3) (1-based), i.e.
    # 0-based position (c + 1)/3 + 1/3 - 1 = (c - 1)/3; the ramp there is 0.1 (c - 1) / 3.
    c = np.arange(3, 27)  # away from the mirrored borders
    np.testing.assert_allclose(y[:, c], np.tile(0.1 * (c - 1) / 3, (18, 1)), rtol=0, atol=1e-14)


@pytest.mark.parametrize("s", [2, 3, 4])
def test_nearest_integer_upscale_is_pixel_replication(rng, s):
    x = rng.random((5, 7, 3))
    expected = np.repeat(np.repeat(x, s, axis=0), s, axis=1)
    np.testing.assert_array_equal(resize(x, s, method="nearest"), expected)


def test_checkerboard_x2_antialiased_is_half_gray():
    cb = (np.add.outer(np.arange(32), np.arange(36)) % 2).astype(np.float64)
    dev = np.abs(resize(cb, 0.5) - 0.5)
    # Interior: the even taps of the x2 kernel (see the hand-derived weights) sum to exactly
    # 0.5. Measured max deviation: 0 inside, 0.0374 on the border row/column, where the
    # mirrored indices (2 1 0 0 ...) break the alternation.
    assert dev[2:-2, 2:-2].max() < 1e-15
    assert dev.max() < 0.04
    # Without antialiasing x2 samples at half-pixel positions, where plain cubic also gives
    # 0.5 (cubic(0.5) - cubic(1.5) = 0.5): x2 cannot show the difference; x3 can, below.
    assert np.abs(resize(cb, 0.5, antialias=False) - 0.5)[2:-2, 2:-2].max() < 1e-15


def test_checkerboard_x3_aliases_without_antialiasing():
    cb = (np.add.outer(np.arange(33), np.arange(36)) % 2).astype(np.float64)
    aa = np.abs(resize(cb, 1 / 3) - 0.5)
    assert aa[2:-2, 2:-2].max() < 1e-4 and aa.max() < 0.031  # measured 7.6e-5 and 0.0309
    # Without: u = 3x - 1 lands on pixel centres, so the output is the checkerboard
    # subsampled by 3, still a full-contrast 0/1 checkerboard (pure aliasing).
    no_aa = resize(cb, 1 / 3, antialias=False)
    np.testing.assert_allclose(no_aa, cb[1::3, 1::3], rtol=0, atol=1e-15)
    assert np.abs(no_aa - 0.5).min() == 0.5


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("scale", SCALES)
def test_ref_and_fast_agree_float64(rng, method, scale):
    x = rng.random((23, 17, 3))
    for antialias in (True, False):
        fast = resize(x, scale, method=method, antialias=antialias)
        ref = resize(x, scale, method=method, antialias=antialias, impl="ref")
        assert fast.dtype == np.float64 and fast.shape == ref.shape
        np.testing.assert_allclose(fast, ref, rtol=0, atol=1e-12)  # measured: identical


@pytest.mark.parametrize("method", METHODS)
def test_float32_matches_float64(rng, method):
    x = rng.random((31, 26, 3))
    for scale in (0.5, 1 / 3, 2, (3, 0.25)):
        y64 = resize(x, scale, method=method)
        y32 = resize(x.astype(np.float32), scale, method=method)
        assert y32.dtype == np.float32
        # measured max |diff| 1.8e-7 (float32 rounding of the inputs, weights and sums)
        np.testing.assert_allclose(y32, y64, rtol=0, atol=1e-6)


def test_gray_2d_and_hwc1_agree(rng):
    x = rng.random((9, 13))
    np.testing.assert_array_equal(resize(x, 0.5)[:, :, None], resize(x[:, :, None], 0.5))


def test_rejects_bad_input():
    for kwargs in [dict(), dict(scale=2, size=(3, 3)), dict(scale=0), dict(scale=-1),
                   dict(size=(0, 3)), dict(size=(2.5, 3)), dict(scale=2, method="lanczos3"),
                   dict(scale=2, impl="cuda"), dict(scale=(1, 2, 3))]:
        with pytest.raises(ValueError):
            resize(np.zeros((4, 4)), **kwargs)
    with pytest.raises(ValueError, match="float32/float64"):
        resize(np.zeros((4, 4), dtype=np.uint8), 2)


def test_modcrop():
    x = np.arange(7 * 10).reshape(7, 10)
    assert modcrop(x, 3).shape == (6, 9) and modcrop(x, 4).shape == (4, 8)
    np.testing.assert_array_equal(modcrop(x, 3), x[:6, :9])
    with pytest.raises(ValueError):
        modcrop(x, 0)


def _psnr_y(hr_y8: np.ndarray, sr_y8: np.ndarray, crop: int) -> float:
    d = (hr_y8 - sr_y8)[crop:-crop, crop:-crop]
    return 10 * math.log10(255.0 ** 2 / np.mean(d ** 2))


def _round8(x: np.ndarray) -> np.ndarray:
    return np.floor(np.clip(x, 0, 1) * 255 + 0.5)


def _bicubic_psnr(paths, s: int, protocol: str) -> float:
    """Mean PSNR of bicubic x s on Y, crop s. 'rgb': the library protocol (REFERENCE.md:
    LR and output rounded to 8-bit RGB, Y rounded). 'srcnn': SRCNN's MATLAB demo (Y of the
    uint8 image first, resized in float without rounding the LR; a 1-channel image is used as
    is, not mapped to 16 + 219 g, because rgb2ycbcr is skipped for it)."""
    values = []
    for path in paths:
        hr = modcrop(imread(path).astype(np.float64), s)
        if protocol == "rgb":
            lr = _round8(imresize_to_lr(hr, s)) / 255
            sr = _round8(resize(lr, s)) / 255
            values.append(_psnr_y(_round8(rgb_to_y(hr)), _round8(rgb_to_y(sr)), s))
        else:
            y8 = _round8(hr[:, :, 0] if hr.shape[2] == 1 else rgb_to_y(hr))
            sr = _round8(resize(imresize_to_lr(y8 / 255, s), s))
            values.append(_psnr_y(y8, sr, s))
    return float(np.mean(values))


# Papers' bicubic table (REFERENCE.md). Measured here:
#   Set5  rgb   33.649 / 30.386 / 28.419   srcnn 33.661 / 30.392 / 28.421
#   Set14 srcnn 30.232 / 27.541 / 26.000   (with bridge as 16+219g: 30.326 / 27.635 / 26.094)
PAPER = {"Set5": {2: 33.66, 3: 30.39, 4: 28.42}, "Set14": {2: 30.24, 3: 27.55, 4: 26.00}}


@pytest.mark.parametrize("s", [2, 3, 4])
def test_bicubic_set5_reproduces_papers_table(datasets, s):
    paths = sorted((datasets / "Set5").glob("*.png"))
    assert len(paths) == 5
    assert abs(_bicubic_psnr(paths, s, "srcnn") - PAPER["Set5"][s]) < 0.005
    assert abs(_bicubic_psnr(paths, s, "rgb") - PAPER["Set5"][s]) < 0.02


@pytest.mark.parametrize("s", [2, 3, 4])
def test_bicubic_set14_reproduces_papers_table(datasets, s):
    paths = sorted((datasets / "Set14").glob("*.png"))
    assert len(paths) == 14
    assert abs(_bicubic_psnr(paths, s, "srcnn") - PAPER["Set14"][s]) < 0.01


def test_a_runaway_downscale_is_refused_before_building_its_weights():
    from minisr.image.resize import MAX_WEIGHTS
    img = np.zeros((40, 40), np.float32)
    # scale 1e-9: 1 output pixel, an antialiasing kernel 4e9 taps wide (it once asked NumPy
    # for a 29.8 GiB table)
    with pytest.raises(ValueError, match=r"resize: scale 1e-09 needs a 1 x 4,000,000,002 "
                                         r"weight table, above the limit of 50,000,000"):
        resize(img, 1e-9)
    assert MAX_WEIGHTS == 50_000_000
    # the largest legitimate cases stay well inside: 1/1000 of a 40-pixel axis is 4,002 taps
    assert resize(img, 1e-3).shape == (1, 1)
    assert resize(img, 1e-9, antialias=False).shape == (1, 1)   # no widening: 6 taps


@pytest.mark.parametrize("n_in, n_out, scale", [(5, 15, 3.0), (1, 4, 4.0), (9, 4, 0.5)])
def test_adjoint_weights_are_the_transpose(n_in, n_out, scale):
    from minisr.kernels.resize import adjoint_weights
    w, idx = resize_weights(n_in, n_out, scale, *KERNELS["bicubic"], antialias=True)
    A = np.zeros((n_out, n_in))
    np.add.at(A, (np.repeat(np.arange(n_out), w.shape[1]), idx.ravel()), w.ravel())
    wT, iT = adjoint_weights(w, idx, n_in)
    AT = np.zeros((n_in, n_out))
    np.add.at(AT, (np.repeat(np.arange(n_in), wT.shape[1]), iT.ravel()), wT.ravel())
    np.testing.assert_allclose(AT, A.T, rtol=0, atol=1e-15)
    assert wT.shape[0] == n_in and (wT != 0).sum() == (A != 0).sum()
