"""Training a model from a recipe: the loop behind ``minisr train``.

A recipe (``models/recipes/*.json``) is data: model, scale, patch, batch, optimizer with
per-layer learning-rate multipliers, schedule, steps, loss, augmentation, seed, an
optional ``init`` weight file and ``residual`` (learn a residual over bicubic). A run folder gets ``train.csv``, ``curves.png``, ``last.npz``
(the checkpoint, written atomically) and ``best.npz`` (chosen on the held-out split of the
training folder only). Batches depend on (seed, step), so ``resume`` continues bit for bit.
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import platform
import signal
import time
from pathlib import Path

import numpy as np

from minisr import models
from minisr.autograd import Tensor
from minisr.data.dataset import PatchDataset, list_images, split
from minisr.evaluate import evaluate_image
from minisr.image import color
from minisr.image.io import imread
from minisr.nn import init as init_weights
from minisr.nn import losses, load_checkpoint, save_checkpoint, save_weights
from minisr.nn.serialization import load_npz
from minisr.optim import SGD, Adam, CosineAnnealingLR, MultiStepLR
from minisr.inference import model_upscaler

RECIPES_DIR = Path(models.__file__).resolve().parent / "recipes"
LOSSES = {"l1": losses.l1_loss, "mse": losses.mse_loss, "charbonnier": losses.charbonnier_loss,
          # L1 on RGB plus L1 on BT.601 Y: the papers measure Y, the upscaler outputs RGB
          "l1+luma": lambda x, y: (losses.l1_loss(x, y)
                                   + losses.luma_l1_loss(x, y, color.Y_WEIGHTS))}
DEFAULTS = {"patch_size": 17, "batch_size": 16, "steps": 10000, "loss": "l1", "seed": 0,
            "optimizer": {"name": "adam", "lr": 1e-3}, "lr_mult": {},
            "schedule": {"name": "cosine", "eta_min": 1e-6}, "augment": True,
            "downscales": [1.0], "val_fraction": 0.1, "val_every": 1000, "log_every": 50,
            "checkpoint_every": 500, "init": None, "init_exclude": [], "data": "T91",
            "residual": False}


class TrainingStopped(Exception):
    """The loss became NaN/inf; the last good checkpoint is kept."""


def load_recipe(path_or_name: str | Path) -> dict:
    """A recipe by file path or by name in ``models/recipes`` (e.g. 'espcn_x3'), with
    every key not set taking its default."""
    path = Path(path_or_name)
    if not path.exists():
        path = RECIPES_DIR / f"{path_or_name}.json"
    if not path.exists():
        have = ", ".join(sorted(p.stem for p in RECIPES_DIR.glob("*.json")))
        raise ValueError(f"train: no recipe {str(path_or_name)!r}; shipped recipes: {have}")
    try:
        recipe = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"train: {path}: not valid JSON ({e})") from None
    return {**DEFAULTS, **recipe, "_hash": hashlib.sha256(path.read_bytes()).hexdigest()[:16]}


def _param_groups(model, recipe: dict) -> list[dict]:
    """One group per lr multiplier: a parameter takes the multiplier of the longest
    name prefix that matches it (SRCNN and ESPCN train their last layer 10x slower)."""
    base = recipe["optimizer"]["lr"]
    groups: dict[float, list] = {}
    for name, p in model.named_parameters():
        match = [k for k in recipe["lr_mult"] if name == k or name.startswith(k + ".")]
        mult = recipe["lr_mult"][max(match, key=len)] if match else 1.0
        groups.setdefault(float(mult), []).append(p)
    return [{"params": ps, "lr": base * m} for m, ps in sorted(groups.items())]


def build_optimizer(model, recipe: dict):
    """The optimizer and per-step scheduler a recipe names."""
    opt = dict(recipe["optimizer"])
    name = opt.pop("name")
    groups = _param_groups(model, recipe)
    opt.pop("lr")
    if name == "adam":
        optimizer = Adam(groups, **{k: tuple(v) if k == "betas" else v for k, v in opt.items()})
    elif name == "sgd":
        optimizer = SGD(groups, lr=groups[0]["lr"], **opt)
    else:
        raise ValueError(f"train: unknown optimizer {name!r} (adam, sgd)")
    sched = dict(recipe["schedule"])
    kind = sched.pop("name")
    if kind == "cosine":
        scheduler = CosineAnnealingLR(optimizer, T_max=recipe["steps"], **sched)
    elif kind == "multistep":
        scheduler = MultiStepLR(optimizer, **sched)
    else:
        raise ValueError(f"train: unknown schedule {kind!r} (cosine, multistep)")
    return optimizer, scheduler


def init_from(model, path: str | Path, exclude=()) -> list[str]:
    """Copy every weight of ``path`` whose name and shape match ``model``, except names
    under an ``exclude`` prefix (x3/x4 EDSR from x2 keeps all but the upsampler; FSRCNN
    x2/x4 from x3 re-learns its deconvolution); returns the names copied."""
    tree, _ = load_npz(path)
    saved = tree.get("model", {})
    from minisr.nn.serialization import flatten
    saved = {k.replace("/", "."): v for k, v in flatten(saved).items()}
    own = model.state_dict()
    keep = {k: v for k, v in saved.items() if k in own and v.shape == own[k].shape
            and not any(k == e or k.startswith(e + ".") for e in exclude)}
    if not keep:
        raise ValueError(f"train: {path}: no weight matches {type(model).__name__}")
    model.load_state_dict(keep, strict=False)
    return sorted(keep)


def validate(model, paths: list[Path], scale: int) -> float:
    """Mean PSNR (Y, border crop = scale, 8-bit) over the held-out training images."""
    upscaler = model_upscaler(model)
    model.eval()
    scores = [evaluate_image(imread(p, alpha="drop").astype(np.float64), scale, upscaler)[0]
              for p in paths]
    model.train()
    return float(np.mean(scores))


def plot_curves(csv_path: Path, png_path: Path) -> None:
    """Loss and validation PSNR against the step, from ``train.csv``."""
    from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays as it is
    rows = list(csv.DictReader(csv_path.open()))
    if not rows:
        return
    step = [int(r["step"]) for r in rows]
    fig = Figure(figsize=(10, 3.5))
    a, b = fig.subplots(1, 2)
    a.semilogy(step, [float(r["loss"]) for r in rows])
    a.set(xlabel="step", ylabel="training loss")
    val = [(int(r["step"]), float(r["val_psnr"])) for r in rows if r["val_psnr"]]
    if val:
        b.plot(*zip(*val), marker="o")
    b.set(xlabel="step", ylabel="validation PSNR (dB)")
    fig.tight_layout()
    tmp = png_path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=90)
    tmp.replace(png_path)


def train(recipe: dict, data_dir: str | Path, out_dir: str | Path, resume: bool = False,
          init: str | Path | None = None, progress: bool = True) -> dict:
    """Run (or continue) a recipe; returns the summary written into the weights' metadata.

    ``data_dir`` is the training folder (e.g. T91); its held-out split chooses ``best``.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"train: {str(out)!r} exists and is not a folder")
    last = out / "last.npz"
    if resume and not last.exists():
        raise ValueError(f"train: --resume: no checkpoint {str(last)!r}")
    if not resume and last.exists():
        raise ValueError(f"train: {str(out)!r} already holds a run; pass --resume or a new "
                         f"--out")
    scale = int(recipe["scale"])
    init_weights.seed(recipe["seed"])  # the model's initial weights follow the recipe's seed
    model = models.get(recipe["model"], scale, residual=recipe["residual"])
    train_paths, val_paths = split(list_images(data_dir), recipe["val_fraction"],
                                   recipe["seed"])
    data = PatchDataset(train_paths, scale, recipe["patch_size"], model.colour,
                        model.pre_upsampled, recipe["augment"], recipe["downscales"],
                        recipe["seed"])
    optimizer, scheduler = build_optimizer(model, recipe)
    loss_fn = LOSSES[recipe["loss"]]
    out.mkdir(parents=True, exist_ok=True)
    step, elapsed, best = 0, 0.0, -math.inf
    if resume:
        extra, _ = load_checkpoint(last, model, optimizer, scheduler)
        if str(extra.get("recipe_hash")) != recipe["_hash"]:
            raise ValueError(f"train: {last} was made by another recipe (hash "
                             f"{extra.get('recipe_hash')}, this one {recipe['_hash']}); "
                             f"resume with the recipe that started the run")
        step, elapsed, best = int(extra["step"]), float(extra["elapsed"]), float(extra["best"])
        _truncate_log(out / "train.csv", step)
    else:
        init = init or recipe.get("init")
        if init:
            init_from(model, _resolve_init(init), recipe.get("init_exclude", ()))
        (out / "recipe.json").write_text(json.dumps(
            {k: v for k, v in recipe.items() if not k.startswith("_")}, indent=2))
        with (out / "train.csv").open("w", newline="") as f:
            csv.writer(f).writerow(["step", "loss", "lr", "val_psnr", "seconds"])

    def checkpoint():
        save_checkpoint(last, model, optimizer, scheduler, step=step, elapsed=elapsed,
                        best=best, recipe_hash=recipe["_hash"])

    stop = {"signal": None}
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.update(signal="SIGTERM"))
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=recipe["steps"], initial=step, desc=f"{recipe['model']} x{scale}",
                   unit="step", dynamic_ncols=True)
    running, t0 = [], time.perf_counter()
    try:
        while step < recipe["steps"] and stop["signal"] is None:
            x, y = data.batch(step, recipe["batch_size"])
            loss = loss_fn(model(Tensor(x)), Tensor(y))
            value = float(loss.item())
            if not math.isfinite(value):
                raise TrainingStopped(f"train: loss became {value} at step {step + 1}; stopped,"
                                      f" the last good checkpoint is {last}")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            running.append(value)
            if bar is not None:
                bar.update(1)
                if step % 10 == 0:
                    bar.set_postfix(loss=f"{np.mean(running[-50:]):.4g}")
            val = None
            if step % recipe["val_every"] == 0 or step == recipe["steps"]:
                val = validate(model, val_paths, scale)
                if val > best:
                    best = val
                    save_weights(model, out / "best.npz", {"step": step, "val_psnr": val,
                                                            "residual": recipe["residual"]})
                if bar is not None:
                    bar.write(f"step {step}: validation PSNR {val:.3f} dB (best {best:.3f})")
            if step % recipe["log_every"] == 0 or val is not None:
                now = time.perf_counter()
                elapsed, t0 = elapsed + now - t0, now
                with (out / "train.csv").open("a", newline="") as f:
                    csv.writer(f).writerow([step, f"{np.mean(running):.6g}",
                                            f"{optimizer.param_groups[-1]['lr']:.6g}",
                                            "" if val is None else f"{val:.4f}",
                                            f"{elapsed:.1f}"])
                running = []
            if step % recipe["checkpoint_every"] == 0 or val is not None:
                elapsed, t0 = elapsed + time.perf_counter() - t0, time.perf_counter()
                checkpoint()
            if val is not None:
                plot_curves(out / "train.csv", out / "curves.png")
    except KeyboardInterrupt:
        stop["signal"] = "SIGINT"
    finally:
        signal.signal(signal.SIGTERM, previous)
        if bar is not None:
            bar.close()
    elapsed += time.perf_counter() - t0
    checkpoint()
    summary = {"model": recipe["model"], "scale": scale, "steps": step,
               "recipe_hash": recipe["_hash"], "seed": recipe["seed"],
               "wall_clock_s": round(elapsed, 1), "best_val_psnr": round(best, 4),
               "cpu": _cpu_name(), "interrupted": stop["signal"]}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    if stop["signal"] is not None:
        raise KeyboardInterrupt(f"{stop['signal']}: checkpoint saved at step {step}")
    return summary


def _truncate_log(path: Path, step: int) -> None:
    """Drop the rows of ``train.csv`` past the checkpoint's step: a run killed between two
    checkpoints logged steps that the resumed run will log again."""
    if not path.is_file():
        return
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    kept = rows[:1] + [r for r in rows[1:] if r and int(r[0]) <= step]
    if len(kept) != len(rows):
        with path.open("w", newline="") as f:
            csv.writer(f).writerows(kept)


def _resolve_init(init: str | Path) -> Path:
    """An init given as a file path, or as 'name-xS' naming shipped weights."""
    path = Path(init)
    if path.exists():
        return path
    if "-x" in str(init):
        name, scale = str(init).rsplit("-x", 1)
        return models.weights_path(name, int(scale))
    raise ValueError(f"train: init weights {str(init)!r} not found")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


__all__ = ["DEFAULTS", "LOSSES", "RECIPES_DIR", "TrainingStopped", "build_optimizer", "init_from",
           "load_recipe", "plot_curves", "train", "validate"]
