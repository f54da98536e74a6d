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
from minisr.data.dataset import PatchDataset, list_images, pyramid_targets, split
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


def training_loss(model, loss_fn, x: np.ndarray, y: np.ndarray) -> Tensor:
    """The recipe's loss of one batch. A pyramid model (LapSRN: ``model.pyramid`` gives
    every level's image) is supervised at every level, against the HR patch downscaled
    to that level's size (``data.pyramid_targets``), the levels' losses summed."""
    if not hasattr(model, "pyramid"):
        return loss_fn(model(Tensor(x)), Tensor(y))
    outs = model.pyramid(Tensor(x))
    total = None
    for out, target in zip(outs, pyramid_targets(y, len(outs))):
        term = loss_fn(out, Tensor(target))
        total = term if total is None else total + term
    return total


def validate_levels(model, paths: list[Path], scale: int) -> dict[int, float]:
    """{scale: held-out PSNR}: one entry, or for a pyramid model one per output level (its
    x2, x4, ... images, the same weights stopping at each level)."""
    if not hasattr(model, "output_scales"):
        return {scale: validate(model, paths, scale)}
    return {s: validate(model.at_scale(s), paths, s) for s in model.output_scales}


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


class RunGuard:
    """What every training loop shares around its steps: the progress bar, SIGTERM and
    Ctrl-C (both end the loop after the current step, with a checkpoint), and the summary.

    ``with RunGuard(...) as guard:`` runs the loop while ``not guard.stopped``; after the
    block, the caller saves its checkpoint and calls ``guard.finish``.
    """

    def __init__(self, recipe: dict, scale: int, step: int, progress: bool = True):
        self.signal, self._recent = None, []
        self._bar = None
        if progress:
            from tqdm import tqdm
            self._bar = tqdm(total=recipe["steps"], initial=step, unit="step",
                             desc=f"{recipe['model']} x{scale}", dynamic_ncols=True)

    @property
    def stopped(self) -> bool:
        return self.signal is not None

    def __enter__(self) -> "RunGuard":
        self._previous = signal.signal(signal.SIGTERM,
                                       lambda *_: setattr(self, "signal", "SIGTERM"))
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        signal.signal(signal.SIGTERM, self._previous)
        if self._bar is not None:
            self._bar.close()
        if exc_type is KeyboardInterrupt:
            self.signal = "SIGINT"
            return True  # the caller checkpoints, then finish() re-raises
        return False

    def update(self, step: int, loss: float, d_loss: float | None = None) -> None:
        """One step done: advance the bar, show the mean loss of the last 50 steps."""
        self._recent = (self._recent + [(loss, d_loss)])[-50:]
        if self._bar is not None:
            self._bar.update(1)
            if step % 10 == 0:
                post = {"loss": f"{np.mean([r[0] for r in self._recent]):.4g}"}
                if d_loss is not None:
                    post["d_loss"] = f"{np.mean([r[1] for r in self._recent]):.4g}"
                self._bar.set_postfix(post)

    def write(self, message: str) -> None:
        """A line above the progress bar (or on stdout without one)."""
        if self._bar is not None:
            self._bar.write(message)

    @staticmethod
    def write_recipe(out: Path, recipe: dict) -> None:
        (out / "recipe.json").write_text(json.dumps(
            {k: v for k, v in recipe.items() if not k.startswith("_")}, indent=2))

    def finish(self, out: Path, recipe: dict, step: int, elapsed: float, best: float,
               best_key: str = "best_val_psnr") -> dict:
        """Write ``summary.json`` and return it; re-raise a stop as KeyboardInterrupt."""
        summary = {"model": recipe["model"], "scale": int(recipe["scale"]), "steps": step,
                   "recipe_hash": recipe["_hash"], "seed": recipe["seed"],
                   "wall_clock_s": round(elapsed, 1), best_key: round(best, 4),
                   "cpu": _cpu_name(), "interrupted": self.signal}
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        if self.stopped:
            raise KeyboardInterrupt(f"{self.signal}: checkpoint saved at step {step}")
        return summary


