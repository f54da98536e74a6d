"""Ship a finished training run: its best.npz becomes a package weight file.

    python scripts/ship.py runs/espcn_x3 [--datasets ../shared/datasets]

The run's best.npz was chosen on the held-out split of its training set only (by PSNR;
a GAN run by NIQE above the bicubic PSNR floor); this script then
measures it on Set5 and Set14 (recorded in the manifest, never used to choose anything),
writes ``minisr/models/weights/<model>_x<scale>.npz`` with its provenance and updates
``weights/manifest.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from minisr import models
from minisr.evaluate import evaluate_folder
from minisr.nn import save_weights
from minisr.nn.serialization import load_npz
from minisr.inference import model_upscaler


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path, help="run folder written by minisr train")
    p.add_argument("--datasets", type=Path,
                   default=Path(__file__).resolve().parents[1].parent / "shared" / "datasets")
    args = p.parse_args()
    summary = json.loads((args.run / "summary.json").read_text())
    recipe = json.loads((args.run / "recipe.json").read_text())
    if summary.get("interrupted") or summary["steps"] < recipe["steps"]:
        sys.exit(f"ship: {args.run} stopped at step {summary['steps']} of {recipe['steps']}")
    name, scale = summary["model"], int(summary["scale"])
    residual = bool(recipe.get("residual", False))
    model = models.load_file(name, scale, args.run / "best.npz")
    _, best_meta = load_npz(args.run / "best.npz")
    if model.residual != residual:
        sys.exit(f"ship: {args.run}/best.npz and its recipe disagree on 'residual'")
    entry = {"model": name, "scale": scale,
             "file": f"{name.replace('-', '_')}_x{scale}.npz",
             "recipe": f"{name.replace('-', '_')}_x{scale}.json",
             "recipe_hash": summary["recipe_hash"], "seed": summary["seed"],
             "residual": residual,
             "steps": summary["steps"], "best_step": best_meta["step"],
             "wall_clock_s": summary["wall_clock_s"], "cpu": summary["cpu"],
             "val_psnr": round(best_meta["val_psnr"], 4)}
    if "data" in recipe:
        entry["data"] = recipe["data"]
    gan = bool(recipe.get("gan"))
    if gan:  # chosen by held-out NIQE; its PSNR twin is the model it was fine-tuned from
        entry["val_niqe"] = round(best_meta["val_niqe"], 4)
        twin = recipe.get("init")
        if twin not in models.manifest():
            sys.exit(f"ship: a GAN run's init must be a shipped model (its PSNR twin), "
                     f"got {twin!r}")
        entry["twin"] = twin
    entry.update(_earlier_stages(recipe))
    # a pyramid model (LapSRN) ships one file and an entry per output scale
    scales = list(getattr(model, "output_scales", [scale]))
    entries = {}
    for s in scales:
        e = dict(entry, scale=s)
        if len(scales) > 1:
            e["val_psnr_level"] = _level_psnr(args.run, best_meta["step"], s)
        net = model.at_scale(s) if len(scales) > 1 else model
        for bench in ("Set5", "Set14"):
            _, mean = evaluate_folder(args.datasets / bench, s, model_upscaler(net),
                                      niqe=gan)
            e[bench] = {"psnr": round(mean.psnr, 4), "ssim": round(mean.ssim, 5)}
            if gan:
                e[bench]["niqe"] = round(mean.niqe, 4)
        entries[f"{name}-x{s}"] = e
    entry = entries[f"{name}-x{scale}"]
    save_weights(model, models.WEIGHTS_DIR / entry["file"], entry)
    manifest_path = models.WEIGHTS_DIR / "manifest.json"
    manifest = models.manifest()
    manifest.update(entries)
    order = {n: i for i, n in enumerate(models.names())}
    manifest = dict(sorted(manifest.items(), key=lambda kv: (order[kv[1]["model"]],
                                                             kv[1]["scale"])))
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(entries, indent=2))
    return 0


def _level_psnr(run: Path, step: int, scale: int) -> float:
    """A pyramid run's held-out PSNR at one level, at ``step`` (its train.csv column)."""
    import csv
    for row in csv.DictReader((run / "train.csv").open()):
        if int(row["step"]) == step:
            return round(float(row[f"val_psnr_x{scale}"]), 4)
    sys.exit(f"ship: {run}/train.csv has no row for step {step}")


def _earlier_stages(recipe: dict) -> dict:
    """A run that starts from another run's weights (``init``: runs/NAME/best.npz) carries
    that run's steps and wall-clock too, so the manifest gives the whole cost. A run that
    continues the shipped weights of its own model and scale (``init``: e.g.
    ``edsr-small-x2``) carries that entry's stages and the entry itself, named by the
    recipe file whose hash it records."""
    stages, init = [], recipe.get("init")
    prev = models.manifest().get(init) if isinstance(init, str) else None
    if prev and (prev["model"], int(prev["scale"])) == (recipe["model"], int(recipe["scale"])):
        stages = list(prev.get("earlier_stages", []))
        stages.append({"recipe": _recipe_named_by_hash(prev["recipe_hash"]),
                       "steps": prev["steps"], "wall_clock_s": prev["wall_clock_s"],
                       "data": prev.get("data", "T91")})
        return {"earlier_stages": stages}
    while init and (Path(init).parent / "summary.json").is_file():
        earlier = json.loads((Path(init).parent / "summary.json").read_text())
        stages.insert(0, {"recipe": Path(init).parent.name, "steps": earlier["steps"],
                          "wall_clock_s": earlier["wall_clock_s"]})
        init = json.loads((Path(init).parent / "recipe.json").read_text()).get("init")
    return {"earlier_stages": stages} if stages else {}


def _recipe_named_by_hash(recipe_hash: str) -> str:
    """The shipped recipe (file stem) whose bytes hash to ``recipe_hash``."""
    import hashlib
    from minisr.train import RECIPES_DIR
    for path in sorted(RECIPES_DIR.glob("*.json")):
        if hashlib.sha256(path.read_bytes()).hexdigest()[:16] == recipe_hash:
            return path.stem
    sys.exit(f"ship: no recipe in {RECIPES_DIR} has the hash {recipe_hash}")


if __name__ == "__main__":
    sys.exit(main())
