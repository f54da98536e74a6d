"""FSRCNN (Dong, Loy, Tang, ECCV 2016): SRCNN made fast by upsampling at the end.

The network works on the LR Y channel, shrinks the features before the mapping, and a
9x9 transposed convolution with stride ``scale`` produces the HR output. Only that last
layer depends on the scale, so x2/x4 are fine-tuned from the x3 model's other layers.
Read next: ``espcn.py`` (the same place, with a sub-pixel shuffle instead).
"""
from __future__ import annotations

from minisr.autograd import Tensor
from minisr.nn import Conv2d, ConvTranspose2d, Module, PReLU, Sequential
from minisr.ops.resize import upsample_bicubic


class FSRCNN(Module):
    """FSRCNN(d, s, m): (56, 12, 4) is FSRCNN, (32, 5, 1) is FSRCNN-s.

    ::

        LR Y (N, 1, h, w)
          feature_extraction  conv 5x5, 1 -> d, PReLU          (N, d, h, w)
          shrinking           conv 1x1, d -> s, PReLU          (N, s, h, w)
          mapping             m x [conv 3x3, s -> s, PReLU]    (N, s, h, w)
          expanding           conv 1x1, s -> d, PReLU          (N, d, h, w)
          deconv              convT 9x9, d -> 1, stride n,     (N, 1, n h, n w)
                              padding 4, output_padding n - 1

    PReLU has one slope per channel. Weights only: FSRCNN 12,464, FSRCNN-s 3,937.

    With ``residual=True`` the network learns only what bicubic misses: the output is
    ``deconv(...) + upsample_bicubic(x, scale)`` (``ops.resize``), the same weights and state_dict, and the PyTorch
    equivalent adds MATLAB-style bicubic the same way (not ``F.interpolate``, whose cubic
    differs).

    Equivalent PyTorch module (same state_dict names and layouts)::

        def block(c_in, c_out, k):
            return nn.Sequential(nn.Conv2d(c_in, c_out, k, padding=k // 2), nn.PReLU(c_out))
        class FSRCNN(torch.nn.Module):
            def __init__(self, scale, d=56, s=12, m=4):
                super().__init__()
                self.feature_extraction = block(1, d, 5)
                self.shrinking = block(d, s, 1)
                self.mapping = nn.Sequential(*[block(s, s, 3) for _ in range(m)])
                self.expanding = block(s, d, 1)
                self.deconv = nn.ConvTranspose2d(d, 1, 9, stride=scale, padding=4,
                                                 output_padding=scale - 1)
            def forward(self, x):
                x = self.expanding(self.mapping(self.shrinking(self.feature_extraction(x))))
                return self.deconv(x)

    Shape:
        x: (N, 1, h, w) LR Y in [0, 1]    y: (N, 1, h * scale, w * scale)

    References:
        C. Dong, C. C. Loy, X. Tang, "Accelerating the Super-Resolution Convolutional
        Neural Network", ECCV 2016.
    """

    colour = "y"
    pre_upsampled = False

    def __init__(self, scale: int = 3, d: int = 56, s: int = 12, m: int = 4,
                 residual: bool = False):
        self.scale, self.d, self.s, self.m, self.residual = scale, d, s, m, residual
        self.feature_extraction = _conv_prelu(1, d, 5)
        self.shrinking = _conv_prelu(d, s, 1)
        self.mapping = Sequential(*[_conv_prelu(s, s, 3) for _ in range(m)])
        self.expanding = _conv_prelu(s, d, 1)
        self.deconv = ConvTranspose2d(d, 1, 9, stride=scale, padding=4,
                                      output_padding=scale - 1)
        # LR pixels: 2 (5x5) + m (3x3s) + the deconv's reach, ceil(4 / scale) + 1
        self.receptive_radius = 2 + m + (4 + scale - 1) // scale + 1

    def forward(self, x: Tensor) -> Tensor:
        y = self.expanding(self.mapping(self.shrinking(self.feature_extraction(x))))
        y = self.deconv(y)
        return y + upsample_bicubic(x, self.scale) if self.residual else y


def _conv_prelu(c_in: int, c_out: int, k: int) -> Sequential:
    return Sequential(Conv2d(c_in, c_out, k, padding=k // 2), PReLU(c_out))


__all__ = ["FSRCNN"]
