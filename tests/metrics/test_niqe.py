"""NIQE: MSCN, the GGD/AGGD moment fits, patch features (ref vs Numba), the pristine model,
the MATLAB release's published value, fit_niqe_model, and the errors."""
import math

import numpy as np
import pytest

from minisr.image.io import imread
from minisr.image.resize import imresize_to_lr, modcrop, resize
from minisr.metrics import NiqeModel, fit_niqe_model, niqe, pristine_model
from minisr.metrics.niqe import niqe_features
from minisr.metrics.nss import (ALPHA_GRID, aggd_fit, ggd_fit, mscn, patch_features_cpu,
                                patch_features_ref)
from tests.conftest import require_datasets

# BasicSR (basicsr/metrics/niqe.py, 1.4.2) reports this for the MATLAB release, R2021a,
# computequality(Y, 96, 96, 0, 0, mu_prisparam, cov_prisparam) on Set14's baboon.png with
# Y = rgb2ycbcr's Y as uint8.
MATLAB_BABOON = 5.72957338


def _ggd_samples(rng, alpha, beta, n):
    """|x| = beta G^(1/alpha), G ~ Gamma(1/alpha, 1), random sign: a GGD of shape alpha."""
    return rng.choice([-1.0, 1.0], n) * beta * rng.gamma(1.0 / alpha, 1.0, n) ** (1 / alpha)


def _aggd_samples(rng, alpha, bl, br, n):
    """Negative with probability bl / (bl + br), magnitudes bl G^(1/a) or br G^(1/a)."""
    neg = rng.random(n) < bl / (bl + br)
    g = rng.gamma(1.0 / alpha, 1.0, n) ** (1 / alpha)
    return np.where(neg, -bl * g, br * g)


@pytest.mark.parametrize("alpha", [0.6, 1.0, 2.0, 3.5])
def test_ggd_fit_recovers_the_shape(rng, alpha):
    # 400k samples: the moment estimate of alpha lands within 3% (measured 0-0.4%).
    x = _ggd_samples(rng, alpha, 0.7, 400_000)
    a, sigma = ggd_fit(x)
    assert a == pytest.approx(alpha, rel=0.03)
    beta = 0.7
    assert sigma == pytest.approx(beta * math.sqrt(math.gamma(3 / alpha) / math.gamma(1 / alpha)),
                                  rel=0.01)


@pytest.mark.parametrize("alpha, bl, br", [(0.8, 0.3, 0.5), (2.0, 1.0, 1.0), (1.5, 0.2, 0.1)])
def test_aggd_fit_recovers_shape_and_scales(rng, alpha, bl, br):
    a, l, r = aggd_fit(_aggd_samples(rng, alpha, bl, br, 400_000))
    assert a == pytest.approx(alpha, rel=0.04)
    assert (l, r) == pytest.approx((bl, br), rel=0.02)


def test_aggd_fit_equals_the_full_grid_search(rng):
    # The release's search, written out: argmin over all 9801 grid values of
    # (G(2/a)^2 / (G(1/a) G(3/a)) - R)^2; the fit's two-neighbour shortcut must agree.
    r_gam = np.array([math.gamma(2 / a) ** 2 / (math.gamma(1 / a) * math.gamma(3 / a))
                      for a in ALPHA_GRID])
    for _ in range(50):
        x = _aggd_samples(rng, rng.uniform(0.3, 6), rng.uniform(0.1, 2), rng.uniform(0.1, 2),
                          int(rng.integers(20, 3000)))
        ls, rs = math.sqrt(np.mean(x[x < 0] ** 2)), math.sqrt(np.mean(x[x > 0] ** 2))
        g = ls / rs
        rhat = np.mean(np.abs(x)) ** 2 / np.mean(x ** 2)
        rn = rhat * (g ** 3 + 1) * (g + 1) / (g ** 2 + 1) ** 2
        alpha = ALPHA_GRID[np.argmin((r_gam - rn) ** 2)]
        scale = math.sqrt(math.gamma(1 / alpha) / math.gamma(3 / alpha))
        assert aggd_fit(x) == pytest.approx((alpha, ls * scale, rs * scale), rel=1e-12)


