"""ESRGAN's network interpolation: alpha = 1 is the PSNR twin, 0 the GAN model, 0.5 the
exact midpoint of every weight; mismatched architectures and bad alphas are one-line errors.

``gan_pair`` is a controlled stand-in for the shipped pair: the shipped EDSR-small x4 as the
PSNR twin and a perturbed copy as ``edsr-small-gan`` x4, under a temporary manifest that
names the twin (tests/test_cli_upscale.py runs ``--alpha`` on the shipped weights).
"""
import json
import shutil

import numpy as np
import pytest

import minisr
import minisr.inference as inference
import minisr.models as M
from minisr.models.interpolate import blend_state_dicts, check_alpha, interpolate
from minisr.nn import save_weights

BAD_ALPHAS = [-0.1, 1.5, -1e-9, float("nan"), float("inf"), -float("inf"), "0.5", True,
              [0.5], np.float32("nan")]


def install_gan_pair(weights_dir, monkeypatch):
    """Point the registry at ``weights_dir``: edsr-small x4 (the shipped weights, no twin)
    and edsr-small-gan x4 (those weights perturbed, twin edsr-small-x4). Returns both
    models as loaded."""
    shutil.copy(M.WEIGHTS_DIR / "edsr_small_x4.npz", weights_dir / "edsr_small_x4.npz")
    psnr = M.load_file("edsr-small", 4, weights_dir / "edsr_small_x4.npz")
    gan = M.get("edsr-small-gan", 4)
    rng = np.random.default_rng(0)
    gan.load_state_dict({k: v + 0.2 * (v.std() + 1e-3) * rng.standard_normal(v.shape)
                         for k, v in psnr.state_dict().items()})
    save_weights(gan, weights_dir / "edsr_small_gan_x4.npz",
                 {"model": "edsr-small-gan", "scale": 4, "residual": False})
    entries = {
        "edsr-small-x4": {"model": "edsr-small", "scale": 4, "file": "edsr_small_x4.npz",
                          "residual": False},
        "edsr-small-gan-x4": {"model": "edsr-small-gan", "scale": 4,
                              "file": "edsr_small_gan_x4.npz", "residual": False,
                              "twin": "edsr-small-x4"},
    }
    (weights_dir / "manifest.json").write_text(json.dumps(entries, indent=2))
    monkeypatch.setattr(M, "WEIGHTS_DIR", weights_dir)
    return psnr, M.load_file("edsr-small-gan", 4, weights_dir / "edsr_small_gan_x4.npz")


def clear_caches():
    """minisr.upscale caches loaded models by name; a test's fake weights must not leak."""
    inference._pretrained.cache_clear()
    inference._interpolated.cache_clear()


@pytest.fixture
def gan_pair(tmp_path, monkeypatch):
    clear_caches()
    yield install_gan_pair(tmp_path, monkeypatch)
    clear_caches()


@pytest.fixture
def img(rng):
    return rng.random((16, 16, 3)).astype(np.float32)


def test_the_gan_name_builds_the_edsr_small_architecture():
    gan, psnr = M.get("edsr-small-gan", 4), M.get("edsr-small", 4)
    assert "edsr-small-gan" in M.names() and gan.name == "edsr-small-gan"
    assert {k: v.shape for k, v in gan.state_dict().items()} == \
        {k: v.shape for k, v in psnr.state_dict().items()}
    assert repr(gan) == repr(psnr)


def test_the_registry_reads_the_twin_from_the_manifest(gan_pair):
    assert M.twin("edsr-small-gan", 4) == ("edsr-small", 4)
    assert M.twin("edsr-small", 4) is None
    assert M.pretrained() == [("edsr-small", 4), ("edsr-small-gan", 4)]
    with pytest.raises(ValueError, match="no pretrained weights for edsr-small-gan x2"):
        M.twin("edsr-small-gan", 2)


def test_every_twin_in_the_shipped_manifest_is_shipped_and_fits():
    # vacuous until the GAN weights ship; then it checks the real manifest's pairing
    for name, scale in M.pretrained():
        pair = M.twin(name, scale)
        if pair is not None:
            assert pair in M.pretrained() and pair[1] == scale
            M.load_interpolated(name, scale, 0.5)  # raises if the architectures differ


def test_alpha_one_is_the_twin_and_zero_the_gan_model(gan_pair, img):
    psnr, gan = gan_pair
    for alpha, ref in ((1.0, psnr), (0.0, gan)):
        blended = M.load_interpolated("edsr-small-gan", 4, alpha)
        for k, v in blended.state_dict().items():
            np.testing.assert_array_equal(v, ref.state_dict()[k])
    as_psnr = minisr.upscale(img, 4, "edsr-small-gan", alpha=1)
    as_gan = minisr.upscale(img, 4, "edsr-small-gan", alpha=0.0)
    np.testing.assert_array_equal(as_psnr, minisr.upscale(img, 4, "edsr-small"))
    np.testing.assert_array_equal(as_gan, minisr.upscale(img, 4, "edsr-small-gan"))
    assert np.abs(as_psnr - as_gan).max() > 0.05  # the stand-in GAN model really differs


