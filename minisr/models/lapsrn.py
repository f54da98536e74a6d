"""LapSRN (Lai, Huang, Ahuja, Yang, CVPR 2017): progressive upsampling, a Laplacian pyramid.

Instead of one jump to the target size, the network climbs a pyramid of x2 steps. At every
level a feature branch (d conv layers, then a 4x4 stride-2 transposed conv) predicts the
level's high-frequency residual, and an image branch upsamples the previous level's image
with its own transposed conv (started as bilinear) and adds that residual. Every level is
an output, supervised by its own Charbonnier loss against the HR image downscaled to that
size, so one network gives x2, x4 and x8. Read next: ``edsr.py`` (one jump, at the end).
"""
from __future__ import annotations

import math

import numpy as np

from minisr.autograd import Tensor
from minisr.nn import Conv2d, ConvTranspose2d, LeakyReLU, Module, Parameter, Sequential

LEVEL_SCALES = (2, 4, 8)


class LapSRNLevel(Module):
    """One x2 step of the pyramid.

    ::

        features f (N, F, h, w)
          features   d x [conv 3x3, F -> F, LeakyReLU(0.2)],
                     convT 4x4 stride 2 pad 1, F -> F, LeakyReLU(0.2)   -> f' (N, F, 2h, 2w)
          residual   conv 3x3, F -> 1 on f'                            -> r  (N, 1, 2h, 2w)
        image i (N, 1, h, w)
          upsample   convT 4x4 stride 2 pad 1, 1 -> 1, no bias (bilinear at init)
                                                                       -> i' = up(i) + r
    """

    def __init__(self, num_features: int, depth: int):
        layers = []
        for _ in range(depth):
            layers += [Conv2d(num_features, num_features, 3, padding=1), LeakyReLU(0.2)]
        layers += [ConvTranspose2d(num_features, num_features, 4, stride=2, padding=1),
                   LeakyReLU(0.2)]
        self.features = Sequential(*layers)
        self.residual = Conv2d(num_features, 1, 3, padding=1)
        self.upsample = ConvTranspose2d(1, 1, 4, stride=2, padding=1, bias=False)
        self.upsample.weight = Parameter(bilinear_kernel(4)[None, None])

    def forward(self, f: Tensor, img: Tensor) -> tuple[Tensor, Tensor]:
        f = self.features(f)
        return f, self.upsample(img) + self.residual(f)


