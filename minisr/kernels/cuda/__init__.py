"""numba.cuda kernels: the ``cuda`` table, one file per op family with the CPU side's names.

Imported only by ``backend.get_backend('cuda')`` (importing numba.cuda costs time and needs
numba-cuda: ``pip install minisr[cuda]`` for the simulator, ``[cuda12]``/``[cuda13]`` for a
GPU). Every kernel is a gather: one thread per output element, bounds-checked right after
``cuda.grid``, no atomics, so results are deterministic. Wrappers take and return device
arrays (C-contiguous); only ``backend.to_device`` copies between host and device.
Read first: ``_launch.py``, then ``conv2d.py``.
"""
