"""RCAN (Zhang et al., ECCV 2018), small: residual groups of channel-attention blocks.

EDSR's residual blocks treat every feature channel alike. RCAN's block (RCAB) ends with
channel attention: a global average pool squeezes each channel to one number, a 1x1
bottleneck with ReLU and a sigmoid turn those numbers into per-channel weights in (0, 1),
and the block's features are scaled by them (the squeeze-and-excitation idea), so the
network can stress the channels that carry high frequencies. Blocks sit in residual
groups, each with its own skip, inside one long skip: residual in residual.
Read next: ``rlfn.py`` (attention over space instead of channels).
"""
from __future__ import annotations

from minisr.autograd import Tensor
from minisr.models.blocks import DIV2K_RGB_MEAN, MeanShift, Upsampler, upsampler_stages
from minisr.nn import AdaptiveAvgPool2d, Conv2d, Module, ReLU, Sequential, Sigmoid
from minisr.ops.resize import upsample_bicubic


class ChannelAttention(Module):
    """x * sigmoid(W2 relu(W1 avgpool(x) + b1) + b2): one weight per channel.

    ::

        x (N, C, H, W)
          attention  AdaptiveAvgPool2d(1)               (N, C, 1, 1)
                     conv 1x1, C -> C / r, ReLU         (N, C/r, 1, 1)
                     conv 1x1, C / r -> C, Sigmoid      (N, C, 1, 1)
          x * attention(x)                              (N, C, H, W)

    The pool is global: every output pixel depends on the whole image, so tiles alone
    cannot reproduce the untiled result. ``global_pool`` marks the layer for the tiler
    (``inference.tiled_sr``), which first measures the image-wide mean tile by tile
    (``_collect``) and then runs the tiles with the weights it gives (``_fixed``).
    """

    global_pool = True

    def __init__(self, num_features: int, squeeze_factor: int):
        if num_features % squeeze_factor:
            raise ValueError(f"ChannelAttention: squeeze_factor {squeeze_factor} must divide "
                             f"num_features {num_features}")
        squeezed = num_features // squeeze_factor
        self.attention = Sequential(AdaptiveAvgPool2d(1), Conv2d(num_features, squeezed, 1),
                                    ReLU(), Conv2d(squeezed, num_features, 1), Sigmoid())
        self._fixed = None     # (1, C, 1, 1) weights to use instead of this image's own
        self._collect = None   # a callback taking the input features, then stopping

    def weights_of_mean(self, mean: Tensor) -> Tensor:
        """The per-channel weights, (N, C, 1, 1) in (0, 1), of a pooled (N, C, 1, 1) mean."""
        y = mean
        for i in range(1, len(self.attention)):
            y = self.attention[i](y)
        return y

    def forward(self, x: Tensor) -> Tensor:
        if self._collect is not None:
            self._collect(x)
        w = self._fixed if self._fixed is not None else self.attention(x)
        return x * w


class RCAB(Module):
    """Residual channel attention block: y = x + res_scale * CA(conv(relu(conv(x)))).

    ``rcab`` holds conv, ReLU, conv, ChannelAttention as children 0-3 (BasicSR's names)."""

    def __init__(self, num_features: int, squeeze_factor: int, res_scale: float = 1.0):
        self.rcab = Sequential(Conv2d(num_features, num_features, 3, padding=1), ReLU(),
                               Conv2d(num_features, num_features, 3, padding=1),
                               ChannelAttention(num_features, squeeze_factor))
        self.res_scale = res_scale

    def forward(self, x: Tensor) -> Tensor:
        branch = self.rcab(x)
        if self.res_scale != 1.0:
            branch = branch * self.res_scale
        return x + branch


