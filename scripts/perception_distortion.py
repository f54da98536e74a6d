"""The perception-distortion plane (Blau and Michaeli, CVPR 2018) of minisr's x4 models.

    python scripts/perception_distortion.py [--datasets ../shared/datasets] [FOLDER ...]
                                            [--figure docs/perception_distortion.png]
                                            [--update-readme]
                                            [--sweep LABEL=weights.npz ...] [--heldout]

For bicubic, every shipped PSNR-trained x4 model, the GAN model, its PSNR twin and the
network-interpolation sweep alpha = 0, 0.1, ..., 1 between them (ESRGAN section 3.4), it
measures on Set5 and Set14 (and any other folder given) the mean PSNR (Y, border 4, 8-bit:
the distortion) and the mean NIQE of the 8-bit output with the same border removed (the
perceptual score: lower = more natural), prints the table and draws one figure with
PSNR across and NIQE up, one panel per folder. Blau and Michaeli prove that no method can
reach the plane's lower-right corner: lowering distortion beyond a point must raise the
perceptual index, which is why the sweep bends. The HR images' own NIQE is the row
"HR (reference)", PSNR undefined.

``--sweep LABEL=PATH`` adds the interpolation sweep of another GAN-trained edsr-small-gan
x4 weight file (e.g. a run's best.npz trained with a different content loss) with the same
PSNR twin, and prints, for each folder, both sweeps' NIQE at equal PSNR (linear between
neighbouring alphas, at PSNRs both sweeps reach): the fair comparison of two perceptual
recipes, since each trades PSNR for NIQE at its own rate. ``--update-readme`` writes that
comparison into the README too.

``--heldout`` adds the held-out tenth of the GAN recipe's training set (BSDS200: the
images the run validated on and chose its checkpoint by, never trained on) as the folder
"BSDS200-heldout": the split on which one content loss may be preferred to another.

The README's table and figure are

    python scripts/perception_distortion.py --heldout --update-readme \
        --sweep random-features=training/ablations/edsr_small_gan_x4_random_features.npz
"""
from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import numpy as np

from minisr import models
from minisr.evaluate import bicubic_upscaler, image_paths
from minisr.image.io import imread, quantize
from minisr.image.resize import imresize_to_lr, modcrop
from minisr.inference import model_upscaler
from minisr.metrics import niqe, psnr

SCALE = 4
GAN = "edsr-small-gan"
ALPHAS = [round(0.1 * k, 1) for k in range(11)]
README_BEGIN = "<!-- perception-distortion table: scripts/perception_distortion.py -->"
README_END = "<!-- end perception-distortion table -->"
ROOT = Path(__file__).resolve().parents[1]


def measure_folder(folder: Path, upscaler) -> tuple[float, float]:
    """(mean PSNR, mean NIQE) of ``upscaler`` at x4 over one folder, under the protocol;
    upscaler None: the HR images themselves (PSNR inf)."""
    p, q = [], []
    for path in image_paths(folder):
        hr = modcrop(imread(path, alpha="drop").astype(np.float64), SCALE)
        if upscaler is None:
            p.append(np.inf)
            q.append(niqe(hr, crop_border=SCALE))
            continue
        sr = quantize(upscaler(quantize(imresize_to_lr(hr, SCALE)), SCALE))
        p.append(psnr(sr, hr, crop_border=SCALE, y_channel=True, quantize=True))
        q.append(niqe(sr, crop_border=SCALE))
    return float(np.mean(p)), float(np.mean(q))


def heldout_folder(datasets: Path, into: Path) -> Path:
    """A folder of links to the GAN recipe's held-out images (the split minisr train makes
    with the recipe's val_fraction and seed), named ``<data>-heldout``."""
    from minisr.data.dataset import list_images, split
    from minisr.train import load_recipe
    recipe = load_recipe(GAN.replace("-", "_") + f"_x{SCALE}")
    _, val = split(list_images(datasets / recipe["data"]), recipe["val_fraction"],
                   recipe["seed"])
    folder = into / f"{recipe['data']}-heldout"
    folder.mkdir()
    for path in val:
        (folder / path.name).symlink_to(path.resolve())
    return folder


def methods(extra: dict[str, Path]):
    """[(label, kind, upscaler)]: the HR reference, bicubic, the PSNR models, then the
    sweep from the GAN model (alpha 0) to its twin (alpha 1), then each extra sweep."""
    out = [("HR (reference)", "reference", None), ("bicubic", "baseline", bicubic_upscaler)]
    for name, scale in models.pretrained():
        if scale == SCALE and name != GAN:
            out.append((name, "psnr", model_upscaler(models.load_pretrained(name, scale))))
    twin = models.load_pretrained(*models.twin(GAN, SCALE))
    sweeps = {GAN: models.load_pretrained(GAN, SCALE)}
    sweeps.update({label: models.load_file(GAN, SCALE, path) for label, path in extra.items()})
    for label, gan in sweeps.items():
        for alpha in ALPHAS:
            out.append((f"{label} alpha={alpha:.1f}", f"sweep:{label}",
                        model_upscaler(models.interpolate(twin, gan, alpha))))
    return out


def niqe_at_equal_psnr(table, kinds, folder: str) -> list[tuple[float, dict[str, float]]]:
    """[(psnr, {sweep: NIQE})] at 5 PSNRs spread over the range every sweep covers."""
    curves = {}
    for label, row in table.items():
        if kinds[label].startswith("sweep:"):
            curves.setdefault(kinds[label][6:], []).append(row[folder])
    if not curves:
        return []
    lo = max(min(p for p, _ in c) for c in curves.values())
    hi = min(max(p for p, _ in c) for c in curves.values())
    out = []
    for target in np.linspace(lo, hi, 5) if lo < hi else []:
        at = {}
        for name, c in curves.items():
            c = sorted(c)
            at[name] = float(np.interp(target, [p for p, _ in c], [q for _, q in c]))
        out.append((float(target), at))
    return out


