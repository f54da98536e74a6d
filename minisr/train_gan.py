"""Adversarial training (SRGAN, ESRGAN): two networks, two optimizers, alternating updates.

A GAN recipe is an ordinary recipe (``train.py``) with a ``gan`` section::

    "gan": {"discriminator": {"num_features": 32, "num_levels": 4},
            "d_optimizer": {"name": "adam", "lr": 1e-4, "betas": [0.9, 0.99]},
            "adversarial": "ragan",                      # or "gan" (SRGAN's)
            "features": {"name": "random", "seed": 0},   # or "edsr" or "discriminator"
            "weights": {"pixel": 0.01, "content": 1.0, "adversarial": 0.005,
                        "gram": 0.0, "tv": 0.0}}

Each step first updates the generator G on

    L_G = w_pixel * pixel(G(x), y) + w_content * content(G(x), y)
          + w_adversarial * L_G^adv(C(y), C(G(x))) + w_gram * gram(G(x), y) + w_tv * TV(G(x))

with the discriminator C held fixed (its parameters need no gradient), then C on
L_D^adv(C(y), C(G(x))) with G(x) held fixed, as ESRGAN's code does. ``train.csv`` logs
every term, the discriminator's mean belief that real and generated patches are real, and on
the held-out split of the training folder the PSNR and NIQE (the perceptual score); ``best.npz``
is the checkpoint with the lowest held-out NIQE. ``last.npz`` holds both networks, both
optimizers and both schedules, so ``resume`` continues bit for bit.
Read next: ``nn/adversarial.py``, ``models/discriminator.py``, ``models/features.py``.
"""
from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import numpy as np

from minisr import models
from minisr.autograd import Tensor, no_grad
from minisr.data.dataset import PatchDataset, list_images, split
from minisr.image.io import imread, quantize
from minisr.image.resize import imresize_to_lr, modcrop
from minisr.inference import model_upscaler
from minisr.metrics import niqe, psnr
from minisr.models.discriminator import VGGStyleDiscriminator
from minisr.models.features import EDSRFeatures, RandomFeatures
from minisr.nn import init as init_weights
from minisr.nn import load_checkpoint, losses, save_checkpoint, save_weights
from minisr.nn.adversarial import ADVERSARIAL_LOSSES
from minisr.ops import functional as F
from minisr.train import (LOSSES, RunGuard, TrainingStopped, build_optimizer,
                          init_from, prepare_run, resolve_init, truncate_log)

GAN_DEFAULTS = {"discriminator": {}, "d_optimizer": {"name": "adam", "lr": 1e-4,
                                                     "betas": [0.9, 0.99]},
                "adversarial": "ragan", "features": {"name": "random"},
                "weights": {"pixel": 0.01, "content": 1.0, "adversarial": 0.005},
                "psnr_floor_over_bicubic": 0.0}
COLUMNS = ["step", "loss", "pixel", "content", "adversarial", "gram", "tv", "d_loss", "d_real",
           "d_fake", "lr", "val_psnr", "val_niqe", "seconds"]
_TERMS = ("pixel", "content", "adversarial", "gram", "tv")


def gan_settings(recipe: dict) -> dict:
    """The recipe's ``gan`` section with every key not set taking its default; one-line
    ValueErrors for unknown names."""
    gan = {**GAN_DEFAULTS, **recipe["gan"]}
    weights = {t: 0.0 for t in _TERMS}
    unknown = set(gan["weights"]) - set(_TERMS)
    if unknown:
        raise ValueError(f"train: gan.weights: unknown terms {sorted(unknown)}; terms: {_TERMS}")
    weights.update({k: float(v) for k, v in gan["weights"].items()})
    if gan["adversarial"] not in ADVERSARIAL_LOSSES:
        raise ValueError(f"train: gan.adversarial must be one of "
                         f"{sorted(ADVERSARIAL_LOSSES)}, got {gan['adversarial']!r}")
    if gan["features"]["name"] not in ("random", "edsr", "discriminator"):
        raise ValueError(f"train: gan.features.name must be 'random', 'edsr' or "
                         f"'discriminator', got {gan['features']['name']!r}")
    return {**gan, "weights": weights}


def feature_network(spec: dict, discriminator: VGGStyleDiscriminator, scale: int):
    """The content loss's feature extractor named by ``spec`` (see ``models/features.py``)."""
    name = spec["name"]
    if name == "random":
        return RandomFeatures(tuple(spec.get("channels", (32, 64, 64))), spec.get("seed", 0))
    if name == "edsr":
        weights = spec.get("weights", f"edsr-small-x{scale}")
        base = models.load_file("edsr-small", int(weights.rsplit("-x", 1)[1]),
                                resolve_init(weights)) if "-x" in weights else None
        return EDSRFeatures(base, spec.get("num_blocks", 1))
    return discriminator.features  # feature matching on the discriminator's own levels


