"""The ``minisr`` command line: one small add-arguments/run pair per subcommand.

    minisr --version
    minisr resize IN OUT (--scale S | --size HxW) [--method M] [--no-antialias]
    minisr evaluate FOLDER... [--scale 2 3 4] [--method bicubic] [--per-image]
    minisr data fetch T91|Set5|Set14 [--dir DIR] [--mirror URL]

Subcommands register in ``COMMANDS`` (name -> help, add_arguments, run); later issues add
``train``, ``upscale`` and ``evaluate`` there. Every user error becomes exit code 2 and one
stderr line ``minisr: error: ...``; outputs are written atomically, so a failed command leaves
no file behind.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Sequence

import numpy as np

import minisr
from minisr.image.io import imread, imwrite
from minisr.image.resize import resize


class _UsageError(Exception):
    """An argparse error, re-raised so ``main`` prints it as one line and returns 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would print usage and sys.exit(2)
        raise _UsageError(message)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and np.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


def _size(text: str) -> tuple[int, int]:
    """Parse 'HxW' (height first, as NumPy shapes) into two positive integers."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"expected HxW with positive integers, got {text!r}")
    return int(parts[0]), int(parts[1])


# ---- resize ------------------------------------------------------------------------------

def _resize_add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="PNG, BMP or JPEG image")
    p.add_argument("output", help="output path; the format follows the extension")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--scale", type=_positive_float, help="scale factor, e.g. 2 or 0.5")
    group.add_argument("--size", type=_size, help="output size HxW (height x width)")
    p.add_argument("--method", choices=("bicubic", "bilinear", "nearest"), default="bicubic")
    p.add_argument("--no-antialias", action="store_true",
                   help="do not widen the kernel when downscaling")


def _resize_run(args: argparse.Namespace) -> int:
    img = imread(args.input, alpha="keep")  # alpha is resized like any other channel
    out = resize(img, scale=args.scale, size=args.size, method=args.method,
                 antialias=False if args.no_antialias else None)
    imwrite(args.output, np.clip(out, 0.0, 1.0))
    print(f"{args.input} {img.shape[1]}x{img.shape[0]} -> {args.output} "
          f"{out.shape[1]}x{out.shape[0]} ({args.method})")
    return 0


# ---- evaluate ----------------------------------------------------------------------------

def _scales(text: str) -> list[int]:
    """'3' or '2,3,4' -> integer scale factors >= 2 (one token, so it never swallows the
    folder arguments that follow it)."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers like 3 or 2,3,4, got {text!r}")
    if not values or any(v < 2 or v > 8 for v in values):
        raise argparse.ArgumentTypeError(f"scales must be integers in 2..8, got {text!r}")
    return values


def _evaluate_add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folders", nargs="+", help="folders of HR images (e.g. Set5, Set14)")
    p.add_argument("--scale", type=_scales, action="extend",
                   help="scale factors, e.g. 3 or 2,3,4 (default: 2,3,4, or every scale "
                        "the model ships weights for)")
    p.add_argument("--model", help="a model name (see minisr.models.names()); default: "
                                   "bicubic only")
    p.add_argument("--weights", help="weights file for --model (default: the shipped ones)")
    p.add_argument("--self-ensemble", action="store_true",
                   help="average the eight flips/rotations (EDSR's x8)")
    p.add_argument("--method", choices=("bicubic",), default="bicubic",
                   help="the interpolation baseline beside the model")
    p.add_argument("--per-image", action="store_true", help="also print every image's score")
    p.add_argument("--format", choices=("text", "markdown", "csv"), default="text")


