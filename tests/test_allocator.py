"""``import minisr`` keeps freed memory in glibc's heap: training steps stop page-faulting.

minisr/__init__.py raises glibc's mmap threshold to 32 MiB and its trim threshold to 1 GiB
(``mallopt``), unless the user set any ``MALLOC_*`` variable or ``GLIBC_TUNABLES``. The test
runs ``benchmarks/bench_allocator.py``'s ESPCN x3 training steps in two fresh interpreters,
with the tuning and with it switched off by a harmless ``MALLOC_PERTURB_=0``, and counts
their minor page faults.
"""
import importlib.util
import pathlib
import platform

import pytest

_BENCH = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "bench_allocator.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_allocator", _BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                    reason="the tuning is glibc's mallopt")
def test_training_steps_stop_page_faulting():
    bench = _bench()
    untuned = bench.run("espcn", 3, repeats=3, tuned=False)["faults"]
    tuned = bench.run("espcn", 3, repeats=3, tuned=True)["faults"]
    # measured here: ~4,150-4,660 faults per step untuned, 0 tuned
    assert untuned > 1000, f"untuned steps fault only {untuned:.0f} times: nothing to compare"
    assert tuned < 0.02 * untuned, (tuned, untuned)
