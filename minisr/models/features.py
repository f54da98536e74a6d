"""Fixed feature networks for the content (perceptual) loss, built without ImageNet.

SRGAN and ESRGAN compare VGG-19 features of the output and the target. No pretrained
classifier can be downloaded here, so minisr offers two feature networks it can build or
ship itself, each returning a list of feature maps for ``nn.content_loss``/``gram_loss``:

- ``RandomFeatures``: a shallow convolutional network with fixed random (He-normal)
  filters. Random shallow networks already carry texture statistics: Ustyuzhaninov et al.
  (ICLR 2017 workshop) synthesised textures from them nearly as well as from VGG.
- ``EDSRFeatures``: the head and first blocks of minisr's own PSNR-trained EDSR-small,
  applied to the HR-resolution image: filters learnt on natural images, for SR.

Both take RGB in [0, 1] and return features *before* their activation, as ESRGAN found
better (sparse post-ReLU features lose information and cause brightness shifts). Their
weights are not parameters of the loss: nothing here is trained.
Read next: ``gan.py``.
"""
from __future__ import annotations

import numpy as np

from minisr.autograd import Tensor
from minisr.models.blocks import DIV2K_RGB_MEAN, MeanShift
from minisr.nn import Conv2d, Module, init
from minisr.ops import functional as F


def freeze(module: Module) -> Module:
    """Mark every parameter as constant (no gradient is computed for it); returns module."""
    for p in module.parameters():
        p.requires_grad = False
    return module


class RandomFeatures(Module):
    """Fixed random conv features at three scales.

    ::

        RGB (N, 3, H, W), minus the RGB mean
          conv 3x3 s1, 3 -> C1          -> feature 1   (N, C1, H, W)
          ReLU, conv 3x3 s2, C1 -> C2   -> feature 2   (N, C2, H/2, W/2)
          ReLU, conv 3x3 s2, C2 -> C3   -> feature 3   (N, C3, H/4, W/4)

    Filters are He-normal (so each layer keeps the signal's scale) from ``seed``, biases 0.

    Shape:
        x: (N, 3, H, W)    returns: [(N, C_k, ceil(H / 2^k), ceil(W / 2^k)) for k = 0, 1, 2]
    """

    def __init__(self, channels=(32, 64, 64), seed: int = 0):
        rng = np.random.default_rng(seed)
        self._sub_mean = MeanShift(DIV2K_RGB_MEAN, sign=-1.0)
        c, self.num_layers = 3, len(channels)
        for i, k in enumerate(channels):
            conv = Conv2d(c, k, 3, stride=1 if i == 0 else 2, padding=1)
            conv.weight.data = init.kaiming_normal(conv.weight.shape, rng=rng)
            conv.bias.data = init.zeros((k,))
            setattr(self, f"conv{i}", conv)
            c = k
        freeze(self)

    def forward(self, x: Tensor) -> list[Tensor]:
        out, f = [], self._sub_mean(x)
        for i in range(self.num_layers):
            f = getattr(self, f"conv{i}")(f if i == 0 else F.relu(f))
            out.append(f)
        return out


class EDSRFeatures(Module):
    """The PSNR-trained EDSR-small's head and first ``num_blocks`` residual blocks.

    ::

        RGB (N, 3, H, W), minus the RGB mean
          conv_first                 -> feature 1   (N, 32, H, W)
          body[0 .. num_blocks - 1]  -> feature 2   (N, 32, H, W)

    ``model`` is an EDSR (e.g. ``models.load_pretrained('edsr-small', 4)``); its weights
    are shared, not copied, and frozen.

    Shape:
        x: (N, 3, H, W)    returns: [(N, 32, H, W), (N, 32, H, W)]
    """

    def __init__(self, model, num_blocks: int = 1):
        self.model, self.num_blocks = freeze(model), num_blocks

    def forward(self, x: Tensor) -> list[Tensor]:
        m = self.model
        f = m.conv_first(m._sub_mean(x))
        g = f
        for i in range(self.num_blocks):
            g = m.body[i](g)
        return [f, g]


__all__ = ["EDSRFeatures", "RandomFeatures", "freeze"]
