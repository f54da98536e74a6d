"""minisr: single-image super-resolution from scratch on NumPy and Numba.

Read in this order: ``kernels/`` (the math and its loops) -> ``ops/`` (autograd) ->
``nn/`` (modules) -> ``models/``. Image science (resizing, colour, metrics) lives in
``image/`` and ``metrics/`` and never depends on the training stack.
"""
import os

__version__ = "0.1.0"

# Numba's default OpenMP threading layer keeps its threads spinning after every parallel
# loop, and OpenBLAS's threads spin after every matmul; on a 2-core machine the two pools
# then steal each other's cores. The workqueue layer sleeps between loops: a training step
# of an 8-block EDSR-shaped net took 1.33 / 1.35 / 1.45 s with OpenMP and 1.18 / 1.27 /
# 1.30 s with workqueue, runs alternated (benchmarks/README.md, "Threading"). An explicit
# NUMBA_THREADING_LAYER from the user wins. (workqueue does not support launching
# parallel kernels from several Python threads at once.)
if "NUMBA_THREADING_LAYER" not in os.environ:
    import numba

    numba.config.THREADING_LAYER = "workqueue"
