"""EDSR (Lim et al., CVPRW 2017), small: residual blocks without batch norm.

Works on RGB in LR space: subtract the dataset mean, a head conv, ``num_blocks``
residual blocks (conv-ReLU-conv, scaled by ``res_scale``), a conv and a global skip,
then a sub-pixel upsampler (x4 as two x2 stages) and a last conv; add the mean back.
x3/x4 start from the x2 weights (all but the upsampler), as the paper does.
"""
from __future__ import annotations

from minisr.autograd import Tensor
from minisr.models.blocks import DIV2K_RGB_MEAN, MeanShift, Upsampler, upsampler_stages
from minisr.nn import Conv2d, Module, ResidualBlock, Sequential
from minisr.ops.resize import upsample_bicubic


class EDSR(Module):
    """EDSR with ``num_blocks`` blocks of ``num_features`` channels (default 8 x 32).

    ::

        LR RGB (N, 3, h, w), minus the RGB mean
          conv_first       conv 3x3, 3 -> F                         (N, F, h, w)
          body             B x ResidualBlock(F, res_scale)          (N, F, h, w)
          conv_after_body  conv 3x3, F -> F, + conv_first's output  (N, F, h, w)
          upsample         [conv 3x3, F -> r^2 F, shuffle(r)] per stage  (N, F, H, W)
          conv_last        conv 3x3, F -> 3, plus the RGB mean      (N, 3, H, W)

    EDSR-baseline is 16 x 64 (1.37 M parameters at x2); the default 8 x 32 (about 0.17 M)
    is what trains on two CPU cores within three hours (``benchmarks/README.md``).
    Batch norm is left out: it normalises away the range flexibility SR needs and costs
    memory (the paper's argument).

    With ``residual=True`` the network learns only what bicubic misses: the output is
    ``EDSR(x) + upsample_bicubic(x, scale)`` (``ops.resize``), the same weights and state_dict, and the PyTorch
    equivalent adds MATLAB-style bicubic the same way (not ``F.interpolate``, whose cubic
    differs).

    Equivalent PyTorch module: BasicSR's ``basicsr.archs.edsr_arch.EDSR(num_in_ch=3,
    num_out_ch=3, num_feat=F, num_block=B, upscale=scale, res_scale=res_scale,
    img_range=1.0, rgb_mean=DIV2K_RGB_MEAN)``; its state_dict names (``conv_first``,
    ``body.0.conv1``, ``conv_after_body``, ``upsample.0``, ``conv_last``) are these.

    Shape:
        x: (N, 3, h, w) LR RGB in [0, 1]    y: (N, 3, h * scale, w * scale)

    References:
        B. Lim, S. Son, H. Kim, S. Nah, K. M. Lee, "Enhanced Deep Residual Networks for
        Single Image Super-Resolution", CVPR Workshops 2017.
    """

    colour = "rgb"
    pre_upsampled = False

    def __init__(self, scale: int = 2, num_features: int = 32, num_blocks: int = 8,
                 res_scale: float = 1.0, rgb_mean=DIV2K_RGB_MEAN, residual: bool = False):
        self.scale, self.residual = scale, residual
        self.num_features, self.num_blocks, self.res_scale = num_features, num_blocks, res_scale
        self._sub_mean = MeanShift(rgb_mean, sign=-1.0)
        self._add_mean = MeanShift(rgb_mean, sign=+1.0)
        self.conv_first = Conv2d(3, num_features, 3, padding=1)
        self.body = Sequential(*[ResidualBlock(num_features, 3, res_scale)
                                 for _ in range(num_blocks)])
        self.conv_after_body = Conv2d(num_features, num_features, 3, padding=1)
        self.upsample = Upsampler(scale, num_features)
        self.conv_last = Conv2d(num_features, 3, 3, padding=1)
        # LR pixels: head 1, 2 per block, after-body 1, one per upsampler conv, last 1
        self.receptive_radius = 1 + 2 * num_blocks + 1 + len(upsampler_stages(scale)) + 1

    def forward(self, x: Tensor) -> Tensor:
        f = self.conv_first(self._sub_mean(x))
        f = f + self.conv_after_body(self.body(f))
        y = self._add_mean(self.conv_last(self.upsample(f)))
        return y + upsample_bicubic(x, self.scale) if self.residual else y


__all__ = ["EDSR"]
