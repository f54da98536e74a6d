"""Running models on images: colour, alpha, dtypes, tiles equal to the whole, x8 ensemble."""
import numpy as np
import pytest

import minisr.models as M
from minisr.image.color import rgb_to_ycbcr
from minisr.image.resize import resize
from minisr.inference import (as_float_image, dihedral, global_pools, self_ensemble_avg,
                              sr_image, tile_margin, tiled, tiled_sr, upscale,
                              upscale_with_model)


def _scale(name):
    """x3 where the model has it, else x4 (LapSRN: 2, 4, 8)."""
    return 3 if 3 in M.scales(name) else 4


@pytest.fixture(scope="module")
def nets():
    return {name: M.get(name, 3) for name in M.names() if 3 in M.scales(name)}


@pytest.fixture(scope="module")
def nets64():
    """float64 copies: any difference above 1e-12 is the algorithm, not rounding."""
    return {name: _sharp_attention(M.get(name, _scale(name)).to(np.float64))
            for name in M.names()}


def _sharp_attention(model):
    """Global pools (RCAN's channel attention) with 20x larger 1x1 weights, so the
    image-wide mean moves the output enough for a per-tile mean to show."""
    for pool in global_pools(model):
        for conv in (pool.attention[1], pool.attention[3]):
            conv.weight.data *= 20
    return model


@pytest.mark.parametrize("name", [n for n in M.names() if n not in ("lapsrn", "sr-lut-net")])
def test_residual_models_tile_exactly_too(name, rng):
    img = rng.random((29, 31, 3)) * 0.5 + 0.25
    model = M.get(name, 3, residual=True).to(np.float64)
    whole = sr_image(model, img)
    np.testing.assert_allclose(tiled_sr(model, img, 10), whole, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", M.names())
def test_tiles_equal_the_whole_image_and_need_their_margin(nets64, name, rng):
    img = rng.random((37, 41, 3)) * 0.5 + 0.25
    s = _scale(name)
    fast = M.get(name, s)
    np.testing.assert_allclose(upscale_with_model(fast, img, tile=12),
                               upscale_with_model(fast, img), rtol=0, atol=2e-6)
    model = nets64[name]
    m = tile_margin(model)
    whole = sr_image(model, img)
    np.testing.assert_allclose(tiled_sr(model, img, 12), whole, rtol=0, atol=1e-12)
    # a margin 3 pixels short and the seams show: the margin is not a loose guess (not
    # for LapSRN at init: its far field is ~1e-14, see test_receptive_radius_...)
    short = tiled(lambda t: sr_image(model, t), img, s, 12, m - 3)
    assert name == "lapsrn" or np.abs(short - whole).max() > 1e-11
    if global_pools(model):  # tiles with their own means differ: the pools are global
        naive = tiled(lambda t: sr_image(model, t), img, s, 12, m)
        assert np.abs(naive - whole).max() > 1e-5


def test_global_pools_tile_exactly_with_the_self_ensemble(nets64, rng):
    """RCAN's channel attention under tiles and the x8 ensemble: each of the eight
    transforms fixes its own image-wide means, so the result is the untiled ensemble."""
    model = nets64["rcan-small"]
    img = rng.random((26, 23, 3)) * 0.5 + 0.25
    whole = self_ensemble_avg(lambda u: sr_image(model, u), img)
    np.testing.assert_allclose(tiled_sr(model, img, 10, ensemble=True), whole, rtol=0,
                               atol=1e-6)  # the ensemble's mean is stored as float32
    assert all(p._fixed is None and p._collect is None for p in global_pools(model))
    u8 = upscale(img, 3, model, tile=10, self_ensemble=True, dtype=np.uint8)
    np.testing.assert_array_equal(u8, upscale(img, 3, model, tile=0, self_ensemble=True,
                                              dtype=np.uint8))


def test_dihedral_inverse_undoes_each_transform(rng):
    x = rng.random((5, 7, 2))
    outs = [dihedral(x, k) for k in range(8)]
    for k in range(8):
        np.testing.assert_array_equal(dihedral(outs[k], k, inverse=True), x)
    assert len({o.tobytes() + bytes(o.shape) for o in outs}) == 8  # all eight differ


def test_self_ensemble_of_an_equivariant_map_is_that_map(rng):
    x = rng.random((6, 9, 3)).astype(np.float32)

    def nearest_x2(u):
        return np.repeat(np.repeat(u, 2, axis=0), 2, axis=1)
    np.testing.assert_array_equal(self_ensemble_avg(lambda u: u, x), x)
    np.testing.assert_array_equal(self_ensemble_avg(nearest_x2, x), nearest_x2(x))

    def shift(u):  # not equivariant: the ensemble must differ from it
        return np.roll(u, 1, axis=1)
    assert np.abs(self_ensemble_avg(shift, x) - shift(x)).max() > 0.1


def test_y_models_enlarge_y_and_leave_cbcr_to_bicubic(rng):
    model = M.get("espcn", 3).to(np.float64)
    model.conv3.weight.data[:] = 0  # the network answers Y = 0.5 everywhere, so the
    model.conv3.bias.data[:] = 0.5  # RGB result stays inside [0, 1] and nothing is clipped
    img = rng.random((20, 24, 3)) * 0.6 + 0.2
    out = sr_image(model, img)
    cbcr = resize(rgb_to_ycbcr(img)[..., 1:], 3.0)
    inside = ((out > 0) & (out < 1)).all(axis=-1)  # pixels the final clip left alone
    assert inside.mean() > 0.9
    np.testing.assert_allclose(rgb_to_ycbcr(out)[..., 0][inside], 0.5, atol=1e-12)
    np.testing.assert_allclose(rgb_to_ycbcr(out)[..., 1:][inside], cbcr[inside], atol=1e-12)


def test_gray_in_gray_out_and_alpha_follows_bicubic(nets, rng):
    gray = rng.random((16, 18))
    for name in ("espcn", "edsr-small", "srcnn"):
        assert upscale_with_model(nets[name], gray).shape == (48, 54)
        assert upscale_with_model(nets[name], gray[..., None]).shape == (48, 54, 1)
    rgba = rng.random((16, 18, 4))
    out = upscale_with_model(nets["fsrcnn"], rgba)
    assert out.shape == (48, 54, 4)
    np.testing.assert_allclose(out[..., 3], np.clip(resize(rgba[..., 3], 3.0), 0, 1),
                               atol=1e-6)


def test_integer_images_are_converted_not_misread(nets, rng):
    u8 = rng.integers(0, 256, (12, 14, 3), dtype=np.uint8)
    u16 = u8.astype(np.uint16) * 257  # the same values on the 16-bit scale
    ref = upscale(u8.astype(np.float32) / 255, 3, nets["espcn"], tile=0)
    np.testing.assert_allclose(upscale(u8, 3, nets["espcn"], tile=0), ref, atol=1e-6)
    np.testing.assert_allclose(upscale(u16, 3, nets["espcn"], tile=0), ref, atol=1e-6)
    np.testing.assert_array_equal(as_float_image(u8), u8 / 255.0)
    as_255 = u8.astype(np.float32)
    as_255[0, 0] = 255
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\], got \[0, 255\]"):
        upscale(as_255, 3, "bicubic")


