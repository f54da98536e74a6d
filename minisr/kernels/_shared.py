"""Scalar ``@njit`` helpers called by CPU loops and, later, by CUDA kernels.

One definition of each piece of scalar math (the cubic interpolation weight, the SSIM
term, ...) keeps the CPU and GPU paths from drifting apart.
"""
from __future__ import annotations

from numba import njit  # noqa: F401  (used by the helpers below)
