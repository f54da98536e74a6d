"""The papers' evaluation protocol end to end, and ``minisr evaluate``."""
import numpy as np
import pytest

from minisr.cli import main
from minisr.evaluate import evaluate_folder, evaluate_image
from minisr.image.io import imwrite, quantize
from minisr.image.resize import resize
from minisr.metrics import psnr, ssim

# Papers' bicubic rows (REFERENCE.md): PSNR / SSIM.
PAPER = {("Set5", 2): (33.66, 0.9299), ("Set5", 3): (30.39, 0.8682),
         ("Set5", 4): (28.42, 0.8104), ("Set14", 2): (30.24, 0.8688),
         ("Set14", 3): (27.55, 0.7742), ("Set14", 4): (26.00, 0.7027)}


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:37, 0:42] / 40.0
    smooth = 0.5 + 0.4 * np.sin(6 * xx + 3 * yy)[:, :, None] * np.array([1.0, 0.8, 0.6])
    imwrite(tmp_path / "a.png", np.clip(smooth + 0.02 * rng.standard_normal(smooth.shape), 0, 1))
    imwrite(tmp_path / "b.png", smooth[:, :, :1])  # a gray image
    return tmp_path


def test_protocol_steps_by_hand(folder):
    from minisr.image.io import imread
    hr = imread(folder / "a.png").astype(np.float64)[:36, :42]  # modcrop to x3
    lr = quantize(resize(hr, 1 / 3))
    sr = resize(lr, 3.0)
    kw = dict(crop_border=3, y_channel=True, quantize=True)
    got, ssim_value = evaluate_image(imread(folder / "a.png").astype(np.float64), 3,
                                     lambda x, s: resize(x, float(s)))
    # The same steps give the same numbers, bit for bit (a range would pass an SSIM taken
    # on RGB, without the crop or without rounding).
    assert got == psnr(sr, hr, **kw)
    assert ssim_value == ssim(sr, hr, **kw)


def test_mean_is_over_images_and_shapes_are_checked(folder):
    scores, mean = evaluate_folder(folder, 2)
    assert [s.name for s in scores] == ["a", "b"]
    assert mean.psnr == pytest.approx((scores[0].psnr + scores[1].psnr) / 2)
    with pytest.raises(ValueError, match="upscaler returned"):
        evaluate_folder(folder, 2, upscaler=lambda lr, s: lr)


def test_bad_folders_and_scales_are_one_line_errors(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == \
        f"minisr: error: evaluate: no PNG/BMP/JPEG images in {str(tmp_path)!r}"
    with pytest.raises(ValueError, match="integer >= 2"):
        evaluate_folder(tmp_path, 1.5)


def test_cli_prints_the_table(folder, capsys):
    assert main(["evaluate", "--scale", "2,4", str(folder), "--per-image"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["dataset", "scale", "method", "PSNR", "SSIM", "params",
                              "GMACs@720p", "s/img"]
    assert [line.split()[:2] for line in out[2:]] == [
        [f"{folder.name}/a", "x2"], [f"{folder.name}/b", "x2"], [folder.name, "x2"],
        [f"{folder.name}/a", "x4"], [f"{folder.name}/b", "x4"], [folder.name, "x4"]]


@pytest.mark.parametrize("name, scale", sorted(PAPER))
def test_bicubic_matches_the_papers_tables(datasets, name, scale):
    # Measured (minisr evaluate): Set5 33.649/0.9295, 30.386/0.8679, 28.419/0.8102;
    # Set14 30.224/0.8685, 27.533/0.7738, 25.993/0.7024. Papers' tables differ among
    # themselves by 0.01-0.03 dB (REFERENCE.md).
    _, mean = evaluate_folder(datasets / name, scale)
    paper_psnr, paper_ssim = PAPER[name, scale]
    assert abs(mean.psnr - paper_psnr) < 0.02
    assert abs(mean.ssim - paper_ssim) < 0.001


def test_cli_evaluates_a_model_from_a_weights_file(folder, tmp_path, capsys):
    from minisr import models
    from minisr.nn import save_weights
    model = models.get("espcn", 2)
    save_weights(model, tmp_path / "w.npz")
    argv = ["evaluate", str(folder), "--model", "espcn", "--weights", str(tmp_path / "w.npz"),
            "--scale", "2", "--format", "markdown"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| dataset | scale | method | PSNR | SSIM | params | GMACs@720p | s/img |"
    bicubic, net = lines[2].split(" | "), lines[3].split(" | ")
    assert bicubic[2] == "bicubic" and net[2] == "espcn"
    assert net[5] == "21,284" and net[6] == "4.88"  # ESPCN x2: parameters, 720p mult-adds
    assert main(argv[:-2] + ["--self-ensemble", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[2].split(",")[2] == "espcn +x8"
    assert main(["evaluate", str(folder), "--model", "espcn", "--weights",
                 str(tmp_path / "w.npz")]) == 2
    assert "with --weights, give its --scale" in capsys.readouterr().err
    assert main(["evaluate", str(folder), "--model", "nope", "--scale", "2"]) == 2
    assert "unknown model 'nope'; models: srcnn" in capsys.readouterr().err


def test_niqe_beside_psnr_and_ssim(tmp_path, capsys):
    # NIQE needs 96-pixel patches: a 200x200 crop of hopper. The score is NIQE of the
    # 8-bit output with the scale's border removed; the mean is over images.
    from minisr.image.io import imread
    from minisr.metrics import niqe
    from pathlib import Path
    hopper = imread(Path(__file__).parent / "data" / "hopper.png").astype(np.float64)
    big = np.clip(resize(hopper, 2.0), 0, 1)
    imwrite(tmp_path / "a.png", big[:200, :200])
    imwrite(tmp_path / "b.png", big[8:208, 10:210])
    scores, mean = evaluate_folder(tmp_path, 2, niqe=True)
    hr = imread(tmp_path / "a.png").astype(np.float64)
    sr = quantize(resize(quantize(resize(hr, 0.5)), 2.0))
    assert scores[0].niqe == niqe(sr, crop_border=2)
    assert mean.niqe == pytest.approx((scores[0].niqe + scores[1].niqe) / 2)
    assert evaluate_folder(tmp_path, 2)[1].niqe is None
    assert main(["evaluate", "--scale", "2", str(tmp_path), "--niqe"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[3:6] == ["PSNR", "SSIM", "NIQE"]
    assert float(out[2].split()[5]) == pytest.approx(mean.niqe, abs=5e-4)
