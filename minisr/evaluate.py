"""Benchmark evaluation under the SR papers' protocol (SRCNN, FSRCNN, ESPCN, VDSR, EDSR).

For each HR image of a folder (Set5, Set14, ...): mod-crop to the scale, make the LR with
MATLAB-style bicubic ``resize(hr, 1/scale)`` stored as 8-bit, upscale it with the method
under test, round the output to 8-bit, and measure PSNR/SSIM on BT.601 Y (rounded as
MATLAB's ``rgb2ycbcr`` on uint8; a 1-channel image is its own Y) after removing ``scale``
pixels from each border. With ``niqe=True`` the 8-bit output's NIQE (no reference; the same
border removed) is reported beside them. ``minisr evaluate`` prints the table. The package never assumes
where the datasets are: the caller passes a folder.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from minisr.image.io import EXTENSIONS, imread, quantize
from minisr.image.resize import imresize_to_lr, modcrop, resize
from minisr.metrics import niqe as niqe_score
from minisr.metrics import psnr, ssim

__all__ = ["Upscaler", "bicubic_upscaler", "Score", "image_paths", "evaluate_image",
           "evaluate_folder", "format_table"]

Upscaler = Callable[[np.ndarray, int], np.ndarray]


def bicubic_upscaler(lr: np.ndarray, scale: int) -> np.ndarray:
    """The baseline every SR table starts with: MATLAB-style bicubic x ``scale``."""
    return resize(lr, float(scale))


@dataclass
class Score:
    """PSNR (dB), SSIM and, when asked for, NIQE of one image, or the mean over a folder."""
    name: str
    psnr: float
    ssim: float
    seconds: float = 0.0
    niqe: float | None = None


def image_paths(folder: str | Path) -> list[Path]:
    """The images of a benchmark folder, sorted by name (a one-line error if none)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"evaluate: {str(folder)!r} is not a folder")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in EXTENSIONS)
    if not paths:
        raise ValueError(f"evaluate: no PNG/BMP/JPEG images in {str(folder)!r}")
    return paths


def evaluate_image(hr: np.ndarray, scale: int, upscaler: Upscaler,
                   niqe: bool = False) -> tuple[float, ...]:
    """(PSNR, SSIM) of ``upscaler`` on one HR image under the papers' protocol, and with
    ``niqe`` the NIQE of the 8-bit output (``minisr.metrics.niqe``, border = scale): a third
    element.

    Shape:
        hr: (H, W, C) float in [0, 1], C = 1 or 3
    """
    hr = modcrop(hr, scale)
    lr = quantize(imresize_to_lr(hr, scale))
    sr = upscaler(lr, scale)
    if sr.shape != hr.shape:
        raise ValueError(f"evaluate: upscaler returned {sr.shape} for HR {hr.shape}")
    kw = dict(crop_border=scale, y_channel=True, quantize=True)
    scores = (psnr(sr, hr, **kw), ssim(sr, hr, **kw))
    if niqe:
        scores += (niqe_score(quantize(sr), crop_border=scale),)
    return scores


def evaluate_folder(folder: str | Path, scale: int, upscaler: Upscaler = bicubic_upscaler,
                    progress: bool = False, on_error: Callable[[Path, str], None] | None = None,
                    niqe: bool = False) -> tuple[list[Score], Score]:
    """Per-image scores and their mean (the number papers report) for one folder; with
    ``niqe``, each Score's NIQE too (PIRM and ESRGAN report its mean over the folder).

    Each Score also carries the seconds the upscaler took on that image. An unreadable
    image raises, or, with ``on_error(path, message)``, is reported and left out.
    """
    if int(scale) != scale or scale < 2:
        raise ValueError(f"evaluate: scale must be an integer >= 2, got {scale!r}")
    paths = image_paths(folder)
    if progress:
        from tqdm import tqdm
        paths = tqdm(paths, desc=f"{Path(folder).name} x{scale}", leave=False)
    scores = []
    for path in paths:
        try:
            hr = imread(path, alpha="drop").astype(np.float64)
        except ValueError as e:
            if on_error is None:
                raise
            on_error(path, str(e))
            continue
        timed = _Timed(upscaler)
        values = evaluate_image(hr, int(scale), timed, niqe=niqe)
        scores.append(Score(path.stem, values[0], values[1], timed.seconds,
                            values[2] if niqe else None))
    if not scores:
        raise ValueError(f"evaluate: no readable image in {str(folder)!r}")
    mean = Score("mean", float(np.mean([s.psnr for s in scores])),
                 float(np.mean([s.ssim for s in scores])),
                 float(np.mean([s.seconds for s in scores])),
                 float(np.mean([s.niqe for s in scores])) if niqe else None)
    return scores, mean


class _Timed:
    """Wraps an upscaler and remembers how long its last call took."""

    def __init__(self, upscaler: Upscaler):
        self.upscaler, self.seconds = upscaler, 0.0

    def __call__(self, lr, scale):
        t = time.perf_counter()
        out = self.upscaler(lr, scale)
        self.seconds = time.perf_counter() - t
        return out


def format_table(rows: Sequence[dict], fmt: str = "text") -> str:
    """Rows of {dataset, scale, method, score[, params, gmacs]} as text, Markdown or CSV.

    ``gmacs`` is billions of multiply-adds for a 1280x720 output; ``s/img`` is the mean
    seconds per image on this machine. A NIQE column (lower is more natural) appears when
    any score carries one.
    """
    with_niqe = any(r["score"].niqe is not None for r in rows)
    head = ["dataset", "scale", "method", "PSNR", "SSIM"] + ["NIQE"] * with_niqe + \
        ["params", "GMACs@720p", "s/img"]
    body = []
    for r in rows:
        sc = r["score"]
        value = "inf" if math.isinf(sc.psnr) else f"{sc.psnr:.2f}"
        nq = ([f"{sc.niqe:.3f}" if sc.niqe is not None else "-"] if with_niqe else [])
        body.append([r["dataset"], f"x{r['scale']}", r.get("method", "bicubic"), value,
                     f"{sc.ssim:.4f}"] + nq + [f"{r['params']:,}" if "params" in r else "-",
                     f"{r['gmacs']:.2f}" if "gmacs" in r else "-", f"{sc.seconds:.3f}"])
    if fmt == "csv":
        return "\n".join(",".join(c.replace(",", "") for c in line) for line in [head] + body)
    if fmt == "markdown":
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(line) + " |" for line in body])
    widths = [max(len(str(x[i])) for x in [head] + body) for i in range(len(head))]
    note = "# PSNR/SSIM on Y (BT.601), border crop = scale, 8-bit LR and output"
    if with_niqe:
        note += "; NIQE (no reference, lower is better) on the output's Y, same crop"
    return "\n".join([note] + ["  ".join(c.rjust(w) if i else c.ljust(w)
                                          for i, (c, w) in enumerate(zip(line, widths)))
                                for line in [head] + body])
