"""The minisr command line: resize end to end, --version, and one-line errors with no output."""
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

import minisr
from minisr.cli import main
from minisr.image.io import imread
from minisr.image.resize import resize

HOPPER = pathlib.Path(__file__).parent / "data" / "hopper.png"


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"minisr {minisr.__version__}" == "minisr 0.1.0"


def test_console_script_version():
    exe = shutil.which("minisr", path=os.path.dirname(sys.executable))
    if exe is None:
        pytest.skip("console script not installed")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "minisr 0.1.0"


def test_resize_scale_matches_library(tmp_path, capsys):
    assert HOPPER.stat().st_size < 60_000
    out = tmp_path / "hopper_x2.png"
    assert main(["resize", str(HOPPER), str(out), "--scale", "2"]) == 0
    img = imread(HOPPER)
    expected = np.floor(np.clip(resize(img, 2), 0, 1) * 255 + 0.5) / 255
    got = imread(out)
    assert got.shape == (256, 218, 3)
    np.testing.assert_array_equal(got, expected.astype(np.float32))
    # Sizes are HxW (height first), as --size takes them: hopper is 128 rows x 109 columns.
    assert capsys.readouterr().out == f"{HOPPER} 128x109 -> {out} 256x218 (bicubic)\n"


def test_resize_size_and_method(tmp_path, capsys):
    out = tmp_path / "small.bmp"
    assert main(["resize", str(HOPPER), str(out), "--size", "40x30", "--method", "nearest",
                 "--no-antialias"]) == 0
    assert imread(out).shape == (40, 30, 3)
    # The printed output size reads exactly as the --size that asked for it.
    assert capsys.readouterr().out.endswith(" -> " + str(out) + " 40x30 (nearest)\n")


def test_resize_help_says_sizes_are_hxw(capsys):
    assert main(["resize", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "output size HxW (height x width)" in help_text
    assert "Sizes are height x width (HxW)" in help_text and "'IN HxW -> OUT HxW" in help_text


def test_resize_keeps_alpha(tmp_path):
    from PIL import Image
    rgba = np.random.default_rng(0).integers(0, 256, (6, 5, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    assert main(["resize", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--scale", "3"]) == 0
    assert imread(tmp_path / "b.png", alpha="keep").shape == (18, 15, 4)


@pytest.mark.parametrize("args,match", [
    (["missing.png", "out.png", "--scale", "2"], "no such file"),
    (["notimage.png", "out.png", "--scale", "2"], "not a readable image"),
    (["HOPPER", "out.png", "--scale", "0"], "must be positive"),
    (["HOPPER", "out.png", "--scale", "-2"], "must be positive"),
    (["HOPPER", "out.png", "--scale", "two"], "not a number"),
    (["HOPPER", "out.png", "--size", "10"], "HxW"),
    (["HOPPER", "out.png", "--size", "0x5"], "HxW"),
    (["HOPPER", "out.png"], "--scale --size"),
    (["HOPPER", "out.png", "--scale", "2", "--size", "4x4"], "not allowed"),
    (["HOPPER", "out.gif", "--scale", "2"], "unsupported extension"),
    (["HOPPER", "out.png", "--scale", "2", "--method", "lanczos3"], "invalid choice"),
])
def test_errors_exit_2_with_one_line_and_no_output(tmp_path, monkeypatch, capsys, args, match):
    (tmp_path / "notimage.png").write_text("hello")
    monkeypatch.chdir(tmp_path)
    args = [str(HOPPER) if a == "HOPPER" else a for a in args]
    before = sorted(os.listdir(tmp_path))
    assert main(["resize", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minisr: error:") and err.count("\n") == 1 and match in err
    assert sorted(os.listdir(tmp_path)) == before


def test_no_command_is_an_error(capsys):
    assert main([]) == 2
    assert capsys.readouterr().err.startswith("minisr: error:")


def test_resize_takes_the_output_as_option_too(tmp_path):
    out = tmp_path / "half.png"
    assert main(["resize", str(HOPPER), "-o", str(out), "--scale", "0.5"]) == 0
    assert imread(out).shape == (64, 55, 3)


@pytest.mark.parametrize("argv_tail, message", [
    ([], "resize: give the output path once, as OUTPUT or as -o OUTPUT"),
    (["a.png", "-o", "b.png"], "resize: give the output path once, as OUTPUT or as -o OUTPUT"),
])
def test_resize_output_given_once(tmp_path, capsys, argv_tail, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["resize", str(HOPPER), *argv_tail, "--scale", "2"]) == 2
    assert capsys.readouterr().err == f"minisr: error: {message}\n"
    assert list(tmp_path.iterdir()) == []


def test_resize_refuses_a_runaway_result_before_allocating(tmp_path, capsys):
    out = tmp_path / "huge.png"
    # 128x109 x 100000 would be 12.8M x 10.9M pixels: refused from the sizes alone (this
    # used to end in a MemoryError traceback from the resampling loop).
    assert main(["resize", str(HOPPER), str(out), "--scale", "100000"]) == 2
    err = capsys.readouterr().err
    assert err == ("minisr: error: resize: the result would be 12800000x10900000 = "
                   "139,520,000,000,000 pixels, above the limit of 300,000,000 (lift it with "
                   "--max-pixels)\n")
    assert not out.exists()
    # the limit is a flag: a small one refuses x2, a larger one lets it through
    assert main(["resize", str(HOPPER), str(out), "--scale", "2", "--max-pixels", "50000"]) == 2
    assert "256x218 = 55,808 pixels, above the limit of 50,000" in capsys.readouterr().err
    assert main(["resize", str(HOPPER), str(out), "--scale", "2", "--max-pixels", "60000"]) == 0
    assert imread(out).shape == (256, 218, 3)


def test_resize_checks_the_output_path_first(tmp_path, capsys):
    assert main(["resize", str(HOPPER), str(tmp_path / "nodir" / "x.png"), "--scale", "2"]) == 2
    assert capsys.readouterr().err == (f"minisr: error: resize: output folder "
                                       f"{str(tmp_path / 'nodir')!r} does not exist\n")


def test_python_dash_m_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "minisr", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == f"minisr {minisr.__version__}"
