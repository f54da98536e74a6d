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


@pytest.fixture(autouse=True)
def _seeded_init():
    """Every test starts nn.init's shared generator from seed 0, so a model's initial
    weights do not depend on which tests ran before it (the overfit test of srcnn-955 went
    from 21,772x with seed 0 to 2.8x with seed 1, failing only in some test orders)."""
    from minisr.nn import init
    init.seed(0)


@pytest.fixture
def rng():
    """A seeded generator per test."""
    return np.random.default_rng(0)


def require_datasets(*names: str) -> pathlib.Path:
    """DATASETS, once it holds each of ``names`` (default: T91, Set5 and Set14).

    When something is missing the calling test is skipped, except under CI (``CI=true``, set
    by CI services and by ``.ci/run``), where ``../shared`` is always present: there a
    missing dataset means the paper-table tests would silently not run, so the test fails.
    """
    names = names or ("T91", "Set5", "Set14")
    missing = [n for n in names if not (DATASETS / n).exists()]
    if missing:
        why = (f"datasets not found: {', '.join(missing)} under {DATASETS} "
               f"(set MINISR_DATASETS to their folder)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(why + "; under CI they must be present", pytrace=False)
        pytest.skip(why)
    return DATASETS


@pytest.fixture
def datasets():
    """Path of the T91/Set5/Set14 folder; see :func:`require_datasets` when it is absent."""
    return require_datasets()