def test_halfway_is_the_exact_midpoint_and_a_third_output(gan_pair, img):
    psnr, gan = gan_pair
    before = {k: v.copy() for k, v in gan.state_dict().items()}
    half = interpolate(psnr, gan, 0.5)
    for k, v in half.state_dict().items():
        a, b = psnr.state_dict()[k].astype(np.float64), gan.state_dict()[k].astype(np.float64)
        assert v.dtype == np.float32
        np.testing.assert_array_equal(v, ((a + b) / 2).astype(np.float32))
        np.testing.assert_array_equal(gan.state_dict()[k], before[k])  # inputs untouched
    quarter = interpolate(psnr, gan, np.float64(0.25)).state_dict()
    for k, v in quarter.items():
        exact = 0.25 * psnr.state_dict()[k].astype(np.float64) + \
            0.75 * gan.state_dict()[k].astype(np.float64)
        np.testing.assert_array_equal(v, exact.astype(np.float32))
    mid = minisr.upscale(img, 4, "edsr-small-gan", alpha=0.5)
    np.testing.assert_allclose(mid, minisr.upscale(img, 4, half), rtol=0, atol=1e-6)
    for end in (minisr.upscale(img, 4, "edsr-small"), minisr.upscale(img, 4, "edsr-small-gan")):
        assert np.abs(mid - end).max() > 0.01


def test_integer_entries_come_from_the_gan_model():
    # buffers such as step counters are state_dict entries too; averaging them means nothing
    psnr = {"w": np.array([1.0, 3.0], np.float32), "n": np.array(10, np.int64),
            "d": np.array([0.0, 1.0])}
    gan = {"w": np.array([3.0, 5.0], np.float32), "n": np.array(7, np.int64),
           "d": np.array([1.0, 3.0])}
    out = blend_state_dicts(psnr, gan, 0.5)
    np.testing.assert_array_equal(out["w"], [2.0, 4.0])
    assert out["w"].dtype == np.float32 and out["d"].dtype == np.float64
    np.testing.assert_array_equal(out["d"], [0.5, 2.0])
    assert out["n"] == 7 and out["n"].dtype == np.int64
    with pytest.raises(ValueError, match=r"differ in architecture at n: int64\[\] vs int32"):
        blend_state_dicts(psnr, {**gan, "n": np.array(7, np.int32)}, 0.5)
    with pytest.raises(ValueError, match="entries differ at 'extra'"):
        blend_state_dicts(psnr, {**gan, "extra": np.zeros(1)}, 0.5)


@pytest.mark.parametrize("other, fragment", [
    (lambda: M.get("espcn", 4), "at the top module: EDSR vs ESPCN"),
    (lambda: M.get("edsr-small", 2), "scale = 4 vs 2"),
    (lambda: M.get("edsr-small", 4, residual=True), "residual = False vs True"),
    (lambda: M.EDSR(scale=4, num_features=32, num_blocks=8, res_scale=0.2), "res_scale"),
    (lambda: M.EDSR(scale=4, num_features=32, num_blocks=6), "num_blocks = 8 vs 6"),
    (lambda: M.get("edsr-small", 4).to(np.float64), "float32[32, 3, 3, 3] vs float64"),
])
def test_architectures_must_match(other, fragment):
    with pytest.raises(ValueError, match="differ in architecture") as e:
        interpolate(M.get("edsr-small", 4), other(), 0.5)
    assert fragment in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("alpha", BAD_ALPHAS + [None])
def test_bad_alpha_is_a_one_line_error(alpha):
    with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\]") as e:
        interpolate(M.get("edsr-small", 4), M.get("edsr-small-gan", 4), alpha)
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match=r"^upscale: alpha must be a number in \[0, 1\]"):
        check_alpha(alpha, where="upscale")
    assert check_alpha(np.float32(0.25)) == 0.25 and check_alpha(1) == 1.0


@pytest.mark.parametrize("alpha", BAD_ALPHAS)
def test_upscale_refuses_a_bad_alpha(gan_pair, img, alpha):
    with pytest.raises(ValueError, match=r"^upscale: alpha must be a number in \[0, 1\]"):
        minisr.upscale(img, 4, "edsr-small-gan", alpha=alpha)
    with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\]"):
        M.load_interpolated("edsr-small-gan", 4, alpha)


@pytest.mark.parametrize("model, message", [
    ("edsr-small", "upscale: model edsr-small x4 has no PSNR twin to interpolate with"),
    ("bicubic", "upscale: alpha needs a model with a PSNR twin, not bicubic"),
    ("vdsr", "upscale: unknown model 'vdsr'"),
    (M.get("edsr-small-gan", 4), "upscale: alpha blends a shipped model with its PSNR twin, "
                                 "so model must be a name, not a Module"),
])
def test_alpha_needs_a_shipped_model_with_a_twin(gan_pair, img, model, message):
    with pytest.raises(ValueError) as e:
        minisr.upscale(img, 4, model, alpha=0.5)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)
    with pytest.raises(ValueError, match="^model edsr-small x4 has no PSNR twin to interpolate "
                                         "with$"):
        M.load_interpolated("edsr-small", 4, 0.5)
