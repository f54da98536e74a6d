"""Primitive tables: the same names, implemented by ``ref`` (readable), ``cpu`` (Numba) or
``cuda`` (numba.cuda, added by a later milestone).

Autograd Functions call ``ctx.backend.conv2d_forward(...)`` and never know which table
they got. A table is built by collecting every ``<name>_<impl>`` function of the kernel
modules, so adding a primitive to ``kernels/`` is all it takes to expose it. The table is
chosen from the array type (NumPy arrays -> ``cpu``), unless ``use_backend`` overrides it.
Read next: ``autograd.py``.
"""
from __future__ import annotations

import contextlib
import importlib
import threading
from types import SimpleNamespace

__all__ = ["KERNEL_MODULES", "IMPLS", "get_backend", "primitive_names", "current_backend_name",
           "backend_for", "use_backend"]

KERNEL_MODULES = ("conv2d", "conv_transpose2d", "pixel_shuffle", "activation",
                  "elementwise", "reduce", "shape", "matmul", "optim")
IMPLS = ("ref", "cpu")

_tables: dict[str, SimpleNamespace] = {}
_state = threading.local()


def get_backend(name: str) -> SimpleNamespace:
    """The primitive table ``name`` ('ref' or 'cpu'), built on first use."""
    if name not in IMPLS:
        raise ValueError(f"backend: unknown backend {name!r}; choose from {IMPLS}")
    if name not in _tables:
        suffix = "_" + name
        table = SimpleNamespace(name=name)
        for mod_name in KERNEL_MODULES:
            mod = importlib.import_module(f"minisr.kernels.{mod_name}")
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


def backend_for(array) -> SimpleNamespace:
    """The table for an array: the ``use_backend`` choice for NumPy arrays."""
    return get_backend(current_backend_name())


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
