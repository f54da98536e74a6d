"""The README's results table is what the shipped weights produce: every shipped model's
Set5 row is recomputed here and must match the README to 0.01 dB / 0.0001 SSIM, and the
weights' manifest must carry the same numbers."""
import re
from pathlib import Path

import pytest

from minisr import models
from minisr.evaluate import evaluate_folder
from minisr.inference import model_upscaler

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_rows() -> dict:
    """{(model, scale): (psnr, ssim or None)} from the README table's 'Set5 minisr' column."""
    rows = {}
    for line in README.read_text().splitlines():
        m = re.match(r"\| ([\w-]+) \| x(\d) \| ([\d.]+)(?: / ([\d.]+))? \|", line)
        if m:
            rows[m[1], int(m[2])] = (float(m[3]), float(m[4]) if m[4] else None)
    return rows


def test_every_shipped_model_is_in_the_readme_table():
    rows = readme_rows()
    assert {("bicubic", s) for s in models.SCALES} <= set(rows)
    assert set(models.pretrained()) <= set(rows)


def test_manifest_entries_are_complete():
    for key, e in models.manifest().items():
        assert key == f"{e['model']}-x{e['scale']}"
        assert (models.WEIGHTS_DIR / e["file"]).stat().st_size < 5 * 2 ** 20
        for field in ("recipe_hash", "steps", "wall_clock_s", "seed", "cpu", "val_psnr",
                      "Set5", "Set14"):
            assert field in e, (key, field)


@pytest.mark.parametrize("name, scale", models.pretrained())
def test_set5_row_matches_the_readme(datasets, name, scale):
    model = models.load_pretrained(name, scale)
    _, mean = evaluate_folder(datasets / "Set5", scale, model_upscaler(model))
    psnr, ssim = readme_rows()[name, scale]
    assert mean.psnr == pytest.approx(psnr, abs=0.01)
    assert mean.ssim == pytest.approx(ssim, abs=0.0001)
    assert mean.psnr == pytest.approx(models.manifest()[f"{name}-x{scale}"]["Set5"]["psnr"],
                                      abs=1e-3)