def prepare_run(out_dir: str | Path, resume: bool) -> tuple[Path, Path]:
    """(run folder, its last.npz), after checking that a new run does not overwrite an
    old one and that a resumed run has a checkpoint. The caller creates the folder once
    its data and model are built, so a bad recipe leaves nothing behind."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"train: {str(out)!r} exists and is not a folder")
    last = out / "last.npz"
    if resume and not last.exists():
        raise ValueError(f"train: --resume: no checkpoint {str(last)!r}")
    if not resume and last.exists():
        raise ValueError(f"train: {str(out)!r} already holds a run; pass --resume or a new "
                         f"--out")
    return out, last


def train(recipe: dict, data_dir: str | Path | list, out_dir: str | Path, resume: bool = False,
          init: str | Path | None = None, progress: bool = True) -> dict:
    """Run (or continue) a recipe; returns the summary written into the weights' metadata.

    ``data_dir`` is the training folder (e.g. T91) or a list of them ([T91, BSDS200]); its
    held-out split chooses ``best``.
    A recipe with a ``gan`` section is for ``train_gan.train_gan`` (``minisr train`` picks).
    """
    if recipe.get("gan"):
        raise ValueError("train: a recipe with a 'gan' section trains with "
                         "minisr.train_gan.train_gan")
    out, last = prepare_run(out_dir, resume)
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
    # a pyramid model's levels get a column each; val_psnr is their mean
    level_scales = list(getattr(model, "output_scales", ()))
    levels = {}
    if resume:
        extra, _ = load_checkpoint(last, model, optimizer, scheduler)
        if str(extra.get("recipe_hash")) != recipe["_hash"]:
            raise ValueError(f"train: {last} was made by another recipe (hash "
                             f"{extra.get('recipe_hash')}, this one {recipe['_hash']}); "
                             f"resume with the recipe that started the run")
        step, elapsed, best = int(extra["step"]), float(extra["elapsed"]), float(extra["best"])
        truncate_log(out / "train.csv", step)
    else:
        init = init or recipe.get("init")
        if init:
            init_from(model, resolve_init(init), recipe.get("init_exclude", ()))
        RunGuard.write_recipe(out, recipe)
        with (out / "train.csv").open("w", newline="") as f:
            csv.writer(f).writerow(["step", "loss", "lr", "val_psnr", "seconds"]
                                   + [f"val_psnr_x{s}" for s in level_scales])

    def checkpoint():
        save_checkpoint(last, model, optimizer, scheduler, step=step, elapsed=elapsed,
                        best=best, recipe_hash=recipe["_hash"])

    guard = RunGuard(recipe, scale, step, progress)
    running, t0 = [], time.perf_counter()
    with guard:
        while step < recipe["steps"] and not guard.stopped:
            x, y = data.batch(step, recipe["batch_size"])
            loss = training_loss(model, loss_fn, x, y)
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
            guard.update(step, value)
            val = None
            if step % recipe["val_every"] == 0 or step == recipe["steps"]:
                levels = validate_levels(model, val_paths, scale)
                val = float(np.mean(list(levels.values())))  # a pyramid: the levels' mean
                if val > best:
                    best = val
                    save_weights(model, out / "best.npz", {"step": step, "val_psnr": val,
                                                            "residual": recipe["residual"]})
                each = "" if len(levels) == 1 else " (" + ", ".join(
                    f"x{s} {v:.3f}" for s, v in levels.items()) + ")"
                guard.write(f"step {step}: validation PSNR {val:.3f} dB{each} "
                            f"(best {best:.3f})")
            if step % recipe["log_every"] == 0 or val is not None:
                now = time.perf_counter()
                elapsed, t0 = elapsed + now - t0, now
                with (out / "train.csv").open("a", newline="") as f:
                    csv.writer(f).writerow([step, f"{np.mean(running):.6g}",
                                            f"{optimizer.param_groups[-1]['lr']:.6g}",
                                            "" if val is None else f"{val:.4f}",
                                            f"{elapsed:.1f}"]
                                           + ["" if val is None else f"{levels[s]:.4f}"
                                              for s in level_scales])
                running = []
            if step % recipe["checkpoint_every"] == 0 or val is not None:
                elapsed, t0 = elapsed + time.perf_counter() - t0, time.perf_counter()
                checkpoint()
            if val is not None:
                plot_curves(out / "train.csv", out / "curves.png")
    elapsed += time.perf_counter() - t0
    checkpoint()
    return guard.finish(out, recipe, step, elapsed, best)


def truncate_log(path: Path, step: int) -> None:
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


def resolve_init(init: str | Path) -> Path:
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


__all__ = ["DEFAULTS", "LOSSES", "RECIPES_DIR", "RunGuard", "TrainingStopped", "build_optimizer",
           "init_from", "load_recipe", "plot_curves", "prepare_run", "resolve_init", "train",
           "training_loss", "truncate_log", "validate", "validate_levels"]
