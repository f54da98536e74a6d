"""``minisr upscale`` and ``minisr demo`` as a user runs them: every bad input is one
stderr line and exit code 2, and no output file is left half-written."""
import os
from pathlib import Path

import numpy as np
import pytest

from minisr.cli import main
from minisr.image.io import imread, imwrite

HOPPER = Path(__file__).parent / "data" / "hopper.png"


def _one_error(capsys, fragment):
    captured = capsys.readouterr()
    err = captured.err
    assert err.startswith("minisr: error: ") and err.count("\n") == 1, err
    assert fragment in err, err
    assert "Traceback" not in err + captured.out


def test_upscale_a_file_and_a_compare_figure(tmp_path, capsys):
    out, fig = tmp_path / "x.png", tmp_path / "fig.png"
    assert main(["upscale", str(HOPPER), "-o", str(out), "--model", "bicubic",
                 "--scale", "2", "--compare", str(fig)]) == 0
    assert capsys.readouterr().out.strip().endswith("256x218 (bicubic x2)")
    assert imread(out).shape == (256, 218, 3)
    assert fig.stat().st_size > 10_000


def test_upscale_a_folder_skips_the_unreadable_file(tmp_path, capsys):
    src, dst = tmp_path / "in", tmp_path / "out"
    src.mkdir(), dst.mkdir()
    img = imread(HOPPER)
    imwrite(src / "a.png", img[:40, :50])
    imwrite(src / "b.png", img[:30, :20])
    (src / "c.png").write_bytes(b"not a png")
    assert main(["upscale", str(src), "-o", str(dst), "--model", "bicubic"]) == 2
    captured = capsys.readouterr()
    assert "upscaled 2 of 3 images" in captured.out and "skipped 1: c.png" in captured.out
    assert "c.png" in captured.err and "Traceback" not in captured.err
    assert sorted(os.listdir(dst)) == ["a.png", "b.png"]
    assert imread(dst / "a.png").shape == (120, 150, 3)


def test_sixteen_bit_gray_comes_back_as_sixteen_bit(tmp_path):
    g = (np.arange(24 * 20).reshape(24, 20, 1) * 97 % 65536).astype(np.uint16)
    imwrite(tmp_path / "g.png", g, bit_depth=16)
    assert main(["upscale", str(tmp_path / "g.png"), "-o", str(tmp_path / "o.png"),
                 "--model", "bicubic", "--scale", "2", "--bit-depth", "16"]) == 0
    import imageio.v3 as iio
    assert iio.imread(tmp_path / "o.png").dtype == np.uint16


@pytest.mark.parametrize("args, fragment", [
    (["MISSING.png", "-o", "OUT/a.png"], "no such file or folder"),
    (["HOPPER", "-o", "OUT"], "is a folder; give an output file name"),
    (["HOPPER", "-o", "OUT/nodir/a.png"], "does not exist"),
    (["HOPPER", "-o", "OUT/a.gif"], "unsupported extension '.gif'"),
    (["HOPPER", "-o", "OUT/a.png", "--model", "vdsr"], "unknown model 'vdsr'; choose bicubic"),
    (["HOPPER", "-o", "OUT/a.png", "--scale", "0"], "must be positive"),
    (["HOPPER", "-o", "OUT/a.png", "--scale", "1e6", "--model", "bicubic"],
     "is above 16"),
    (["HOPPER", "-o", "OUT/a.png", "--model", "bicubic", "--scale", "8",
      "--max-pixels", "10000"], "above the limit of 10,000"),
    (["HOPPER", "-o", "OUT/a.png", "--tile", "-1"], "--tile must be >= 0"),
    (["ZERO", "-o", "OUT/a.png", "--model", "bicubic"], "not a readable image"),
    (["TEXT", "-o", "OUT/a.png", "--model", "bicubic"], "not a readable image"),
    (["TRUNC", "-o", "OUT/a.png", "--model", "bicubic"], "not a readable image"),
    (["DIRPNG", "-o", "OUT/a.png"], "output folder"),
    (["HOPPER", "-o", "OUT/a.png", "--model", "bicubic", "--self-ensemble"],
     "needs a model"),
    (["HOPPER", "-o", "OUT/a.png", "--model", "edsr-small-gan", "--scale", "4",
      "--alpha", "1.5"], "must be a number in [0, 1], got '1.5'"),
    (["HOPPER", "-o", "OUT/a.png", "--model", "edsr-small-gan", "--scale", "4",
      "--alpha", "nan"], "must be a number in [0, 1], got 'nan'"),
    (["HOPPER", "-o", "OUT/a.png", "--model", "edsr-small-gan", "--scale", "4",
      "--alpha", "half"], "not a number: 'half'"),
    (["HOPPER", "-o", "OUT/a.png", "--model", "espcn", "--scale", "4", "--alpha", "0.5"],
     "has no PSNR twin"),
    (["HOPPER", "-o", "OUT/a.png", "--model", "bicubic", "--alpha", "0.5"],
     "alpha needs a model with a PSNR twin"),
])
def test_upscale_user_errors(tmp_path, capsys, args, fragment):
    (tmp_path / "zero.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("hello")
    (tmp_path / "trunc.png").write_bytes(HOPPER.read_bytes()[:400])
    (tmp_path / "dir.png").mkdir()
    out = tmp_path / "out"
    out.mkdir()
    names = {"HOPPER": str(HOPPER), "MISSING.png": str(tmp_path / "missing.png"),
             "ZERO": str(tmp_path / "zero.png"), "TEXT": str(tmp_path / "text.png"),
             "TRUNC": str(tmp_path / "trunc.png"), "DIRPNG": str(tmp_path / "dir.png")}
    argv = ["upscale"] + [names.get(a, a.replace("OUT", str(out))) for a in args]
    assert main(argv) == 2
    _one_error(capsys, fragment)
    assert os.listdir(out) == []  # nothing written, not even a temporary file


def test_unwritable_output_folder(tmp_path, capsys, monkeypatch):
    # Root (as in CI) may write anywhere, so the permission is denied by hand: the check
    # under test is the os.access call made before any work.
    ro = tmp_path / "ro"
    ro.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m: False if str(p) == str(ro) else real(p, m))
    assert main(["upscale", str(HOPPER), "-o", str(ro / "a.png")]) == 2
    _one_error(capsys, "is not writable")
    assert main(["upscale", str(tmp_path), "-o", str(ro), "--model", "bicubic"]) == 2
    _one_error(capsys, "is not writable")


