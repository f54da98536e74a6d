"""A VGG-style discriminator (SRGAN, ESRGAN), sized for two CPU cores.

SRGAN's discriminator (Ledig et al. 2017, fig. 4) and ESRGAN's ``VGGStyleDiscriminator``
stack pairs of 3x3 (stride 1) and 4x4 (stride 2) convolutions with batch norm and
LeakyReLU(0.2), doubling the channels while halving the size, and end in two dense layers.
Here the dense head sits on a global average pool, so any patch size works and the
head stays small; everything else is ESRGAN's. Read next: ``models/features.py``, ``gan.py``.
"""
from __future__ import annotations

from minisr.autograd import Tensor
from minisr.nn import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, LeakyReLU, Linear, Module


class VGGStyleDiscriminator(Module):
    """``num_levels`` levels of (conv 3x3 s1, conv 4x4 s2), then pool and two dense layers.

    ::

        HR or SR RGB (N, 3, H, W)
          level i, F_i = num_features * min(2^i, 8)
            conv{i}_0   conv 3x3 s1, F_{i-1} -> F_i, BN (not at level 0), LReLU 0.2
            conv{i}_1   conv 4x4 s2, F_i -> F_i, BN, LReLU 0.2     (N, F_i, H/2^(i+1), W/2^(i+1))
          pool          global average                              (N, F_last)
          linear1       F_last -> 100, LReLU 0.2
          linear2       100 -> 1                                    (N, 1) logits

    Convolutions followed by batch norm have no bias (the norm's shift replaces it).

    Equivalent PyTorch module (state_dict names as here; BasicSR's VGGStyleDiscriminator
    differs only in its flattened head)::

        class D(torch.nn.Module):
            def __init__(s, nf=32, levels=4):
                super().__init__(); c = 3
                for i in range(levels):
                    f = nf * min(2 ** i, 8)
                    setattr(s, f"conv{i}_0", nn.Conv2d(c, f, 3, 1, 1, bias=i == 0))
                    if i: setattr(s, f"bn{i}_0", nn.BatchNorm2d(f))
                    setattr(s, f"conv{i}_1", nn.Conv2d(f, f, 4, 2, 1, bias=False))
                    setattr(s, f"bn{i}_1", nn.BatchNorm2d(f)); c = f
                s.linear1, s.linear2 = nn.Linear(c, 100), nn.Linear(100, 1)

    Shape:
        x: (N, in_channels, H, W), H and W >= 2^num_levels    y: (N, 1)

    References:
        C. Ledig et al., "Photo-Realistic Single Image Super-Resolution Using a Generative
        Adversarial Network", CVPR 2017. X. Wang et al., "ESRGAN: Enhanced Super-Resolution
        Generative Adversarial Networks", ECCV Workshops 2018.
    """

    def __init__(self, in_channels: int = 3, num_features: int = 32, num_levels: int = 4):
        self.num_levels = num_levels
        c = in_channels
        for i in range(num_levels):
            f = num_features * min(2 ** i, 8)
            setattr(self, f"conv{i}_0", Conv2d(c, f, 3, 1, 1, bias=i == 0))
            if i:
                setattr(self, f"bn{i}_0", BatchNorm2d(f))
            setattr(self, f"conv{i}_1", Conv2d(f, f, 4, 2, 1, bias=False))
            setattr(self, f"bn{i}_1", BatchNorm2d(f))
            c = f
        self.pool = AdaptiveAvgPool2d(1)
        self.linear1 = Linear(c, 100)
        self.linear2 = Linear(100, 1)
        self.lrelu = LeakyReLU(0.2)

    def features(self, x: Tensor) -> list[Tensor]:
        """The activations after each level: (N, F_i, H / 2^(i+1), W / 2^(i+1)) for each i."""
        if x.ndim != 4 or min(x.shape[2:]) < 2 ** self.num_levels:
            raise ValueError(f"discriminator: need (N, C, H, W) with H, W >= "
                             f"{2 ** self.num_levels}, got {x.shape}")
        out = []
        for i in range(self.num_levels):
            x = getattr(self, f"conv{i}_0")(x)
            if i:
                x = getattr(self, f"bn{i}_0")(x)
            x = self.lrelu(x)
            x = self.lrelu(getattr(self, f"bn{i}_1")(getattr(self, f"conv{i}_1")(x)))
            out.append(x)
        return out

    def forward(self, x: Tensor) -> Tensor:
        f = self.pool(self.features(x)[-1])
        f = f.reshape((f.shape[0], f.shape[1]))
        return self.linear2(self.lrelu(self.linear1(f)))


__all__ = ["VGGStyleDiscriminator"]
