"""``minisr demo`` and the comparison figures of ``minisr upscale --compare``.

The demo needs no data and no network: it takes the Grace Hopper photo that ships with
matplotlib, makes the papers' LR (MATLAB-style bicubic, 8-bit), enlarges it with bicubic
and with every shipped model at that scale, and prints PSNR/SSIM under the papers'
protocol beside one figure of zoomed crops.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from minisr import models
from minisr.evaluate import evaluate_image
from minisr.image.io import imread, quantize
from minisr.image.resize import imresize_to_lr, modcrop, resize
from minisr.inference import model_upscaler


def demo_photo() -> np.ndarray:
    """matplotlib's ``grace_hopper.jpg`` (512 x 600 RGB), float32 in [0, 1]."""
    import matplotlib.cbook as cbook
    return imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def busiest_crop(img: np.ndarray, side: int) -> tuple[int, int]:
    """(top, left) of the ``side`` x ``side`` window with the most detail (gradient
    energy), searched on a coarse grid: where SR differs most from interpolation."""
    g = img.mean(axis=-1) if img.ndim == 3 else img
    energy = np.abs(np.diff(g, axis=0))[:, :-1] + np.abs(np.diff(g, axis=1))[:-1]
    h, w = energy.shape
    side = min(side, h, w)
    step = max(side // 4, 1)
    best, where = -1.0, (0, 0)
    for top in range(0, h - side + 1, step):
        for left in range(0, w - side + 1, step):
            e = float(energy[top:top + side, left:left + side].sum())
            if e > best:
                best, where = e, (top, left)
    return where


def compare_figure(path, panels: list[tuple[str, np.ndarray]], crop_side: int | None = None,
                   crop_from: int = -1) -> None:
    """Write a PNG: each panel whole (top row) and zoomed on one crop (bottom row).

    The crop is the busiest window of ``panels[crop_from]``; the file is written
    atomically (to a temporary name, then renamed).
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    h, w = panels[0][1].shape[:2]
    side = crop_side or max(min(h, w) // 5, 8)
    top, left = busiest_crop(panels[crop_from][1], side)
    n = len(panels)
    fig, axes = plt.subplots(2, n, figsize=(3.2 * n, 6.4), squeeze=False)
    for k, (title, img) in enumerate(panels):
        show = np.clip(img, 0, 1)
        show = show[..., 0] if show.ndim == 3 and show.shape[-1] == 1 else show[..., :3]
        kw = {"cmap": "gray", "vmin": 0, "vmax": 1} if show.ndim == 2 else {}
        axes[0, k].imshow(show, **kw)
        axes[0, k].add_patch(Rectangle((left, top), side, side, fill=False, color="red"))
        axes[0, k].set_title(title, fontsize=9)
        axes[1, k].imshow(show[top:top + side, left:left + side], interpolation="nearest",
                          **kw)
        for ax in axes[:, k]:
            ax.set_axis_off()
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    try:
        fig.savefig(tmp, dpi=100)
        tmp.replace(path)
    except OSError as e:
        raise ValueError(f"compare: {str(path)!r}: {e.strerror or e}") from None
    finally:
        plt.close(fig)
        if tmp.exists():
            tmp.unlink()


def run_demo(scale: int = 3, figure=None, progress: bool = False) -> list[dict]:
    """Bicubic and every shipped model at ``scale`` on the demo photo.

    Returns one {method, psnr, ssim, seconds} row per method and writes the figure
    (HR, bicubic, each model) when ``figure`` is a path.
    """
    hr = modcrop(demo_photo().astype(np.float64), scale)
    lr = quantize(np.clip(imresize_to_lr(hr, scale), 0.0, 1.0))
    rows, panels = [], [("HR (ground truth)", hr)]
    methods = [("bicubic", lambda x, s: np.clip(resize(x, float(s)), 0, 1))]
    for name, s in models.pretrained():
        if s == scale:
            methods.append((name, model_upscaler(models.load_pretrained(name, s))))
    import time
    for name, fn in methods:
        out = {}

        def timed(x, s, fn=fn):
            t = time.perf_counter()
            out["sr"] = fn(x, s)
            out["t"] = time.perf_counter() - t
            return out["sr"]
        p, q = evaluate_image(hr, scale, timed)
        rows.append({"method": name, "psnr": p, "ssim": q, "seconds": out["t"]})
        panels.append((f"{name}: {p:.2f} dB / {q:.4f}", quantize(out["sr"])))
    if figure is not None:
        compare_figure(figure, panels, crop_from=-1)
    return rows


__all__ = ["busiest_crop", "compare_figure", "demo_photo", "run_demo"]