def set_trainable(module, flag: bool) -> None:
    """requires_grad on every parameter: off while the other network is updated, so no
    weight gradient is computed for it."""
    for p in module.parameters():
        p.requires_grad = flag


def validate_gan(model, paths: list[Path], scale: int) -> tuple[float, float]:
    """(mean PSNR, mean NIQE) on the held-out images: PSNR under the papers' protocol (Y,
    border = scale, 8-bit), NIQE of the 8-bit SR output with the same border cropped."""
    upscaler = model_upscaler(model)
    model.eval()
    p, q = [], []
    for path in paths:
        hr = modcrop(imread(path, alpha="drop").astype(np.float64), scale)
        sr = upscaler(quantize(imresize_to_lr(hr, scale)), scale)
        p.append(psnr(sr, hr, crop_border=scale, y_channel=True, quantize=True))
        q.append(niqe(quantize(sr), crop_border=scale))
    model.train()
    return float(np.mean(p)), float(np.mean(q))


def _validate_bicubic(paths: list[Path], scale: int) -> float:
    """Mean PSNR of bicubic on the held-out images, under the same protocol: the floor."""
    from minisr.evaluate import bicubic_upscaler, evaluate_image
    return float(np.mean([evaluate_image(imread(p, alpha="drop").astype(np.float64), scale,
                                         bicubic_upscaler)[0] for p in paths]))


def plot_gan_curves(csv_path: Path, png_path: Path) -> None:
    """Generator and discriminator losses, D's beliefs, held-out PSNR and NIQE per step."""
    from matplotlib.figure import Figure
    rows = list(csv.DictReader(csv_path.open()))
    if not rows:
        return
    step = [int(r["step"]) for r in rows]
    fig = Figure(figsize=(13, 3.5))
    a, b, c, d = fig.subplots(1, 4)
    for key in ("loss", "pixel", "content", "adversarial"):
        a.plot(step, [float(r[key]) for r in rows], label=key)
    a.set(xlabel="step", ylabel="generator loss (weighted)", yscale="log")
    a.legend(fontsize=7)
    b.plot(step, [float(r["d_loss"]) for r in rows], label="D loss")
    b.plot(step, [float(r["d_real"]) for r in rows], label="D(real)")
    b.plot(step, [float(r["d_fake"]) for r in rows], label="D(fake)")
    b.set(xlabel="step", ylabel="discriminator")
    b.legend(fontsize=7)
    val = [(int(r["step"]), float(r["val_psnr"]), float(r["val_niqe"])) for r in rows
           if r["val_psnr"]]
    if val:
        s, vp, vn = zip(*val)
        c.plot(s, vp, marker="o")
        d.plot(s, vn, marker="o", color="C3")
    c.set(xlabel="step", ylabel="held-out PSNR (dB)")
    d.set(xlabel="step", ylabel="held-out NIQE (lower = more natural)")
    fig.tight_layout()
    tmp = png_path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=90)
    tmp.replace(png_path)