def test_mscn_matches_the_2d_definition(rng):
    # imfilter(y, w, 'replicate') with the 7x7 window fspecial('gaussian', 7, 7/6), summed
    # directly in 2-D; the separable version agrees to rounding (measured ~1e-13).
    y = rng.random((40, 53)) * 255
    k = np.arange(-3, 4)
    w = np.exp(-(k[:, None] ** 2 + k[None, :] ** 2) / (2 * (7 / 6) ** 2))
    w /= w.sum()

    def filt(a):
        ap = np.pad(a, 3, mode="edge")
        return sum(w[i, j] * ap[i:i + a.shape[0], j:j + a.shape[1]]
                   for i in range(7) for j in range(7))
    mu = filt(y)
    sigma = np.sqrt(np.abs(filt(y * y) - mu * mu))
    m, s = mscn(y)
    np.testing.assert_allclose(s, sigma, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(m, (y - mu) / (sigma + 1), rtol=1e-10, atol=1e-12)


def test_patch_features_cpu_matches_ref(rng):
    m, _ = mscn(rng.random((96, 144)) * 255)
    a, b = patch_features_ref(m, 48), patch_features_cpu(m, 48)
    assert a.shape == (6, 18)
    np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def test_patch_features_wrap_inside_each_patch(rng):
    # The products use circshift inside the block: the features of one patch do not depend
    # on its neighbours, so a patch cut out alone gives the same 18 numbers.
    m, _ = mscn(rng.random((64, 64)) * 255)
    whole = patch_features_ref(m, 32)
    alone = patch_features_ref(np.ascontiguousarray(m[32:, :32]), 32)
    np.testing.assert_array_equal(whole[2], alone[0])


def test_pristine_model_is_the_release_data():
    model = pristine_model()
    assert model.patch_size == 96 and model.mean.shape == (36,)
    assert not model.mean.flags.writeable and not model.cov.flags.writeable
    np.testing.assert_array_equal(model.cov, model.cov.T)
    assert np.linalg.eigvalsh(model.cov).min() > 0
    # First MSCN shape parameters of modelparameters.mat's mu_prisparam (scale 1, scale 2).
    assert model.mean[0] == pytest.approx(2.601314, abs=1e-6)
    assert model.mean[18] == pytest.approx(2.969494, abs=1e-6)


def test_baboon_matches_the_matlab_release():
    # Measured: 5.72957388 (cpu and ref), 5.0e-7 from MATLAB's 5.72957338.
    d = require_datasets("Set14")
    img = imread(d / "Set14" / "baboon.png")
    assert niqe(img) == pytest.approx(MATLAB_BABOON, abs=1e-5)
    assert niqe(img, impl="ref") == pytest.approx(niqe(img), rel=1e-12)
    # uint8 input is the same image.
    assert niqe((img * 255).round().astype(np.uint8)) == pytest.approx(niqe(img), rel=1e-12)


def test_sharp_photographs_beat_their_bicubic_x4_and_noisy_copies(rng):
    # NIQE should rank the HR images of Set14 above their bicubic x4 reconstructions and
    # above a noisy copy. Measured means over Set14's 14 images: HR 4.95, bicubic 7.72,
    # noisy (sigma 0.08) 10.10; bicubic is worse on all 14, by 0.54 at least.
    d = require_datasets("Set14")
    hr_q, bic_q, noisy_q = [], [], []
    for path in sorted((d / "Set14").glob("*.png")):
        hr = modcrop(imread(path, alpha="drop").astype(np.float64), 4)
        bic = resize(np.clip(imresize_to_lr(hr, 4), 0, 1), 4.0)
        noisy = np.clip(hr + 0.08 * rng.standard_normal(hr.shape), 0, 1)
        hr_q.append(niqe(hr, crop_border=4))
        bic_q.append(niqe(np.clip(bic, 0, 1), crop_border=4))
        noisy_q.append(niqe(noisy, crop_border=4))
    assert np.mean(hr_q) + 2.0 < np.mean(bic_q)
    assert sum(h < b for h, b in zip(hr_q, bic_q)) == 14
    assert np.mean(hr_q) + 2.0 < np.mean(noisy_q)


def test_fit_niqe_model_on_a_folder_and_arrays(tmp_path):
    # A model fitted on T91's sharp patches (96-pixel patches, threshold 0.75, as the
    # release) ranks Set14's HR above its bicubic x4, like the pristine model.
    d = require_datasets("T91", "Set14")
    model = fit_niqe_model(d / "T91")
    assert isinstance(model, NiqeModel) and model.patch_size == 96
    assert np.linalg.eigvalsh(model.cov).min() > -1e-12
    hr = modcrop(imread(d / "Set14" / "lenna.png", alpha="drop").astype(np.float64), 4)
    bic = np.clip(resize(np.clip(imresize_to_lr(hr, 4), 0, 1), 4.0), 0, 1)
    assert niqe(hr, model=model) + 1.0 < niqe(bic, model=model)
    # The same images as arrays give the same model.
    arrays = [imread(p, alpha="drop") for p in sorted((d / "T91").iterdir())
              if p.suffix.lower() == ".png"]
    again = fit_niqe_model(arrays)
    np.testing.assert_allclose(again.mean, model.mean, rtol=1e-12)
    np.testing.assert_allclose(again.cov, model.cov, rtol=1e-10, atol=1e-14)
    # Smaller patches: the model remembers its patch size and niqe uses it.
    small = fit_niqe_model(arrays[:10], patch_size=32)
    assert small.patch_size == 32 and np.isfinite(niqe(hr[:64, :64], model=small))


def test_niqe_features_layout(rng):
    y = rng.random((200, 300)) * 255
    f, sharp = niqe_features(y)
    assert f.shape == (2 * 3, 36) and sharp.shape == (6,)
    m1, s1 = mscn(y[:192, :288])
    np.testing.assert_allclose(f[:, :18], patch_features_cpu(m1, 96), rtol=1e-12)
    np.testing.assert_allclose(sharp[4], s1[96:, 96:192].mean(), rtol=1e-12)


def test_errors(rng, tmp_path):
    img = rng.random((120, 120, 3))
    with pytest.raises(ValueError, match="at least 96x96"):
        niqe(img[:90])
    with pytest.raises(ValueError, match="crop_border"):
        niqe(img, crop_border=60)
    with pytest.raises(ValueError, match="convert_to"):
        niqe(img, convert_to="rgb")
    with pytest.raises(ValueError, match="NiqeModel"):
        niqe(img, model={"mean": 0})
    with pytest.raises(ValueError, match="flat"):
        niqe(np.full((100, 100), 0.5))
    with pytest.raises(ValueError, match="expected mean"):
        NiqeModel(np.zeros(35), np.eye(36))
    with pytest.raises(ValueError, match="patch_size"):
        fit_niqe_model([img], patch_size=33)
    with pytest.raises(ValueError, match="not a folder"):
        fit_niqe_model(tmp_path / "missing")
    with pytest.raises(ValueError, match="no PNG"):
        fit_niqe_model(tmp_path)
    with pytest.raises(ValueError, match="no image of at least"):
        fit_niqe_model([img[:50]])
    with pytest.raises(ValueError, match="sharpness_threshold"):
        fit_niqe_model([img], sharpness_threshold=1.0)
