"""Benchmark evaluation under the SR papers' protocol (SRCNN, FSRCNN, ESPCN, VDSR, EDSR).

For each HR image of a folder (Set5, Set14, ...): mod-crop to the scale, make the LR with
MATLAB-style bicubic ``resize(hr, 1/scale)`` stored as 8-bit, upscale it with the method
under test, round the output to 8-bit, and measure PSNR/SSIM on BT.601 Y (rounded as
MATLAB's ``rgb2ycbcr`` on uint8; a 1-channel image is its own Y) after removing ``scale``
pixels from each border. ``minisr evaluate`` prints the table. The package never assumes
where the datasets are: the caller passes a folder.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from minisr.image.io import EXTENSIONS, imread, quantize
from minisr.image.resize import imresize_to_lr, modcrop, resize
from minisr.metrics import psnr, ssim

Upscaler = Callable[[np.ndarray, int], np.ndarray]


def bicubic_upscaler(lr: np.ndarray, scale: int) -> np.ndarray:
    """The baseline every SR table starts with: MATLAB-style bicubic x ``scale``."""
    return resize(lr, float(scale))


@dataclass
class Score:
    """PSNR (dB) and SSIM of one image, or the mean over a folder."""
    name: str
    psnr: float
    ssim: float


def image_paths(folder: str | Path) -> list[Path]:
    """The images of a benchmark folder, sorted by name (a one-line error if none)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"evaluate: {str(folder)!r} is not a folder")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in EXTENSIONS)
    if not paths:
        raise ValueError(f"evaluate: no PNG/BMP/JPEG images in {str(folder)!r}")
    return paths


def evaluate_image(hr: np.ndarray, scale: int, upscaler: Upscaler) -> tuple[float, float]:
    """(PSNR, SSIM) of ``upscaler`` on one HR image under the papers' protocol.

    Shape:
        hr: (H, W, C) float in [0, 1], C = 1 or 3
    """
    hr = modcrop(hr, scale)
    lr = quantize(imresize_to_lr(hr, scale))
    sr = upscaler(lr, scale)
    if sr.shape != hr.shape:
        raise ValueError(f"evaluate: upscaler returned {sr.shape} for HR {hr.shape}")
    kw = dict(crop_border=scale, y_channel=True, quantize=True)
    return psnr(sr, hr, **kw), ssim(sr, hr, **kw)


def evaluate_folder(folder: str | Path, scale: int, upscaler: Upscaler = bicubic_upscaler,
                    progress: bool = False) -> tuple[list[Score], Score]:
    """Per-image scores and their mean (the number papers report) for one folder."""
    if int(scale) != scale or scale < 2:
        raise ValueError(f"evaluate: scale must be an integer >= 2, got {scale!r}")
    paths = image_paths(folder)
    if progress:
        from tqdm import tqdm
        paths = tqdm(paths, desc=f"{Path(folder).name} x{scale}", leave=False)
    scores = []
    for path in paths:
        p, s = evaluate_image(imread(path).astype(np.float64), int(scale), upscaler)
        scores.append(Score(path.stem, p, s))
    mean = Score("mean", float(np.mean([s.psnr for s in scores])),
                 float(np.mean([s.ssim for s in scores])))
    return scores, mean


def format_table(rows: Sequence[tuple[str, int, Score]]) -> str:
    """Rows of (dataset, scale, mean score) as an aligned text table."""
    lines = [f"{'dataset':<10}{'scale':>6}{'PSNR':>9}{'SSIM':>9}"]
    for dataset, scale, score in rows:
        value = "inf" if math.isinf(score.psnr) else f"{score.psnr:.2f}"
        lines.append(f"{dataset:<10}{'x' + str(scale):>6}{value:>9}{score.ssim:>9.4f}")
    return "\n".join(lines)
