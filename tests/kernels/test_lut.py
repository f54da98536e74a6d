"""SR-LUT's 4-simplex interpolation: exact on the sampling grid and on linear tables,
continuous, the Numba pass equal to the readable loops."""
import inspect

import numpy as np
import pytest

import minisr.kernels.lut as K


def _grid_inputs(bits):
    """Every corner of the sampling grid as (a, b, c, d) and its table row."""
    lv = K.sample_levels(bits)
    L = lv.size
    a, b, c, d = np.meshgrid(lv, lv, lv, lv, indexing="ij")
    return np.stack([a.ravel(), b.ravel(), c.ravel(), d.ravel()], 1), L


def _window(a, b, c, d):
    """A padded 1x1 image whose one 2x2 window is (a, b; c, d)."""
    return np.array([[a, b], [c, d]], np.uint8)


def test_sample_levels():
    np.testing.assert_array_equal(K.sample_levels(4), list(range(0, 256, 16)) + [255])
    assert K.sample_levels(6).size == 65 and K.sample_levels(6)[-2:].tolist() == [252, 255]


def test_linear_tables_are_reproduced_exactly(rng):
    """A table sampled from a linear function of (a, b, c, d), with the last sample taken
    as 256 (the spacing the interpolation assumes), gives that function everywhere."""
    bits, r = 4, 2
    corners, L = _grid_inputs(bits)
    spaced = np.where(corners == 255, 256, corners).astype(np.float64)
    coef = rng.standard_normal((4, r * r))
    lut = spaced @ coef
    img = rng.integers(0, 256, (9, 11), dtype=np.uint8)
    got = K.lut_interp_ref(img, lut, bits, r)
    for y in range(8):
        for x in range(10):
            w = np.array([img[y, x], img[y, x + 1], img[y + 1, x], img[y + 1, x + 1]], float)
            np.testing.assert_allclose(got[y * r:(y + 1) * r, x * r:(x + 1) * r].ravel(),
                                       w @ coef, rtol=0, atol=1e-9)


def test_grid_points_read_their_own_entry(rng):
    bits, r = 4, 3
    corners, L = _grid_inputs(bits)
    lut = rng.integers(-127, 128, (L ** 4, r * r)).astype(np.int8)
    for k in rng.choice(L ** 4, 50, replace=False):
        a, b, c, d = corners[k]
        if 255 in (a, b, c, d):
            continue  # 255 sits one level short of its sample's spacing
        out = K.lut_interp_cpu(_window(a, b, c, d), lut, bits, r)
        np.testing.assert_array_equal(out.ravel(), lut[k].astype(float))


def test_interpolation_is_continuous(rng):
    """Moving one input by one level moves the output by at most the table's largest step
    between neighbouring corners over q."""
    bits, r = 4, 2
    _, L = _grid_inputs(bits)
    lut = rng.integers(-127, 128, (L ** 4, r * r)).astype(np.float64)
    worst = 0.0
    for _ in range(200):
        a, b, c, d = rng.integers(0, 255, 4)
        base = K.lut_interp_cpu(_window(a, b, c, d), lut, bits, r)
        moved = K.lut_interp_cpu(_window(a + 1, b, c, d), lut, bits, r)
        worst = max(worst, np.abs(moved - base).max())
    assert worst <= 254 / 16 + 1e-9


@pytest.mark.parametrize("bits, r", [(4, 4), (4, 2), (3, 3), (5, 2)])
def test_cpu_equals_ref(bits, r, rng):
    L = 2 ** bits + 1
    lut = rng.integers(-127, 128, (L ** 4, r * r)).astype(np.int8)
    img = rng.integers(0, 256, (13, 10), dtype=np.uint8)
    img[0, :4] = [0, 255, 16, 15]  # the grid's ends and a tie of fractions
    img[1, :4] = [255, 255, 17, 17]
    np.testing.assert_array_equal(K.lut_interp_cpu(img, lut, bits, r),
                                  K.lut_interp_ref(img, lut, bits, r))
    assert K.lut_interp_cpu(img, lut, bits, r).shape == (12 * r, 9 * r)


def test_every_ref_has_a_cpu_twin():
    refs = {n[:-4] for n in dir(K) if n.endswith("_ref") and not n.startswith("_")}
    assert refs == {"lut_interp"}
    for name in refs:
        assert inspect.signature(getattr(K, name + "_ref")) == \
            inspect.signature(getattr(K, name + "_cpu"))
