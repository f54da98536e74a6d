"""minisr's worker threads for the GEMM and Winograd conv paths, and BLAS on one thread.

The conv paths cut each pass into independent items (tiles of im2col columns, images, chunks
of Winograd tiles); ``for_items`` hands them to ``numba.get_num_threads()`` Python threads,
thread k taking items k, k + T, k + 2T, ... with its own scratch buffers: a fixed share, so
a sum over per-thread scratch (dL/dw) adds the same numbers in the same order every run.
Inside an item every loop is a serial Numba function compiled ``nogil=True`` and every
product a single-threaded BLAS call, so T threads keep T cores busy, and nothing spins
between passes.

Why not leave the products to OpenBLAS's own threads: after each multi-threaded call (and
after every change of its thread count) they spin for about 0.1 s, and the next pass then
shares its cores with them. On two cores a Winograd forward of 32->32 at 16x48x48 took
4.3 ms alone and 7.9-8.2 ms right after one multi-threaded product; setting the count to 1
around each pass and back after cost the same (benchmarks/README.md, "minisr's own
threads"). So importing this module sets NumPy's OpenBLAS to ONE thread for the process,
as ``minisr/__init__.py`` picks Numba's threading layer: NumPy products outside minisr then
run on one core too; ``blas_threads(n)`` gives a block of code n threads back.
(The items never call Numba ``parallel=True`` loops: the workqueue layer aborts when
two Python threads launch them at once.)
Read next: ``_conv_gemm.py``.
"""
from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numba
import numpy as np

__all__ = ["for_items", "blas_threads", "blas_get_threads"]

_POOL: list[ThreadPoolExecutor] = []
_LOCAL = threading.local()           # .worker: this thread is one of the pool's
_BLAS: list = []                     # [(set, get)] of numpy's OpenBLAS, or [None]


def _openblas():
    """ctypes (set_num_threads, get_num_threads) of the OpenBLAS that NumPy loaded, or None."""
    if not _BLAS:
        found = None
        libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
        for path in sorted(glob.glob(os.path.join(libs, "*openblas*"))):
            lib = ctypes.CDLL(path)
            for pre, suf in (("scipy_openblas", "64_"), ("scipy_openblas", ""),
                             ("openblas", "64_"), ("openblas", "")):
                set_ = getattr(lib, f"{pre}_set_num_threads{suf}", None)
                get_ = getattr(lib, f"{pre}_get_num_threads{suf}", None)
                if set_ is not None and get_ is not None:
                    set_.argtypes, get_.restype = [ctypes.c_int], ctypes.c_int
                    found = (set_, get_)
                    break
            if found:
                break
        _BLAS.append(found)
    return _BLAS[0]


def blas_get_threads() -> int | None:
    """OpenBLAS's thread count now, or None where NumPy's BLAS is not a findable OpenBLAS."""
    blas = _openblas()
    return None if blas is None else blas[1]()


@contextlib.contextmanager
def blas_threads(n: int):
    """NumPy's OpenBLAS on ``n`` threads inside the block, its old count restored after
    (a no-op where the library is not found)."""
    blas = _openblas()
    old = None if blas is None else blas[1]()
    if blas is not None and old != n:
        blas[0](n)
    try:
        yield
    finally:
        if blas is not None and old != n:
            blas[0](old)


def _pool() -> ThreadPoolExecutor:
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(numba.config.NUMBA_NUM_THREADS,
                                        thread_name_prefix="minisr-conv",
                                        initializer=lambda: setattr(_LOCAL, "worker", True)))
    return _POOL[0]


def for_items(items, body, scratch=lambda: None, threads: int | None = None) -> list:
    """``body(item, s)`` for every item, on up to ``threads`` (default
    ``numba.get_num_threads()``) threads; thread k runs items k, k + T, ... in order and owns
    one ``s = scratch()``. Returns those scratches in thread order, for reductions
    (deterministic for a given thread count).

    Items must be independent (disjoint outputs, or per-thread scratch summed afterwards).
    Called from inside an item, it runs inline on that thread.
    """
    items = list(items)
    T = min(threads or numba.get_num_threads(), len(items))
    if getattr(_LOCAL, "worker", False):
        T = 1

    def worker(k):
        s = scratch()
        for item in items[k::max(T, 1)]:
            body(item, s)
        return s

    if T <= 1:
        return [worker(0)]
    futures = [_pool().submit(worker, k) for k in range(T)]
    wait(futures)                        # all done (or failed) before anyone looks
    return [f.result() for f in futures]


if _openblas() is not None:
    _openblas()[0](1)