def test_uint8_output_is_the_rounded_float_output(nets, rng):
    img = rng.random((30, 33, 3)).astype(np.float32)
    f = upscale(img, 3, nets["edsr-small"], tile=10)
    u = upscale(img, 3, nets["edsr-small"], tile=10, dtype=np.uint8)
    assert u.dtype == np.uint8
    np.testing.assert_array_equal(u, np.floor(f.astype(np.float64) * 255 + 0.5))


@pytest.mark.parametrize("kw, message", [
    (dict(scale=3, model="nope"), "unknown model 'nope'; choose bicubic, bilinear, nearest"),
    (dict(scale=40, model="bicubic"), "scale 40 is above 16"),
    (dict(scale=0, model="bicubic"), "scale must be a positive number"),
    (dict(scale=2.5, model="espcn"), "needs an integer scale"),
    (dict(scale=2, model="bicubic", max_pixels=1000),
     "the result would be 40x40 = 1,600 pixels, above the limit of 1,000"),
    (dict(scale=2, model="bicubic", self_ensemble=True), "needs a model"),
])
def test_user_errors_are_one_line(kw, message):
    with pytest.raises(ValueError, match=message):
        upscale(np.zeros((20, 20, 3), np.uint8), **kw)
    for bad, msg in [(np.zeros((0, 5)), "empty"), (np.zeros((4, 4, 5)), "C in 1..4"),
                     (np.zeros((4, 4), bool), "unsupported pixel type"),
                     (np.full((4, 4), np.nan), "NaN")]:
        with pytest.raises(ValueError, match=msg):
            upscale(bad, 2, "bicubic")


def test_interpolations_go_through_the_same_call(rng):
    img = rng.random((10, 12, 3)).astype(np.float32)
    np.testing.assert_allclose(upscale(img, 2, "bilinear"),
                               np.clip(resize(img, 2.0, method="bilinear"), 0, 1), atol=1e-7)
    assert upscale(img, 1.5, "nearest").shape == (15, 18, 3)


def test_the_package_exposes_upscale_and_load_pretrained():
    import minisr
    import minisr.inference  # noqa: F401  (importing submodules must not shadow the call)
    assert minisr.upscale is minisr.inference.upscale
    assert minisr.load_pretrained is M.load_pretrained
    out = minisr.upscale(np.zeros((4, 5), np.uint8), 2, "nearest")
    assert out.shape == (8, 10) and out.dtype == np.float32


def test_multiply_adds_count_fused_convs_too():
    from minisr.inference import multiply_adds
    # per LR pixel, by hand: FSRCNN x3 = its 12,464 weights (the deconv runs per LR pixel);
    # EDSR-small x2 = head 864 + 8 blocks x 2 x 9,216 + 9,216 + upsampler 36,864 + last
    # conv 864 per HR pixel (x4 per LR pixel). Sequential and ResidualBlock run their
    # convs fused with the activation at inference; those must be counted as well.
    assert multiply_adds(M.get("fsrcnn", 3)) == 12464 * 1280 * 720 // 9
    per_lr = 864 + 8 * 2 * 9216 + 9216 + 36864 + 4 * 864
    assert multiply_adds(M.get("edsr-small", 2)) == per_lr * 640 * 360
