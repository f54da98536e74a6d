"""ESPCN (Shi et al., CVPR 2016): convolutions in LR space and a sub-pixel shuffle.

All three convolutions run on the LR image; the last produces ``r^2`` channels that
``pixel_shuffle`` rearranges into the HR image, so the cost is ``r^2`` times lower than
SRCNN's. Read next: ``edsr.py``.
"""
from __future__ import annotations

from minisr.autograd import Tensor
from minisr.nn import Conv2d, Module, PixelShuffle, Tanh
from minisr.ops.resize import upsample_bicubic


class ESPCN(Module):
    """ESPCN 5-3-3 with 64 and 32 feature maps and tanh, as in the paper.

    ::

        LR Y (N, 1, h, w)
          conv1  5x5, 1 -> 64, tanh             (N, 64, h, w)
          conv2  3x3, 64 -> 32, tanh            (N, 32, h, w)
          conv3  3x3, 32 -> r^2                 (N, r^2, h, w)
          pixel_shuffle(r)                      (N, 1, r h, r w)

    Parameters with biases: x2 21,284, x3 22,729, x4 24,752.

    With ``residual=True`` the network learns only what bicubic misses: the output is
    ``pixel_shuffle(conv3(...)) + upsample_bicubic(x, scale)`` (``ops.resize``), the same weights and state_dict, and the PyTorch
    equivalent adds MATLAB-style bicubic the same way (not ``F.interpolate``, whose cubic
    differs).

    Equivalent PyTorch module (same state_dict names and layouts)::

        class ESPCN(torch.nn.Module):
            def __init__(self, scale):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 64, 5, padding=2)
                self.conv2 = nn.Conv2d(64, 32, 3, padding=1)
                self.conv3 = nn.Conv2d(32, scale * scale, 3, padding=1)
                self.pixel_shuffle = nn.PixelShuffle(scale)
            def forward(self, x):
                x = torch.tanh(self.conv2(torch.tanh(self.conv1(x))))
                return self.pixel_shuffle(self.conv3(x))

    Shape:
        x: (N, 1, h, w) LR Y in [0, 1]    y: (N, 1, h * scale, w * scale)

    References:
        W. Shi et al., "Real-Time Single Image and Video Super-Resolution Using an
        Efficient Sub-Pixel Convolutional Neural Network", CVPR 2016.
    """

    colour = "y"
    pre_upsampled = False

    def __init__(self, scale: int = 3, num_features=(64, 32), residual: bool = False):
        n1, n2 = num_features
        self.scale, self.residual = scale, residual
        self.conv1 = Conv2d(1, n1, 5, padding=2)
        self.conv2 = Conv2d(n1, n2, 3, padding=1)
        self.conv3 = Conv2d(n2, scale * scale, 3, padding=1)
        self.pixel_shuffle = PixelShuffle(scale)
        self.tanh = Tanh()
        self.receptive_radius = 2 + 1 + 1  # LR pixels (bicubic's reach, 2, is less)

    def forward(self, x: Tensor) -> Tensor:
        y = self.pixel_shuffle(self.conv3(self.tanh(self.conv2(self.tanh(self.conv1(x))))))
        return y + upsample_bicubic(x, self.scale) if self.residual else y


__all__ = ["ESPCN"]
