"""Pieces shared by the models: the sub-pixel upsampler and EDSR's mean shift.

BasicSR's ``arch_util`` kept small. ``Upsampler`` follows EDSR: a 3x3 conv to ``r^2 C``
channels and a pixel shuffle per x2 stage (x4 = two x2 stages), or one x3 stage.
The residual block itself is ``minisr.nn.ResidualBlock``.
"""
from __future__ import annotations

import numpy as np

from minisr.autograd import Tensor
from minisr.nn import Conv2d, Module, PixelShuffle, Sequential

# DIV2K's RGB mean, as EDSR and BasicSR subtract it (in [0, 1]).
DIV2K_RGB_MEAN = (0.4488, 0.4371, 0.4040)


def upsampler_stages(scale: int) -> list[int]:
    """The pixel-shuffle factors that make up ``scale``: 2 -> [2], 3 -> [3], 4 -> [2, 2]."""
    if scale == 3:
        return [3]
    if scale >= 2 and scale & (scale - 1) == 0:
        return [2] * (scale.bit_length() - 1)
    raise ValueError(f"upsampler: scale must be 2, 3, 4 or a power of 2, got {scale}")


class Upsampler(Sequential):
    """conv 3x3 (C -> r^2 C) + PixelShuffle(r) per stage, as EDSR's / BasicSR's ``Upsample``.

    Children are named ``0, 1, 2, 3`` (conv, shuffle, conv, shuffle), as in PyTorch's
    ``nn.Sequential``, so weight names match BasicSR's ``upsample.0.weight``.

    Shape:
        x: (N, C, H, W)    y: (N, C, H * scale, W * scale)
    """

    def __init__(self, scale: int, num_features: int):
        layers = []
        for r in upsampler_stages(scale):
            layers += [Conv2d(num_features, r * r * num_features, 3, padding=1),
                       PixelShuffle(r)]
        super().__init__(*layers)


class MeanShift(Module):
    """y = x + sign * mean (per RGB channel); a constant, not a parameter.

    BasicSR keeps the mean as a plain tensor, not a parameter, so it is not in the
    state_dict; EDSR's original code holds it in a frozen 1x1 conv.
    """

    def __init__(self, mean=DIV2K_RGB_MEAN, sign: float = -1.0):
        self._shift = np.asarray(mean, dtype=np.float32).reshape(1, -1, 1, 1) * sign

    def forward(self, x: Tensor) -> Tensor:
        return x + Tensor(self._shift.astype(x.dtype))


__all__ = ["DIV2K_RGB_MEAN", "MeanShift", "Upsampler", "upsampler_stages"]
