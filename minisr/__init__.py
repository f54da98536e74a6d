"""minisr: single-image super-resolution from scratch on NumPy and Numba.

Read in this order: ``kernels/`` (the math and its loops) -> ``ops/`` (autograd) ->
``nn/`` (modules) -> ``models/``. Image science (resizing, colour, metrics) lives in
``image/`` and ``metrics/`` and never depends on the training stack.
"""

__version__ = "0.1.0"
