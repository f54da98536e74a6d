"""scripts/perception_distortion.py: the equal-PSNR comparison of two interpolation sweeps
(linear between neighbouring alphas, over the PSNR range both sweeps cover), its README
table, and the held-out folder it builds from the GAN recipe's split."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"


def _script():
    spec = importlib.util.spec_from_file_location("perception_distortion",
                                                  ROOT / "scripts" / "perception_distortion.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _table():
    """Two sweeps on one folder: a's NIQE falls 1 per dB from 8 at 26 dB; b's is 7 flat,
    over 26.5..28 dB, listed out of PSNR order."""
    table, kinds = {"bicubic": {"F": (25.0, 9.0)}}, {"bicubic": "baseline"}
    for i, p in enumerate([26.0, 27.0, 28.0, 29.0]):
        table[f"a alpha={i}"] = {"F": (p, 8.0 - (p - 26.0))}
        kinds[f"a alpha={i}"] = "sweep:a"
    for i, p in enumerate([28.0, 26.5, 27.25]):
        table[f"b alpha={i}"] = {"F": (p, 7.0)}
        kinds[f"b alpha={i}"] = "sweep:b"
    return table, kinds


def test_niqe_at_equal_psnr_interpolates_over_the_common_range():
    pd = _script()
    table, kinds = _table()
    rows = pd.niqe_at_equal_psnr(table, kinds, "F")
    targets = [t for t, _ in rows]
    np.testing.assert_allclose(targets, np.linspace(26.5, 28.0, 5))
    for t, at in rows:
        assert set(at) == {"a", "b"}
        assert at["a"] == pytest.approx(8.0 - (t - 26.0))
        assert at["b"] == pytest.approx(7.0)


def test_equal_psnr_markdown_rows():
    pd = _script()
    table, kinds = _table()
    text = pd.equal_psnr_markdown(table, kinds, [Path("F")])
    lines = text.splitlines()
    assert lines[0] == "| folder | PSNR (dB) | NIQE, a | NIQE, b |"
    assert lines[2] == "| F | 26.50 | 7.500 | 7.000 |"
    assert lines[-1] == "| F | 28.00 | 6.000 | 7.000 |"
    assert len(lines) == 2 + 5
    no_sweeps = {k: v for k, v in table.items() if kinds[k] == "baseline"}
    assert pd.equal_psnr_markdown(no_sweeps, kinds, [Path("F")]) == ""


@pytest.mark.skipif(not (DATASETS / "BSDS200").is_dir(), reason="../shared/datasets absent")
def test_heldout_folder_is_the_runs_validation_split(tmp_path):
    from minisr.data.dataset import list_images, split
    pd = _script()
    folder = pd.heldout_folder(DATASETS, tmp_path)
    assert folder.name == "BSDS200-heldout"
    names = sorted(p.name for p in folder.iterdir())
    train, val = split(list_images(DATASETS / "BSDS200"), 0.1, 0)
    assert names == sorted(p.name for p in val) and len(names) == 20
    assert not set(names) & {p.name for p in train}
