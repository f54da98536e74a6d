"""Weight initialisers: Kaiming/He (He et al., ICCV 2015), normal(std), zeros.

All draw from one module-level generator so ``seed(n)`` makes a model's initial weights
reproducible (``minisr train --seed``); each function also accepts its own ``rng``.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["seed", "fan_in_out", "kaiming_normal", "kaiming_uniform", "normal", "zeros"]

_rng = np.random.default_rng(0)


def seed(n: int) -> None:
    """Reset the generator every initialiser draws from by default."""
    global _rng
    _rng = np.random.default_rng(n)


def fan_in_out(shape: tuple) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: (C_in * KH * KW, C_out * KH * KW) for conv2d's
    (C_out, C_in, KH, KW) layout."""
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def kaiming_normal(shape, mode: str = "fan_in", gain: float = math.sqrt(2.0), rng=None,
                   dtype=np.float32) -> np.ndarray:
    """N(0, std^2) with std = gain / sqrt(fan), He et al.'s rule for ReLU networks."""
    fan_in, fan_out = fan_in_out(tuple(shape))
    std = gain / math.sqrt(fan_in if mode == "fan_in" else fan_out)
    return normal(shape, std, rng=rng, dtype=dtype)


def kaiming_uniform(shape, fan_in: int | None = None, rng=None,
                    dtype=np.float32) -> np.ndarray:
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for conv weights and biases
    (kaiming_uniform with a = sqrt(5) reduces to this bound)."""
    fan = fan_in if fan_in is not None else fan_in_out(tuple(shape))[0]
    bound = 1.0 / math.sqrt(fan)
    return (rng or _rng).uniform(-bound, bound, size=shape).astype(dtype)


def normal(shape, std: float, mean: float = 0.0, rng=None, dtype=np.float32) -> np.ndarray:
    """N(mean, std^2) (SRCNN and FSRCNN initialise with std 0.001 / Gaussian rules)."""
    return (rng or _rng).normal(mean, std, size=shape).astype(dtype)


def zeros(shape, dtype=np.float32) -> np.ndarray:
    """All zeros (biases)."""
    return np.zeros(shape, dtype=dtype)
