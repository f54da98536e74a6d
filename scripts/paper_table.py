"""Print the README's results table: bicubic and every shipped model on Set5 and Set14,
measured now from the shipped weights, beside the papers' numbers.

    python scripts/paper_table.py [--datasets ../shared/datasets] [--self-ensemble]
                                  [--update-readme]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from minisr import models
from minisr.evaluate import evaluate_folder
from minisr.inference import model_upscaler, multiply_adds
from minisr.models.papers import PAPER_NOTES, PAPERS

BENCHES = ("Set5", "Set14")


def _cell(score) -> str:
    psnr, ssim = score
    if psnr is None:
        return "-"
    return f"{psnr:.2f}" + (f" / {ssim:.4f}" if ssim is not None else "")


def measure(datasets: Path, ensemble: bool = False):
    """[(name, scale, {bench: (psnr, ssim)}, params, gmacs)] for bicubic and every shipped
    model, in manifest order."""
    rows = []
    for scale in sorted(set(models.SCALES) | {s for _, s in models.pretrained()}):  # LapSRN: x8
        means = {b: evaluate_folder(datasets / b, scale)[1] for b in BENCHES}
        rows.append(("bicubic", scale, {b: (m.psnr, m.ssim) for b, m in means.items()},
                     None, None))
    for name, scale in models.pretrained():
        model = models.load_pretrained(name, scale)
        up = model_upscaler(model, ensemble=ensemble)
        means = {b: evaluate_folder(datasets / b, scale, up)[1] for b in BENCHES}
        rows.append((name, scale, {b: (m.psnr, m.ssim) for b, m in means.items()},
                     model.num_parameters(), multiply_adds(model) / 1e9))
    return rows


def markdown(rows) -> str:
    head = ("| model | scale | Set5 minisr | Set5 paper | Set14 minisr | Set14 paper | "
            "params | GMACs (720p out) |")
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for name, scale, got, params, gmacs in rows:
        paper = PAPERS.get((name, scale), {})
        note = f" ({PAPER_NOTES[name]})" if name in PAPER_NOTES and paper else ""
        lines.append(
            f"| {name} | x{scale} | {_cell(got['Set5'])} | "
            f"{_cell(paper.get('Set5', (None, None)))}{note} | {_cell(got['Set14'])} | "
            f"{_cell(paper.get('Set14', (None, None)))} | "
            f"{'-' if params is None else f'{params:,}'} | "
            f"{'-' if gmacs is None else f'{gmacs:.2f}'} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path,
                   default=Path(__file__).resolve().parents[1].parent / "shared" / "datasets")
    p.add_argument("--self-ensemble", action="store_true")
    p.add_argument("--update-readme", action="store_true",
                   help="also replace the table between the README's results-table markers")
    args = p.parse_args()
    table = markdown(measure(args.datasets, args.self_ensemble))
    print(table)
    if args.update_readme:
        readme = Path(__file__).resolve().parents[1] / "README.md"
        text = readme.read_text()
        start, end = "<!-- results-table -->\n", "\n<!-- /results-table -->"
        a, b = text.index(start) + len(start), text.index(end)
        readme.write_text(text[:a] + table + text[b:])


if __name__ == "__main__":
    main()
