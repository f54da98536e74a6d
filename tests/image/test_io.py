"""imread/imwrite: dtypes and modes, alpha policy, rounding, atomic writes, one-line errors."""
import os

import numpy as np
import pytest
from PIL import Image

from minisr.image.io import imread, imwrite, quantize, to_uint8


def test_png_bmp_roundtrip_is_exact_on_the_8bit_grid(tmp_path, rng):
    x = rng.random((9, 7, 3)).astype(np.float32)
    for ext in ("png", "bmp"):
        imwrite(tmp_path / f"a.{ext}", x)
        y = imread(tmp_path / f"a.{ext}")
        assert y.dtype == np.float32 and y.shape == (9, 7, 3)
        np.testing.assert_array_equal(y, quantize(x))


def test_gray_is_hw1_and_saved_as_one_channel(tmp_path, rng):
    x = rng.random((6, 5))
    imwrite(tmp_path / "g.png", x)
    assert Image.open(tmp_path / "g.png").mode == "L"
    assert imread(tmp_path / "g.png").shape == (6, 5, 1)


def test_jpeg_roundtrip_is_close_on_a_smooth_image(tmp_path):
    ramp = np.linspace(0, 1, 16 * 16).reshape(16, 16, 1) * np.array([1.0, 0.5, 0.25])
    imwrite(tmp_path / "a.jpeg", ramp, quality=95)
    y = imread(tmp_path / "a.jpeg")
    assert y.shape == (16, 16, 3)
    assert np.abs(y - ramp).max() < 0.05  # measured 0.020


def test_16bit_gray_png(tmp_path, rng):
    raw = rng.integers(0, 65536, (5, 7), dtype=np.uint16)
    Image.fromarray(raw).save(tmp_path / "g16.png")
    np.testing.assert_array_equal(imread(tmp_path / "g16.png")[:, :, 0],
                                  (raw / 65535).astype(np.float32))
    x = rng.random((5, 7, 1))
    imwrite(tmp_path / "o16.png", x, bit_depth=16)
    assert np.abs(imread(tmp_path / "o16.png") - x).max() <= 0.5 / 65535 + 1e-7


def test_palette_and_1bit_images(tmp_path, rng):
    rgb = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=4).save(tmp_path / "p.png")
    pal = imread(tmp_path / "p.png")
    assert pal.shape == (6, 8, 3) and len(np.unique(pal.reshape(-1, 3), axis=0)) <= 4
    Image.fromarray(np.eye(4, dtype=bool)).save(tmp_path / "b.png")
    np.testing.assert_array_equal(imread(tmp_path / "b.png")[:, :, 0], np.eye(4))


