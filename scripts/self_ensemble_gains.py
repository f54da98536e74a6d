"""Print what the x8 geometric self-ensemble (EDSR's forward_x8) adds to every shipped
model, PSNR/SSIM on the Y channel under the papers' protocol.

    python scripts/self_ensemble_gains.py [--datasets ../shared/datasets] [--bench Set5]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from minisr import models
from minisr.evaluate import evaluate_folder
from minisr.inference import model_upscaler


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--bench", default="Set5")
    args = p.parse_args()
    folder = args.datasets / args.bench
    print(f"| model | scale | {args.bench} single | {args.bench} x8 self-ensemble | gain (dB) |")
    print("|---|---|---|---|---|")
    for name, scale in models.pretrained():
        model = models.load_pretrained(name, scale)
        one, eight = (evaluate_folder(folder, scale, model_upscaler(model, ensemble=e))[1]
                      for e in (False, True))
        print(f"| {name} | x{scale} | {one.psnr:.2f} / {one.ssim:.4f} | "
              f"{eight.psnr:.2f} / {eight.ssim:.4f} | {eight.psnr - one.psnr:+.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
