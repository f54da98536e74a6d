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


# Every training step allocates the same large arrays (activations, gradients, conv scratch)
# and frees them again. glibc serves blocks above its mmap threshold with fresh pages, which
# fault in zeroed by the kernel on first write, and unmaps them on free (a TLB shootdown on
# every core); its threshold only rises as far as the largest block freed so far, and a
# heap top over 128 KiB is trimmed back to the kernel. Serving blocks up to 32 MiB (glibc's
# maximum) from the heap and keeping up to 1 GiB of freed memory took a training step
# (16 x 48x48, 2 threads) of SRCNN x3 from 30.0-36.9 to 24.2-25.1 ms, FSRCNN 71.6-76.0 to
# 58.1-59.5, ESPCN 51.8-61.3 to 43.4-45.2 and EDSR-small x2 367.9-368.9 to 356.0-361.1
# (minor page faults per step 2,831-8,739 -> 0-148; peak RSS -1 to +4 MB;
# benchmarks/bench_allocator.py, benchmarks/README.md "Page faults").
# Process-wide, like PyTorch's caching allocator; glibc only. Any MALLOC_*_ or
# GLIBC_TUNABLES setting from the user wins.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3      # mallopt parameters, glibc's malloc.h
if not any(k.startswith("MALLOC_") or k == "GLIBC_TUNABLES" for k in _os.environ):
    try:
        import ctypes as _ctypes

        _mallopt = _ctypes.CDLL("libc.so.6").mallopt
        _mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        _mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    except (OSError, AttributeError):              # not glibc: leave its allocator alone
        pass


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
