"""minisr: single-image super-resolution from scratch on NumPy and Numba.

Read in this order: ``kernels/`` (the math and its loops) -> ``backend.py``, ``autograd.py``
and ``ops/`` (autograd) -> ``nn/`` and ``optim.py`` -> ``models/`` -> ``train.py``,
``inference.py`` and ``evaluate.py``. Image science (``image/``: io, colour, resizing,
degradations; ``metrics/``: PSNR, SSIM) never depends on the training stack. ``data/``
fetches and samples the datasets, ``testing.py`` holds gradcheck, ``cli.py`` is the
``minisr`` command. Submodules load on first use (PEP 562), so after ``import minisr``,
``minisr.backend.use_backend("ref")`` works without importing ``minisr.backend`` first.
"""
import importlib as _importlib
import os as _os
import pkgutil as _pkgutil

__version__ = "0.1.0"


# Numba's default OpenMP threading layer keeps its threads spinning after every parallel
# loop, and OpenBLAS's threads spin after every matmul; on a 2-core machine the two pools
# then steal each other's cores. The workqueue layer sleeps between loops: a training step
# of an 8-block EDSR-shaped net took 1.33 / 1.35 / 1.45 s with OpenMP and 1.18 / 1.27 /
# 1.30 s with workqueue, runs alternated (benchmarks/README.md, "Threading"). An explicit
# NUMBA_THREADING_LAYER from the user wins. (workqueue does not support launching
# parallel kernels from several Python threads at once.)
if "NUMBA_THREADING_LAYER" not in _os.environ:
    import numba as _numba

    _numba.config.THREADING_LAYER = "workqueue"


# The two calls most users need, loaded on first use like the submodules:
# ``minisr.upscale(img, scale=3, model="espcn")`` and ``minisr.load_pretrained(name, scale)``.
_API = {"upscale": "minisr.inference", "load_pretrained": "minisr.models"}


def __getattr__(name: str):
    """``minisr.upscale`` / ``minisr.load_pretrained``, and ``minisr.<submodule>``, which
    imports that submodule on first access."""
    if name in _API:
        value = getattr(_importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    if not name.startswith("_"):
        try:
            return _importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":  # a missing dependency, not a missing module
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API) |
                  {m.name for m in _pkgutil.iter_modules(__path__)})
