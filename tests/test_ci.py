"""CI runs every test it can: dataset tests fail rather than skip there, and skips are listed."""
import pathlib

import pytest

from tests import conftest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_missing_datasets_skip_locally_and_fail_under_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "DATASETS", tmp_path)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Set5"):
        conftest.require_datasets("Set5")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Set5.*under CI they must be present"):
        conftest.require_datasets("Set5")
    for name in ("T91", "Set5", "Set14"):
        (tmp_path / name).mkdir()
    with pytest.raises(pytest.fail.Exception, match="SOURCES.tsv"):
        conftest.require_datasets("Set5", "SOURCES.tsv")   # one missing piece is enough
    assert conftest.require_datasets() == tmp_path == conftest.require_datasets("Set14")


def test_ci_script_fails_dataset_skips_and_lists_skips():
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    tests = [k for k, line in enumerate(lines) if line.startswith("python -m pytest")]
    assert tests and all("-rs" in lines[k].split() for k in tests)
    assert "export CI=true" in lines[:tests[0]]
