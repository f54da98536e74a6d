"""Primitive tables: the same names, implemented by ``ref`` (readable), ``cpu`` (Numba) or
``cuda`` (numba.cuda kernels in ``kernels/cuda/``).

Autograd Functions call ``ctx.backend.conv2d_forward(...)`` and never know which table
they got. A table is built by collecting every ``<name>_<impl>`` function of the kernel
modules, so adding a primitive to ``kernels/`` is all it takes to expose it. The table is
chosen from where the data lives: NumPy arrays -> ``cpu`` (or the ``use_backend`` choice,
e.g. ``ref``), numba CUDA device arrays -> ``cuda``. ``kernels/cuda`` (and numba.cuda) is
imported only when the cuda table is first asked for. ``to_device`` is the one place data
crosses between host and device. Read next: ``autograd.py``.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import threading
from types import SimpleNamespace

__all__ = ["KERNEL_MODULES", "IMPLS", "DEVICES", "get_backend", "primitive_names",
           "current_backend_name", "backend_for", "use_backend", "is_device_array", "device_of",
           "cuda_available", "to_device"]

KERNEL_MODULES = ("conv2d", "conv_transpose2d", "pixel_shuffle", "activation",
                  "elementwise", "reduce", "shape", "matmul", "optim", "resize", "norm", "pool",
                  "upsample")
IMPLS = ("ref", "cpu", "cuda")
DEVICES = ("cpu", "cuda")

_tables: dict[str, SimpleNamespace] = {}
_state = threading.local()


def cuda_available() -> bool:
    """True when numba.cuda can run kernels: a GPU with a driver, or the simulator
    (the environment variable NUMBA_ENABLE_CUDASIM set to 1). False without numba-cuda."""
    try:
        from numba import cuda
    except ImportError:  # pragma: no cover - numba without its cuda target
        return False
    try:
        return bool(cuda.is_available())
    except Exception:  # noqa: BLE001 - a broken driver install reads as "no GPU"
        return False


def _require_cuda() -> None:
    if not cuda_available():
        sim = os.environ.get("NUMBA_ENABLE_CUDASIM", "0")
        raise RuntimeError(f"backend: cuda was requested but numba.cuda finds no GPU "
                           f"(NUMBA_ENABLE_CUDASIM={sim}); install minisr[cuda12] or "
                           f"minisr[cuda13] on a GPU machine, or set NUMBA_ENABLE_CUDASIM=1")


def get_backend(name: str) -> SimpleNamespace:
    """The primitive table ``name`` ('ref', 'cpu' or 'cuda'), built on first use."""
    if name not in IMPLS:
        raise ValueError(f"backend: unknown backend {name!r}; choose from {IMPLS}")
    if name not in _tables:
        if name == "cuda":
            _require_cuda()
        suffix = "_" + name
        package = "minisr.kernels.cuda" if name == "cuda" else "minisr.kernels"
        table = SimpleNamespace(name=name)
        for mod_name in KERNEL_MODULES:
            mod = importlib.import_module(f"{package}.{mod_name}")
            for attr in dir(mod):
                if attr.endswith(suffix) and not attr.startswith("_"):
                    setattr(table, attr[: -len(suffix)], getattr(mod, attr))
        _tables[name] = table
    return _tables[name]


def primitive_names(name: str) -> set[str]:
    """Names of the primitives a backend table exposes (all tables expose the same set)."""
    return {k for k in vars(get_backend(name)) if k != "name"}


def current_backend_name() -> str:
    """The table selected by the innermost ``use_backend`` block, or 'cpu'."""
    return getattr(_state, "name", "cpu")


def is_device_array(array) -> bool:
    """True for a numba CUDA device array (real or simulated), without importing numba.cuda."""
    return hasattr(array, "copy_to_host")


def device_of(array) -> str:
    """'cuda' for a device array, 'cpu' for anything else (NumPy arrays, scalars)."""
    return "cuda" if is_device_array(array) else "cpu"


def backend_for(array) -> SimpleNamespace:
    """The table for an array: 'cuda' for device arrays; for NumPy arrays the
    ``use_backend`` choice ('cpu' by default, 'ref' in tests and notebooks)."""
    if is_device_array(array):
        return get_backend("cuda")
    name = current_backend_name()
    if name == "cuda":
        raise RuntimeError("backend: use_backend('cuda') cannot run NumPy data; move it "
                           "with Tensor.to('cuda') or Module.to('cuda')")
    return get_backend(name)


def to_device(array, device: str):
    """``array`` on ``device`` ('cpu': a NumPy array, 'cuda': a device array); the same
    object when it is already there. The only host <-> device copy in minisr.

    Shape:
        array: any    returns: the same shape and dtype
    """
    if device not in DEVICES:
        raise ValueError(f"to: unknown device {device!r}; choose from {DEVICES}")
    if device_of(array) == device:
        return array
    if device == "cpu":
        return array.copy_to_host()
    _require_cuda()
    from numba import cuda
    import numpy as np
    return cuda.to_device(np.ascontiguousarray(array))


@contextlib.contextmanager
def use_backend(name: str):
    """Run a block with another table, e.g. ``with use_backend('ref'):`` to use the
    readable loops (tests, notebooks)."""
    get_backend(name)
    previous = current_backend_name()
    _state.name = name
    try:
        yield
    finally:
        _state.name = previous
