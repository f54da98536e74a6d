"""SRCNN (Dong et al., ECCV 2014 / TPAMI 2016): the first CNN for super-resolution.

Pre-upsampling: the LR image is first enlarged by bicubic interpolation, and three
convolutions refine its Y channel. Read next: ``fsrcnn.py`` (the same idea, made fast by
upsampling at the end).
"""
from __future__ import annotations

from minisr.autograd import Tensor
from minisr.nn import Conv2d, Module, ReLU


class SRCNN(Module):
    """SRCNN f1-f2-f3 (9-1-5 or 9-5-5) with 64 and 32 feature maps.

    ::

        bicubic-upscaled Y (N, 1, H, W)
          conv1  9x9, 1 -> 64, ReLU      patch extraction       (N, 64, H, W)
          conv2 f2xf2, 64 -> 32, ReLU    non-linear mapping     (N, 32, H, W)
          conv3  5x5, 32 -> 1            reconstruction         (N, 1, H, W)

    The paper trains without padding (output smaller than input); here every conv pads
    ``k // 2`` with zeros so the output has the input's size, as public PyTorch ports do.
    Weights only: 9-1-5 has 8,032, 9-5-5 has 57,184 (the papers' counts).

    With ``residual=True`` the network learns only what bicubic misses: its input already
    is the bicubic upscale, so the output is ``conv3(...) + x`` (VDSR's global skip; same
    weights and state_dict).

    Equivalent PyTorch module (same state_dict names and layouts)::

        class SRCNN(torch.nn.Module):
            def __init__(self, f2=1):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 64, 9, padding=4)
                self.conv2 = nn.Conv2d(64, 32, f2, padding=f2 // 2)
                self.conv3 = nn.Conv2d(32, 1, 5, padding=2)
            def forward(self, x):
                return self.conv3(F.relu(self.conv2(F.relu(self.conv1(x)))))

    Shape:
        x: (N, 1, H, W) bicubic-upscaled Y in [0, 1]    y: (N, 1, H, W)

    References:
        C. Dong, C. C. Loy, K. He, X. Tang, "Learning a Deep Convolutional Network for
        Image Super-Resolution", ECCV 2014; "Image Super-Resolution Using Deep
        Convolutional Networks", TPAMI 2016.
    """

    colour = "y"
    pre_upsampled = True

    def __init__(self, scale: int = 3, f2: int = 1, num_features=(64, 32),
                 residual: bool = False):
        n1, n2 = num_features
        self.scale, self.f2, self.residual = scale, f2, residual
        self.conv1 = Conv2d(1, n1, 9, padding=4)
        self.conv2 = Conv2d(n1, n2, f2, padding=f2 // 2)
        self.conv3 = Conv2d(n2, 1, 5, padding=2)
        self.relu = ReLU()
        # in pixels of the (upscaled) input: 4 + f2 // 2 + 2
        self.receptive_radius = 4 + f2 // 2 + 2

    def forward(self, x: Tensor) -> Tensor:
        y = self.conv3(self.relu(self.conv2(self.relu(self.conv1(x)))))
        return y + x if self.residual else y


__all__ = ["SRCNN"]