def test_demo_runs_without_data_and_writes_one_figure(tmp_path, capsys):
    fig = tmp_path / "demo.png"
    assert main(["demo", "-o", str(fig)]) == 0
    out = capsys.readouterr().out.splitlines()
    bicubic = [line for line in out if line.startswith("bicubic")][0].split()
    # measured: 27.58 dB / 0.8160 at x3 (the 512x600 photo, 8-bit LR, Y, crop 3)
    assert float(bicubic[1]) == pytest.approx(27.58, abs=0.01)
    assert float(bicubic[2]) == pytest.approx(0.8160, abs=0.0005)
    assert fig.stat().st_size > 50_000
    assert main(["demo", "-o", str(tmp_path / "nodir" / "d.png")]) == 2
    _one_error(capsys, "does not exist")


def test_ctrl_c_exits_130_without_a_traceback_or_a_file(tmp_path, capsys, monkeypatch):
    import minisr.inference as inf

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(inf, "upscale", interrupted)
    assert main(["upscale", str(HOPPER), "-o", str(tmp_path / "a.png")]) == 130
    captured = capsys.readouterr()
    assert captured.err == "minisr: interrupted\n"
    assert os.listdir(tmp_path) == []


def test_disk_full_is_one_line_and_leaves_no_file(tmp_path, capsys, monkeypatch):
    import errno
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "fdopen", lambda fd, mode="r": Full(real_fdopen(fd, mode)))
    assert main(["upscale", str(HOPPER), "-o", str(tmp_path / "a.png"),
                 "--model", "bicubic"]) == 2
    _one_error(capsys, "No space left on device")
    assert os.listdir(tmp_path) == []


def test_evaluate_reports_a_bad_image_and_goes_on(tmp_path, capsys):
    img = imread(HOPPER)
    imwrite(tmp_path / "a.png", img[:60, :60])
    (tmp_path / "b.png").write_bytes(b"broken")
    assert main(["evaluate", str(tmp_path), "--scale", "2", "--per-image"]) == 0
    captured = capsys.readouterr()
    assert "skipped" in captured.err and "b.png" in captured.err
    assert f"{tmp_path.name}/a" in captured.out and f"{tmp_path.name}/b" not in captured.out


def test_evaluate_scale_list_does_not_swallow_folders(tmp_path, capsys):
    imwrite(tmp_path / "a.png", imread(HOPPER)[:60, :60])
    assert main(["evaluate", "--scale", "2", "3", str(tmp_path)]) == 2  # '3' is a folder
    _one_error(capsys, "'3' is not a folder")
    assert main(["evaluate", "--scale", "2,3", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert " x2 " in out and " x3 " in out


def test_upscale_alpha_writes_the_blend(tmp_path, capsys):
    """--alpha A on the shipped GAN model is minisr.upscale(..., alpha=A), saved as 8-bit."""
    import minisr
    src = tmp_path / "crop.png"
    imwrite(src, imread(HOPPER)[40:72, 50:90])
    out = tmp_path / "sr.png"
    assert main(["upscale", str(src), "-o", str(out), "--model", "edsr-small-gan",
                 "--scale", "4", "--alpha", "0.3"]) == 0
    assert "alpha 0.3" in capsys.readouterr().out
    want = minisr.upscale(imread(src), 4, "edsr-small-gan", alpha=0.3, dtype=np.uint8)
    got = np.round(imread(out) * 255).astype(np.uint8)
    assert got.shape == (128, 160, 3)
    np.testing.assert_array_equal(got, want)
    gan = minisr.upscale(imread(src), 4, "edsr-small-gan", dtype=np.uint8)
    assert np.abs(got.astype(int) - gan).max() > 0  # the blend is not the GAN model