class LapSRN(Module):
    """LapSRN with ``depth`` conv layers of ``num_features`` channels per level, three
    levels (x2, x4, x8); ``scale`` picks which level's image ``forward`` returns.

    ::

        LR Y (N, 1, h, w)
          conv_input   conv 3x3, 1 -> F, LeakyReLU(0.2)           f0 (N, F, h, w)
          levels.0     LapSRNLevel(f0, x)        -> f1, x2 image  (N, 1, 2h, 2w)
          levels.1     LapSRNLevel(f1, x2 image) -> f2, x4 image  (N, 1, 4h, 4w)
          levels.2     LapSRNLevel(f2, x4 image) -> f3, x8 image  (N, 1, 8h, 8w)

    The paper's network is d = 10, F = 64 (0.81 M parameters for x8); minisr's ``lapsrn``
    keeps d = 10 at half the width, F = 32, what trains on two CPU cores. Every scale is the same weights: a x2
    model simply stops after ``levels.0`` (its unused levels stay in the state_dict, so
    one weight file serves x2, x4 and x8). The image branch already adds a residual to an
    upsampled image, so ``residual=True`` (over bicubic) is refused.

    Equivalent PyTorch module (same state_dict names and layouts)::

        class Level(nn.Module):
            def __init__(self, F, d):
                super().__init__()
                layers = []
                for _ in range(d):
                    layers += [nn.Conv2d(F, F, 3, padding=1), nn.LeakyReLU(0.2)]
                layers += [nn.ConvTranspose2d(F, F, 4, 2, 1), nn.LeakyReLU(0.2)]
                self.features = nn.Sequential(*layers)
                self.residual = nn.Conv2d(F, 1, 3, padding=1)
                self.upsample = nn.ConvTranspose2d(1, 1, 4, 2, 1, bias=False)
            def forward(self, f, img):
                f = self.features(f)
                return f, self.upsample(img) + self.residual(f)
        class LapSRN(nn.Module):
            def __init__(self, scale, F=32, d=10):
                super().__init__()
                self.scale = scale
                self.conv_input = nn.Conv2d(1, F, 3, padding=1)
                self.act = nn.LeakyReLU(0.2)
                self.levels = nn.Sequential(*[Level(F, d) for _ in range(3)])
            def forward(self, x):
                f, img = self.act(self.conv_input(x)), x
                for level in list(self.levels)[:int(math.log2(self.scale))]:
                    f, img = level(f, img)
                return img

    Shape:
        x: (N, 1, h, w) LR Y in [0, 1]    y: (N, 1, h * scale, w * scale)

    References:
        W.-S. Lai, J.-B. Huang, N. Ahuja, M.-H. Yang, "Deep Laplacian Pyramid Networks for
        Fast and Accurate Super-Resolution", CVPR 2017.
    """

    colour = "y"
    pre_upsampled = False

    def __init__(self, scale: int = 8, num_features: int = 32, depth: int = 10,
                 residual: bool = False):
        if scale not in LEVEL_SCALES:
            raise ValueError(f"LapSRN: scale must be one of {LEVEL_SCALES}, got {scale!r}")
        if residual:
            raise ValueError("LapSRN: residual=True is not supported (the image branch "
                             "already adds a residual to an upsampled image)")
        self.scale, self.residual = scale, False
        self.num_features, self.depth = num_features, depth
        self.conv_input = Conv2d(1, num_features, 3, padding=1)
        self.act = LeakyReLU(0.2)
        self.levels = Sequential(*[LapSRNLevel(num_features, depth)
                                   for _ in LEVEL_SCALES])

    @property
    def receptive_radius(self) -> int:
        """In LR pixels, rounded up: conv_input 1; at level l (2^(l-1) times the LR size)
        the d convs and the stride-2 transposed conv reach (d + 1) / 2^(l-1); the last
        residual conv 1 / 2^L. The image branch reaches less."""
        levels = int(math.log2(self.scale))
        r = 1 + sum((self.depth + 1) / 2 ** (level - 1) for level in range(1, levels + 1))
        return math.ceil(r + 1 / 2 ** levels)

    def pyramid(self, x: Tensor) -> list[Tensor]:
        """The image of every level up to ``scale``: [x2, x4, ...] (the training targets'
        sizes)."""
        f, img, out = self.act(self.conv_input(x)), x, []
        for i in range(int(math.log2(self.scale))):
            f, img = self.levels[i](f, img)
            out.append(img)
        return out

    def forward(self, x: Tensor) -> Tensor:
        return self.pyramid(x)[-1]

    @property
    def output_scales(self) -> tuple[int, ...]:
        """The scale of each ``pyramid`` output: (2, 4, 8) for ``scale`` 8."""
        return LEVEL_SCALES[:int(math.log2(self.scale))]

    def at_scale(self, scale: int) -> "LapSRN":
        """The same network (shared weights) stopping at the level of ``scale``."""
        if scale not in LEVEL_SCALES:
            raise ValueError(f"LapSRN: scale must be one of {LEVEL_SCALES}, got {scale!r}")
        view = object.__new__(LapSRN)
        vars(view).update(vars(self))
        view.scale = scale
        return view


def bilinear_kernel(k: int) -> np.ndarray:
    """The k x k bilinear upsampling filter (k = 2 x stride), e.g. k = 4: the outer product
    of [1, 3, 3, 1] / 4: as a stride-2 transposed conv with padding 1 it interpolates
    linearly between pixel centres (the outermost output rows and columns lack their
    outside neighbour's quarter; the residual branch learns the rest)."""
    factor = (k + 1) // 2
    centre = factor - 1 if k % 2 == 1 else factor - 0.5
    t = 1 - np.abs(np.arange(k) - centre) / factor
    return np.outer(t, t).astype(np.float32)


__all__ = ["LEVEL_SCALES", "LapSRN", "LapSRNLevel", "bilinear_kernel"]