class ResidualGroup(Module):
    """``num_blocks`` RCABs and a 3x3 conv, with a skip over the whole group."""

    def __init__(self, num_features: int, num_blocks: int, squeeze_factor: int,
                 res_scale: float = 1.0):
        self.residual_group = Sequential(*[RCAB(num_features, squeeze_factor, res_scale)
                                           for _ in range(num_blocks)])
        self.conv = Conv2d(num_features, num_features, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv(self.residual_group(x))


class RCAN(Module):
    """RCAN with ``num_groups`` groups of ``num_blocks`` RCABs, ``num_features`` channels.

    ::

        LR RGB (N, 3, h, w), minus the RGB mean
          conv_first       conv 3x3, 3 -> F                                (N, F, h, w)
          body             G x ResidualGroup(B x RCAB, conv 3x3, skip)     (N, F, h, w)
          conv_after_body  conv 3x3, F -> F, + conv_first's output          (N, F, h, w)
          upsample         [conv 3x3, F -> r^2 F, shuffle(r)] per stage    (N, F, H, W)
          conv_last        conv 3x3, F -> 3, plus the RGB mean             (N, 3, H, W)

    The paper's RCAN is G = 10, B = 20, F = 64, squeeze 16 (15.6 M parameters). minisr's
    ``rcan-small`` is G = 2, B = 4, F = 30, squeeze 6: 19 body convs of 30 channels against
    EDSR-small's 17 of 32, so its multiply-adds stay below EDSR-small's at every scale
    (the attention's pools, 1x1 convs on one pixel and channel scaling add under 0.1%).

    Equivalent PyTorch module: BasicSR's ``basicsr.archs.rcan_arch.RCAN(num_in_ch=3,
    num_out_ch=3, num_feat=F, num_group=G, num_block=B, squeeze_factor=r, upscale=scale,
    res_scale=res_scale, img_range=1.0, rgb_mean=DIV2K_RGB_MEAN)``; its state_dict names
    (``conv_first``, ``body.0.residual_group.0.rcab.3.attention.1``, ``body.0.conv``,
    ``conv_after_body``, ``upsample.0``, ``conv_last``) are these.

    Shape:
        x: (N, 3, h, w) LR RGB in [0, 1]    y: (N, 3, h * scale, w * scale)

    References:
        Y. Zhang, K. Li, K. Li, L. Wang, B. Zhong, Y. Fu, "Image Super-Resolution Using Very
        Deep Residual Channel Attention Networks", ECCV 2018.
    """

    colour = "rgb"
    pre_upsampled = False

    def __init__(self, scale: int = 2, num_features: int = 30, num_groups: int = 2,
                 num_blocks: int = 4, squeeze_factor: int = 6, res_scale: float = 1.0,
                 rgb_mean=DIV2K_RGB_MEAN, residual: bool = False):
        self.scale, self.residual = scale, residual
        self.num_features, self.num_groups, self.num_blocks = num_features, num_groups, num_blocks
        self._sub_mean = MeanShift(rgb_mean, sign=-1.0)
        self._add_mean = MeanShift(rgb_mean, sign=+1.0)
        self.conv_first = Conv2d(3, num_features, 3, padding=1)
        self.body = Sequential(*[ResidualGroup(num_features, num_blocks, squeeze_factor,
                                               res_scale) for _ in range(num_groups)])
        self.conv_after_body = Conv2d(num_features, num_features, 3, padding=1)
        self.upsample = Upsampler(scale, num_features)
        self.conv_last = Conv2d(num_features, 3, 3, padding=1)
        # LR pixels: head 1, per group 2 per block + its conv, after-body 1, one per
        # upsampler conv, last 1 (the attention's global pool is not local: see forward)
        self.receptive_radius = (1 + num_groups * (2 * num_blocks + 1) + 1
                                 + len(upsampler_stages(scale)) + 1)

    def forward(self, x: Tensor) -> Tensor:
        f = self.conv_first(self._sub_mean(x))
        f = f + self.conv_after_body(self.body(f))
        y = self._add_mean(self.conv_last(self.upsample(f)))
        return y + upsample_bicubic(x, self.scale) if self.residual else y


__all__ = ["RCAB", "RCAN", "ChannelAttention", "ResidualGroup"]
