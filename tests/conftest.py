"""Test setup: run numba.cuda kernels in the simulator unless the caller says otherwise.

The variable must be set before numba is first imported (STYLE.md section 6); export
NUMBA_ENABLE_CUDASIM=0 on a machine with a GPU.
"""
import os
import pathlib

os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

# ../shared/datasets beside the checkout, or wherever MINISR_DATASETS points (a clone made
# elsewhere, e.g. a CI temp dir).
DATASETS = pathlib.Path(os.environ.get(
    "MINISR_DATASETS",
    pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "datasets"))


@pytest.fixture
def rng():
    """A seeded generator per test."""
    return np.random.default_rng(0)


@pytest.fixture
def datasets():
    """Path of the T91/Set5/Set14 folder; the test is skipped when it is absent."""
    if not DATASETS.is_dir():
        pytest.skip(f"datasets not found at {DATASETS}")
    return DATASETS
