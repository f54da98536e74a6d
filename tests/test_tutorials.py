"""Execute every tutorial notebook top to bottom; each asserts its own claims (STYLE.md 7).

The kernel is this interpreter (``sys.executable``): a ``python3`` kernel spec pointing at it
is written to a temporary ``JUPYTER_PATH``, which Jupyter searches before the user's and the
system's kernel folders, so a stray global ``python3`` spec cannot run the notebooks in
another environment. Outputs are kept in memory only; the committed notebooks are not touched.
"""
from __future__ import annotations

import os
import pathlib
import sys
import time

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
kernelspec = pytest.importorskip("ipykernel.kernelspec")

TUTORIALS = pathlib.Path(__file__).resolve().parents[1] / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))


@pytest.fixture(scope="module")
def jupyter_path(tmp_path_factory) -> pathlib.Path:
    """A JUPYTER_PATH holding kernels/python3 whose argv starts with sys.executable."""
    root = tmp_path_factory.mktemp("jupyter")
    kernelspec.write_kernel_spec(str(root / "kernels" / "python3"))
    return root


def test_there_are_notebooks():
    # the list names exactly the notebooks that exist (issue 10).
    assert [p.name for p in NOTEBOOKS] == [
        "01_images_degradation_interpolation.ipynb", "02_measuring_quality.ipynb",
        "03_convolution_from_scratch.ipynb", "04_making_convolution_fast.ipynb",
        "05_autograd_lite.ipynb", "06_srcnn_pre_upsampling.ipynb",
        "07_learnable_upsampling.ipynb", "08_edsr.ipynb", "09_loss_functions.ipynb",
        "10_zero_shot_sr.ipynb", "11_gpu_kernels.ipynb",
        "12_perceptual_sr.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_outputs_come_from_the_committed_code(path):
    # scripts/run_tutorials.py stores the hash of the code cells it executed; editing a
    # cell without re-running the script leaves outputs that the code no longer produces.
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "run_tutorials", TUTORIALS.parent / "scripts" / "run_tutorials.py")
    run_tutorials = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_tutorials)
    nb = nbformat.read(path, as_version=4)
    recorded = nb.metadata.get("minisr", {}).get("source_sha256")
    assert recorded == run_tutorials.source_hash(nb), \
        f"{path.name}: re-run `python scripts/run_tutorials.py {path.relative_to(TUTORIALS.parent)}`"
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, jupyter_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_path) + os.pathsep
                       + os.environ.get("JUPYTER_PATH", ""))
    monkeypatch.setenv("PATH", str(pathlib.Path(sys.executable).parent) + os.pathsep
                       + os.environ.get("PATH", ""))
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                                     resources={"metadata": {"path": str(TUTORIALS)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell and traceback, on failure
    print(f"{path.name}: {time.perf_counter() - start:.1f} s")
