"""Image-quality metrics for super-resolution: PSNR and SSIM, computed in float64.

``psnr.py`` holds PSNR and the shared preprocessing (8-bit rounding, BT.601 Y, border crop);
``ssim.py`` holds Wang et al.'s SSIM on top of ``kernels/filter.py``. The papers' protocol
is ``psnr(sr, hr, crop_border=scale, y_channel=True, quantize=True)`` and likewise ``ssim``.
Nothing here imports autograd or nn.
"""
from minisr.metrics.psnr import psnr
from minisr.metrics.ssim import ssim

__all__ = ["psnr", "ssim"]