def test_alpha_policy(tmp_path, rng):
    rgba = rng.integers(0, 256, (4, 5, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    with pytest.raises(ValueError, match="alpha"):
        imread(tmp_path / "a.png")
    assert imread(tmp_path / "a.png", alpha="drop").shape == (4, 5, 3)
    kept = imread(tmp_path / "a.png", alpha="keep")
    np.testing.assert_array_equal(kept, rgba / np.float32(255))
    imwrite(tmp_path / "b.png", kept)  # RGBA goes back out as RGBA
    np.testing.assert_array_equal(imread(tmp_path / "b.png", alpha="keep"), kept)
    with pytest.raises(ValueError, match="alpha"):
        imwrite(tmp_path / "b.jpg", kept)


def test_rounding_is_half_up_and_clipped():
    x = np.array([-0.2, 0.0, 0.5 / 255, 1.5 / 255, 2.5 / 255, 254.49 / 255, 1.0, 1.7])
    np.testing.assert_array_equal(to_uint8(x), [0, 0, 1, 2, 3, 254, 255, 255])
    q = quantize(x.astype(np.float32))
    assert q.dtype == np.float32 and q[3] == np.float32(2) / 255


@pytest.mark.parametrize("content,match",
                         [(None, "no such file"), (b"not a png", "not a readable")])
def test_imread_errors_are_one_line_value_errors(tmp_path, content, match):
    path = tmp_path / "x.png"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=match) as e:
        imread(path)
    assert "x.png" in str(e.value) and "\n" not in str(e.value)


def test_imread_rejects_other_formats_and_multiframe(tmp_path):
    with pytest.raises(ValueError, match="unsupported extension"):
        imread(tmp_path / "x.tif")
    frames = [Image.new("RGB", (4, 3), (i * 50, 0, 0)) for i in range(3)]
    frames[0].save(tmp_path / "anim.png", save_all=True, append_images=frames[1:])
    with pytest.raises(ValueError, match="multi-frame"):
        imread(tmp_path / "anim.png")


def test_imwrite_failures_leave_no_file(tmp_path):
    x = np.zeros((4, 4, 3))
    for name, img, kwargs, match in [
            ("a.gif", x, {}, "unsupported extension"), ("a.png", x.astype(np.int32), {}, "float"),
            ("a.png", np.zeros((4, 4, 5)), {}, "shape"), ("a.png", x * np.nan, {}, "NaN"),
            ("a.png", x, {"bit_depth": 16}, "bit_depth"), ("a.png", x, {"bit_depth": 12}, "bit")]:
        with pytest.raises(ValueError, match=match):
            imwrite(tmp_path / name, img, **kwargs)
    with pytest.raises(ValueError, match="No such file"):
        imwrite(tmp_path / "missing_dir" / "a.png", x)
    assert os.listdir(tmp_path) == []


def test_imwrite_replaces_atomically_and_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / "a.png"
    imwrite(target, np.zeros((3, 3)))
    before = target.read_bytes()

    def fail(*args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(ValueError, match="No space left"):
        imwrite(target, np.ones((3, 3)))
    assert os.listdir(tmp_path) == ["a.png"] and target.read_bytes() == before


def test_imwrite_takes_rounded_uint8_and_uint16_as_they_are(tmp_path, rng):
    rgb = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    imwrite(tmp_path / "a.png", rgb)
    np.testing.assert_array_equal(to_uint8(imread(tmp_path / "a.png")), rgb)
    gray16 = rng.integers(0, 65536, (5, 7, 1), dtype=np.uint16)
    imwrite(tmp_path / "b.png", gray16, bit_depth=16)
    np.testing.assert_array_equal(np.round(imread(tmp_path / "b.png") * 65535), gray16)
    with pytest.raises(ValueError, match="a uint8 image needs bit_depth=8, got 16"):
        imwrite(tmp_path / "c.png", rgb[..., :1], bit_depth=16)


def _png(path, width, height, bit_depth, color_type, rows, *chunks):
    """Write a PNG by hand (signature, IHDR, extra chunks, IDAT, IEND), so the test does not
    depend on how Pillow's encoder writes tRNS. rows: raw scanlines without filter bytes."""
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    idat = zlib.compress(b"".join(b"\x00" + r for r in rows))  # filter type 0 per row
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + b"".join(chunk(k, d) for k, d in chunks)
                     + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def test_palette_png_with_trns_has_alpha(tmp_path):
    # Colour type 3 (palette): PLTE red, green, blue; tRNS gives alphas 0 and 128 to the
    # first two entries, and entries past its end are opaque (PNG spec 11.3.2.1).
    path = tmp_path / "p.png"
    _png(path, 3, 2, 8, 3, [bytes([0, 1, 2]), bytes([2, 1, 0])],
         (b"PLTE", bytes([255, 0, 0, 0, 255, 0, 0, 0, 255])), (b"tRNS", bytes([0, 128])))
    with pytest.raises(ValueError, match="p.png.*alpha"):
        imread(path)
    rgb = np.array([[[1, 0, 0], [0, 1, 0], [0, 0, 1]], [[0, 0, 1], [0, 1, 0], [1, 0, 0]]])
    np.testing.assert_array_equal(imread(path, alpha="drop"), rgb)
    kept = imread(path, alpha="keep")
    assert kept.shape == (2, 3, 4) and kept.dtype == np.float32
    np.testing.assert_array_equal(kept[:, :, :3], rgb)
    np.testing.assert_array_equal(kept[:, :, 3] * 255, [[0, 128, 255], [255, 128, 0]])
    # Without tRNS the same palette image has no alpha (and reads with the default).
    _png(tmp_path / "q.png", 3, 2, 8, 3, [bytes([0, 1, 2]), bytes([2, 1, 0])],
         (b"PLTE", bytes([255, 0, 0, 0, 255, 0, 0, 0, 255])))
    np.testing.assert_array_equal(imread(tmp_path / "q.png"), rgb)


@pytest.mark.parametrize("bit_depth, color_type, key, samples", [
    (8, 0, (60,), [[60, 0], [120, 60]]),                    # gray
    (16, 0, (1000,), [[1000, 0], [65535, 1000]]),           # 16-bit gray, kept exact
    (8, 2, (60, 60, 60), [[(60, 60, 60), (60, 60, 0)], [(0, 0, 0), (60, 60, 60)]]),  # RGB
])
def test_colour_key_trns_has_alpha(tmp_path, bit_depth, color_type, key, samples):
    # tRNS on gray/RGB names one sample value (two bytes per channel); exactly the pixels
    # equal to it are transparent: alpha [[0, 1], [1, 0]] for each case here.
    import struct
    arr = np.array(samples, dtype=np.uint16 if bit_depth == 16 else np.uint8).reshape(2, 2, -1)
    rows = [r.astype(">u2" if bit_depth == 16 else np.uint8).tobytes() for r in arr]
    path = tmp_path / "k.png"
    _png(path, 2, 2, bit_depth, color_type, rows, (b"tRNS", struct.pack(f">{len(key)}H", *key)))
    with pytest.raises(ValueError, match="alpha"):
        imread(path)
    colour = arr / np.float32(65535 if bit_depth == 16 else 255)
    np.testing.assert_array_equal(imread(path, alpha="drop"), colour.astype(np.float32))
    kept = imread(path, alpha="keep")
    assert kept.shape == (2, 2, arr.shape[2] + 1)
    np.testing.assert_array_equal(kept[:, :, :-1], colour.astype(np.float32))
    np.testing.assert_array_equal(kept[:, :, -1], [[0, 1], [1, 0]])