def measure(folders: list[Path], extra: dict[str, Path]):
    """{label: {folder name: (psnr, niqe)}} and the kinds, in methods() order."""
    table, kinds = {}, {}
    for label, kind, up in methods(extra):
        kinds[label] = kind
        table[label] = {f.name: measure_folder(f, up) for f in folders}
        print(f"{label:<28}" + "".join(f"  {f.name} {v[0]:6.2f} dB NIQE {v[1]:6.3f}"
                                        for f, v in zip(folders, table[label].values())),
              flush=True)
    return table, kinds


def markdown(table, folders) -> str:
    head = "| method (x4) | " + " | ".join(f"{f.name} PSNR | {f.name} NIQE" for f in folders)
    lines = [head + " |", "|---|" + "---|---|" * len(folders)]
    for label, row in table.items():
        lines.append(f"| {label} | " + " | ".join(
            f"{'-' if np.isinf(row[f.name][0]) else f'{row[f.name][0]:.2f}'} | "
            f"{row[f.name][1]:.3f}" for f in folders) + " |")
    return "\n".join(lines)


def equal_psnr_markdown(table, kinds, folders) -> str:
    """The sweeps' NIQE at equal PSNR, one row per (folder, PSNR)."""
    rows = [(f.name, t, at) for f in folders for t, at in niqe_at_equal_psnr(table, kinds, f.name)]
    if not rows:
        return ""
    names = list(rows[0][2])
    lines = ["| folder | PSNR (dB) | " + " | ".join(f"NIQE, {n}" for n in names) + " |",
             "|---|---|" + "---|" * len(names)]
    lines += [f"| {f} | {t:.2f} | " + " | ".join(f"{at[n]:.3f}" for n in names) + " |"
              for f, t, at in rows]
    return "\n".join(lines)


def figure(table, kinds, folders, path: Path) -> None:
    from matplotlib.figure import Figure
    fig = Figure(figsize=(5.5 * len(folders), 4.5))
    axes = np.atleast_1d(fig.subplots(1, len(folders)))
    names = list(dict.fromkeys(k[6:] for k in kinds.values() if k.startswith("sweep:")))
    for ax, f in zip(axes, folders):
        for i, name in enumerate(names):
            sweep = [(lbl, v[f.name]) for lbl, v in table.items()
                     if kinds[lbl] == f"sweep:{name}"]
            ax.plot([v[0] for _, v in sweep], [v[1] for _, v in sweep], "-o",
                    color=f"C{3 + i}", ms=4, label=f"{name}: GAN (alpha 0) -> PSNR twin (1)")
            for lbl, (pp, nq) in sweep if i == 0 else []:
                a = float(lbl.rsplit("=", 1)[1])
                if a in (0.0, 0.5, 1.0):
                    ax.annotate(f"alpha {a:g}", (pp, nq), textcoords="offset points",
                                xytext=(5, 5), fontsize=8)
        for lbl, v in table.items():
            if kinds[lbl] == "reference":
                ax.axhline(v[f.name][1], color="0.5", ls="--", lw=1, label="HR images' NIQE")
            elif not kinds[lbl].startswith("sweep"):
                marker = "s" if kinds[lbl] == "baseline" else "^"
                ax.plot(*v[f.name], marker, ms=7, label=lbl)
        ax.set(title=f"{f.name}, x4", xlabel="PSNR (dB, Y)  -> less distortion",
               ylabel="NIQE  (lower = more natural)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="best")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    tmp.replace(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="*", type=Path, help="more folders of HR images")
    ap.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--figure", type=Path, default=ROOT / "docs" / "perception_distortion.png")
    ap.add_argument("--update-readme", action="store_true")
    ap.add_argument("--heldout", action="store_true",
                    help="add the GAN recipe's held-out split of its training set")
    ap.add_argument("--sweep", action="append", default=[], metavar="LABEL=PATH",
                    help="another edsr-small-gan x4 weight file to sweep against the twin")
    a = ap.parse_args()
    extra = {}
    for item in a.sweep:
        label, sep, path = item.partition("=")
        if not sep or not Path(path).is_file():
            raise SystemExit(f"perception_distortion: --sweep wants LABEL=PATH to a file, "
                             f"got {item!r}")
        extra[label] = Path(path)
    folders = [a.datasets / "Set5", a.datasets / "Set14"] + list(a.folders)
    with tempfile.TemporaryDirectory() as tmp:
        if a.heldout:
            folders.append(heldout_folder(a.datasets, Path(tmp)))
        table, kinds = measure(folders, extra)
    text = markdown(table, folders)
    equal = equal_psnr_markdown(table, kinds, folders)
    if equal:
        text += "\n\nNIQE of the two sweeps at equal PSNR (linear between neighbouring alphas):\n\n"
        text += equal
    print(text)
    figure(table, kinds, folders, a.figure)
    print(f"figure: {a.figure}")
    if a.update_readme:
        readme = ROOT / "README.md"
        body = readme.read_text()
        block = f"{README_BEGIN}\n{text}\n{README_END}"
        pattern = re.escape(README_BEGIN) + ".*?" + re.escape(README_END)
        if re.search(pattern, body, flags=re.S):
            body = re.sub(pattern, lambda _: block, body, flags=re.S)
        else:
            raise SystemExit("perception_distortion: README has no table markers")
        readme.write_text(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
