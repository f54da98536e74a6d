"""Image-quality metrics for super-resolution: PSNR and SSIM, computed in float64.

``psnr.py`` holds PSNR and the shared preprocessing (8-bit rounding, BT.601 Y, border crop);
``ssim.py`` holds Wang et al.'s SSIM on top of ``kernels/filter.py``; ``nss.py`` and
``niqe.py`` hold the no-reference NIQE (natural-scene statistics, pristine model). The papers' protocol
is ``psnr(sr, hr, crop_border=scale, y_channel=True, quantize=True)`` and likewise ``ssim``.
Nothing here imports autograd or nn.
"""
from minisr.metrics.psnr import psnr
from minisr.metrics.ssim import ssim
from minisr.metrics.niqe import NiqeModel, fit_niqe_model, niqe, pristine_model

__all__ = ["psnr", "ssim", "niqe", "fit_niqe_model", "NiqeModel", "pristine_model"]
