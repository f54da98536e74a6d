"""Layers: Conv2d, ConvTranspose2d, PixelShuffle, MaxPool2d, Upsample, activations, and
EDSR's ResidualBlock.

Each layer owns its Parameters and calls one op from ``ops/``; argument names and
defaults follow PyTorch's so a reader can compare. Weights start from PyTorch's default
rule (uniform in +-1/sqrt(fan_in)); models re-initialise as their papers say.
Read next: ``nn/losses.py``, then ``models/``.
"""
from __future__ import annotations

import numpy as np

from minisr.autograd import Tensor
from minisr.nn import init
from minisr.nn.module import Module, Parameter, Sequential
from minisr.ops import functional as F


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


class Conv2d(Module):
    """2-D convolution layer (cross-correlation), as ``torch.nn.Conv2d``.

    Shape:
        x: (N, in_channels, H, W)    y: (N, out_channels, H_out, W_out)
        weight: (out_channels, in_channels / groups, KH, KW)    bias: (out_channels,)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1,
                 padding=0, dilation=1, groups: int = 1, bias: bool = True):
        kh, kw = _pair(kernel_size)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: groups={groups} must divide {in_channels} and "
                             f"{out_channels}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = (kh, kw), stride, padding
        self.dilation, self.groups = dilation, groups
        shape = (out_channels, in_channels // groups, kh, kw)
        fan_in = init.fan_in_out(shape)[0]
        self.weight = Parameter(init.kaiming_uniform(shape))
        self.bias = Parameter(init.kaiming_uniform((out_channels,), fan_in)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def forward_act(self, x: Tensor, act: str, slope: Tensor | None = None) -> Tensor:
        """act(self(x)) by ``F.conv2d_act``: one fused pass at inference, the same graph as
        the two layers in training. ``Sequential`` calls it for a conv and its activation."""
        return F.conv2d_act(x, self.weight, self.bias, self.stride, self.padding,
                            self.dilation, self.groups, act, slope)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")


class ConvTranspose2d(Module):
    """2-D transposed convolution layer, as ``torch.nn.ConvTranspose2d``.

    Shape:
        x: (N, in_channels, H, W)    y: (N, out_channels, H_out, W_out),
        H_out = (H - 1) * stride - 2 * padding + dilation * (KH - 1) + output_padding + 1
        weight: (in_channels, out_channels / groups, KH, KW)    bias: (out_channels,)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1,
                 padding=0, output_padding=0, groups: int = 1, bias: bool = True,
                 dilation=1):
        kh, kw = _pair(kernel_size)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"ConvTranspose2d: groups={groups} must divide {in_channels} "
                             f"and {out_channels}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = (kh, kw), stride, padding
        self.output_padding, self.groups, self.dilation = output_padding, groups, dilation
        shape = (in_channels, out_channels // groups, kh, kw)
        # PyTorch computes the fan from dim 1 of this layout: (out_channels / groups) * KH * KW
        fan_in = shape[1] * kh * kw
        self.weight = Parameter(init.kaiming_uniform(shape, fan_in))
        self.bias = Parameter(init.kaiming_uniform((out_channels,), fan_in)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, "
                f"output_padding={self.output_padding}")


class PixelShuffle(Module):
    """Sub-pixel upsampling (ESPCN): (N, C r^2, H, W) -> (N, C, H r, W r)."""

    def __init__(self, upscale_factor: int):
        self.upscale_factor = upscale_factor

    def forward(self, x: Tensor) -> Tensor:
        return F.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """Inverse of PixelShuffle: (N, C, H r, W r) -> (N, C r^2, H, W)."""

    def __init__(self, downscale_factor: int):
        self.downscale_factor = downscale_factor

    def forward(self, x: Tensor) -> Tensor:
        return F.pixel_unshuffle(x, self.downscale_factor)


class MaxPool2d(Module):
    """Max pooling, as ``torch.nn.MaxPool2d`` (RLFN's attention uses kernel 7, stride 3).
    Arguments are checked when the layer is called, as in torch: ``F.max_pool2d``.

    Shape:
        x: (N, C, H, W)    y: (N, C, OH, OW),  OH = (H + 2 * padding - KH) // stride + 1
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}")


class Upsample(Module):
    """Bilinear resizing to ``size`` or by ``scale_factor``, as ``torch.nn.Upsample`` with
    mode='bilinear' (the only mode here, hence the default; torch's is 'nearest').
    Arguments are checked when the layer is called, as in torch: ``F.interpolate``.

    Shape:
        x: (N, C, H, W)    y: (N, C, OH, OW), (OH, OW) = size or floor((H, W) * scale_factor)
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "bilinear",
                 align_corners: bool | None = False):
        self.size, self.scale_factor = size, scale_factor
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners)

    def extra_repr(self) -> str:
        what = f"size={self.size}" if self.size is not None else \
            f"scale_factor={self.scale_factor}"
        return f"{what}, mode={self.mode!r}"


class ReLU(Module):
    """max(x, 0)."""

    def epilogue(self) -> tuple[str, None]:
        """How a preceding ``Conv2d.forward_act`` applies this layer: (act, slope)."""
        return "relu", None

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)


class PReLU(Module):
    """PReLU with ``num_parameters`` learned slopes (1, or one per channel), initialised
    to ``init`` (0.25, as He et al. and PyTorch)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25):
        self.weight = Parameter(np.full((num_parameters,), init, dtype=np.float32))

    def forward(self, x: Tensor) -> Tensor:
        return F.prelu(x, self.weight)

    def epilogue(self) -> tuple[str, Tensor]:
        return "prelu", self.weight


class Tanh(Module):
    """tanh(x)."""

    def epilogue(self) -> tuple[str, None]:
        return "tanh", None

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Identity(Module):
    """y = x."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class ResidualBlock(Module):
    """EDSR's residual block (Lim et al., CVPRW 2017): conv-ReLU-conv, no batch norm,
    with the branch scaled by ``res_scale`` before the skip connection.

    y = x + res_scale * conv2(relu(conv1(x)))

    Shape:
        x: (N, num_features, H, W)    y: same
    """

    def __init__(self, num_features: int, kernel_size: int = 3, res_scale: float = 1.0):
        self.conv1 = Conv2d(num_features, num_features, kernel_size, padding=kernel_size // 2)
        self.conv2 = Conv2d(num_features, num_features, kernel_size, padding=kernel_size // 2)
        self.res_scale = res_scale

    def forward(self, x: Tensor) -> Tensor:
        branch = self.conv2(self.conv1.forward_act(x, "relu"))   # = conv2(relu(conv1(x)))
        if self.res_scale != 1.0:
            branch = branch * self.res_scale
        return x + branch

    def extra_repr(self) -> str:
        return f"res_scale={self.res_scale}"


__all__ = ["Conv2d", "ConvTranspose2d", "Identity", "LeakyReLU", "MaxPool2d", "PReLU",
           "PixelShuffle", "PixelUnshuffle", "ReLU", "ResidualBlock", "Sequential", "Sigmoid",
           "Tanh", "Upsample"]