def train_gan(recipe: dict, data_dir: str | Path | list, out_dir: str | Path, resume: bool = False,
              init: str | Path | None = None, progress: bool = True) -> dict:
    """Run (or continue) a GAN recipe; returns the run's summary (see ``train.train``)."""
    gan = gan_settings(recipe)
    out, last = prepare_run(out_dir, resume)
    scale = int(recipe["scale"])
    init_weights.seed(recipe["seed"])  # G's, then D's initial weights follow the seed
    model = models.get(recipe["model"], scale, residual=recipe["residual"])
    disc = VGGStyleDiscriminator(**gan["discriminator"])
    train_paths, val_paths = split(list_images(data_dir), recipe["val_fraction"],
                                   recipe["seed"])
    data = PatchDataset(train_paths, scale, recipe["patch_size"], model.colour,
                        model.pre_upsampled, recipe["augment"], recipe["downscales"],
                        recipe["seed"])
    opt_g, sched_g = build_optimizer(model, recipe)
    opt_d, sched_d = build_optimizer(disc, {**recipe, "optimizer": gan["d_optimizer"],
                                            "lr_mult": {}})
    features = feature_network(gan["features"], disc, scale)
    d_loss_fn, g_adv_fn = ADVERSARIAL_LOSSES[gan["adversarial"]]
    pixel_fn, w = LOSSES[recipe["loss"]], gan["weights"]
    out.mkdir(parents=True, exist_ok=True)
    step, elapsed, best = 0, 0.0, math.inf
    floor = _validate_bicubic(val_paths, scale) + float(gan["psnr_floor_over_bicubic"])
    if resume:
        extra, _ = load_checkpoint(last, model, opt_g, sched_g)
        if str(extra.get("recipe_hash")) != recipe["_hash"]:
            raise ValueError(f"train: {last} was made by another recipe; resume with the "
                             f"recipe that started the run")
        disc.load_state_dict(extra["discriminator"])
        opt_d.load_state_dict(extra["d_optimizer"])
        sched_d.load_state_dict(extra["d_scheduler"])
        step, elapsed, best = int(extra["step"]), float(extra["elapsed"]), float(extra["best"])
        truncate_log(out / "train.csv", step)
    else:
        init = init or recipe.get("init")
        if init:
            init_from(model, resolve_init(init), recipe.get("init_exclude", ()))
        RunGuard.write_recipe(out, recipe)
        with (out / "train.csv").open("w", newline="") as f:
            csv.writer(f).writerow(COLUMNS)

    def checkpoint():
        save_checkpoint(last, model, opt_g, sched_g, step=step, elapsed=elapsed, best=best,
                        recipe_hash=recipe["_hash"], discriminator=disc.state_dict(),
                        d_optimizer=opt_d.state_dict(), d_scheduler=sched_d.state_dict())

    guard = RunGuard(recipe, scale, step, progress)
    running: dict[str, list[float]] = {}
    t0 = time.perf_counter()
    with guard:
        while step < recipe["steps"] and not guard.stopped:
            x, y = data.batch(step, recipe["batch_size"])
            x, y = Tensor(x), Tensor(y)
            # --- generator step: C fixed -------------------------------------------------
            set_trainable(disc, False)
            sr = model(x)
            terms = {"pixel": pixel_fn(sr, y)}
            if w["content"]:
                terms["content"] = losses.content_loss(sr, y, features)
            if w["gram"]:
                terms["gram"] = losses.gram_loss(sr, y, features)
            if w["tv"]:
                terms["tv"] = losses.tv_loss(sr)
            with no_grad():
                real = disc(y)
            terms["adversarial"] = g_adv_fn(real, disc(sr))
            loss_g = None
            for k, t in terms.items():
                if w[k]:
                    loss_g = t * w[k] if loss_g is None else loss_g + t * w[k]
            values = {k: float(t.item()) * w[k] for k, t in terms.items()}
            values["loss"] = float(loss_g.item())
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            sched_g.step()
            # --- discriminator step: G(x) fixed ------------------------------------------
            set_trainable(disc, True)
            real, fake = disc(y), disc(sr.detach())
            loss_d = d_loss_fn(real, fake)
            values["d_loss"] = float(loss_d.item())
            values["d_real"] = float(F.sigmoid(real.detach()).mean().item())
            values["d_fake"] = float(F.sigmoid(fake.detach()).mean().item())
            bad = [k for k in ("loss", "d_loss") if not math.isfinite(values[k])]
            if bad:
                raise TrainingStopped(f"train: {bad[0]} became {values[bad[0]]} at step "
                                      f"{step + 1}; stopped, the last good checkpoint is {last}")
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            sched_d.step()
            step += 1
            for k, v in values.items():
                running.setdefault(k, []).append(v)
            guard.update(step, values["loss"], values["d_loss"])
            val = None
            if step % recipe["val_every"] == 0 or step == recipe["steps"]:
                val = validate_gan(model, val_paths, scale)
                if val[1] < best and val[0] >= floor:
                    best = val[1]
                    save_weights(model, out / "best.npz",
                                 {"step": step, "val_psnr": val[0], "val_niqe": val[1],
                                  "residual": recipe["residual"]})
                guard.write(f"step {step}: held-out PSNR {val[0]:.3f} dB (floor {floor:.3f}), "
                            f"NIQE {val[1]:.3f} (best NIQE {best:.3f})")
            if step % recipe["log_every"] == 0 or val is not None:
                now = time.perf_counter()
                elapsed, t0 = elapsed + now - t0, now
                row = [step] + [f"{np.mean(running.get(k, [0.0])):.6g}"
                                for k in COLUMNS[1:10]]
                row += [f"{opt_g.param_groups[-1]['lr']:.6g}",
                        "" if val is None else f"{val[0]:.4f}",
                        "" if val is None else f"{val[1]:.4f}", f"{elapsed:.1f}"]
                with (out / "train.csv").open("a", newline="") as f:
                    csv.writer(f).writerow(row)
                running = {}
            if step % recipe["checkpoint_every"] == 0 or val is not None:
                elapsed, t0 = elapsed + time.perf_counter() - t0, time.perf_counter()
                checkpoint()
            if val is not None:
                plot_gan_curves(out / "train.csv", out / "curves.png")
    elapsed += time.perf_counter() - t0
    checkpoint()
    return guard.finish(out, recipe, step, elapsed, best, best_key="best_val_niqe")



__all__ = ["COLUMNS", "GAN_DEFAULTS", "feature_network", "gan_settings", "plot_gan_curves",
           "set_trainable", "train_gan", "validate_gan"]