def _evaluate_run(args: argparse.Namespace) -> int:
    from minisr import models
    from minisr.evaluate import evaluate_folder, format_table
    from minisr.upscale import model_upscaler, multiply_adds
    scales = args.scale
    if args.model is None and (args.weights or args.self_ensemble):
        raise ValueError("evaluate: --weights and --self-ensemble need --model")
    if args.model is not None:
        models.get(args.model, 2)  # unknown names fail here, listing what exists
        if scales is None:
            if args.weights:
                raise ValueError("evaluate: with --weights, give its --scale")
            scales = [s for n, s in models.pretrained() if n == args.model]
            if not scales:
                models.weights_path(args.model, 3)  # the one-line error listing weights
    scales = scales or [2, 3, 4]

    def report(path, message):
        print(f"minisr: warning: skipped {path}: {message}", file=sys.stderr)

    rows = []
    progress = sys.stderr.isatty()
    for folder in args.folders:
        name = os.path.basename(os.path.normpath(folder))
        for scale in scales:
            entries = [("bicubic", None)]
            if args.model is not None:
                if args.weights:
                    from minisr.nn import load_weights
                    model = models.get(args.model, scale)
                    load_weights(model, args.weights)
                    model.eval()
                else:
                    model = models.load_pretrained(args.model, scale)
                entries.append((args.model + (" +x8" if args.self_ensemble else ""), model))
            for method, model in entries:
                kw = {} if model is None else {
                    "upscaler": model_upscaler(model, ensemble=args.self_ensemble)}
                scores, mean = evaluate_folder(folder, scale, progress=progress,
                                               on_error=report, **kw)
                facts = {} if model is None else {
                    "params": model.num_parameters(),
                    "gmacs": multiply_adds(model) / 1e9}
                for s in (scores if args.per_image else []):
                    rows.append(dict(dataset=f"{name}/{s.name}", scale=scale, method=method,
                                     score=s, **facts))
                rows.append(dict(dataset=name, scale=scale, method=method, score=mean,
                                 **facts))
    print(format_table(rows, args.format))
    return 0


# ---- train -------------------------------------------------------------------------------

def _train_add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--recipe", help="recipe file, or a shipped recipe's name (e.g. espcn_x3)")
    p.add_argument("--model", help="model name (without --recipe: the default recipe)")
    p.add_argument("--scale", type=int, help="scale factor (overrides the recipe's)")
    p.add_argument("--data", required=True, help="folder of training HR images (e.g. T91)")
    p.add_argument("--out", required=True, help="run folder (train.csv, checkpoints, curves)")
    p.add_argument("--steps", type=int, help="number of steps (overrides the recipe's)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--init", help="start from these weights (matching names and shapes)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _train_run(args: argparse.Namespace) -> int:
    from minisr.train import DEFAULTS, TrainingStopped, load_recipe, train
    if args.recipe:
        recipe = load_recipe(args.recipe)
    elif args.model and args.scale:
        name = f"{args.model.replace('-', '_')}_x{args.scale}"
        try:
            recipe = load_recipe(name)
        except ValueError:
            recipe = {**DEFAULTS, "model": args.model, "scale": args.scale, "_hash": "cli"}
    else:
        raise ValueError("train: give --recipe, or --model and --scale")
    for key in ("model", "scale", "steps"):
        if getattr(args, key) is not None:
            recipe[key] = getattr(args, key)
    try:
        summary = train(recipe, args.data, args.out, resume=args.resume, init=args.init,
                        progress=not args.no_progress)
    except TrainingStopped as e:
        raise ValueError(str(e)) from None
    print(f"trained {summary['model']} x{summary['scale']}: {summary['steps']} steps in "
          f"{summary['wall_clock_s'] / 60:.1f} min, best validation PSNR "
          f"{summary['best_val_psnr']:.3f} dB -> {args.out}")
    return 0


# ---- data --------------------------------------------------------------------------------

def _data_add_arguments(p: argparse.ArgumentParser) -> None:
    from minisr.data.fetch import add_arguments  # choices come from the manifest
    add_arguments(p)


def _data_run(args: argparse.Namespace) -> int:
    from minisr.data.fetch import run
    return run(args)


# name -> (help, add_arguments, run)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None],
                          Callable[[argparse.Namespace], int]]] = {
    "resize": ("resize an image like MATLAB imresize", _resize_add_arguments, _resize_run),
    "evaluate": ("PSNR/SSIM on benchmark folders under the SR papers' protocol",
                 _evaluate_add_arguments, _evaluate_run),
    "train": ("train a model from a recipe on a folder of images", _train_add_arguments,
              _train_run),
    "data": ("download the standard datasets (T91, Set5, Set14)", _data_add_arguments,
             _data_run),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per entry of ``COMMANDS``."""
    parser = _Parser(prog="minisr", description="Single-image super-resolution from scratch.")
    parser.add_argument("--version", action="version", version=f"minisr {minisr.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(p)
        p.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit code (0 ok, 2 user error)."""
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except SystemExit as e:  # --help and --version exit through argparse
        return e.code if isinstance(e.code, int) else 0
    except KeyboardInterrupt as e:
        print(f"minisr: interrupted{': ' + str(e) if str(e) else ''}", file=sys.stderr)
        return 130
    except (_UsageError, ValueError) as e:
        print(f"minisr: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
