"""The ``minisr`` command line: one small add-arguments/run pair per subcommand.

    minisr --version
    minisr resize IN OUT (--scale S | --size HxW) [--method M] [--no-antialias]
    minisr upscale IN -o OUT [--scale 3] [--model espcn] [--tile T] [--self-ensemble]
    minisr evaluate FOLDER... [--scale 2,3,4] [--model M] [--per-image] [--niqe]
    minisr train (--recipe R | --model M --scale S) --data DIR [DIR ...] --out RUN [--resume]
    minisr demo [--scale 3] [-o FIGURE]
    minisr data fetch T91|BSDS200|Set5|Set14 [--dir DIR] [--mirror URL]

Subcommands register in ``COMMANDS`` (name -> help, add_arguments, run). Image sizes, given
or printed, are height x width (HxW), as NumPy shapes. Every user error becomes exit code 2
and one stderr line ``minisr: error: ...``; outputs are written atomically, so a failed
command leaves no file behind.
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

__all__ = ["COMMANDS", "build_parser", "main"]


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
    p.add_argument("output", nargs="?", help="output path; the format follows the extension")
    p.add_argument("-o", "--output", dest="output_opt", metavar="OUTPUT",
                   help="the output path, given as an option (as minisr upscale takes it)")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--scale", type=_positive_float, help="scale factor, e.g. 2 or 0.5")
    group.add_argument("--size", type=_size, help="output size HxW (height x width)")
    p.add_argument("--method", choices=("bicubic", "bilinear", "nearest"), default="bicubic")
    p.add_argument("--no-antialias", action="store_true",
                   help="do not widen the kernel when downscaling")
    p.add_argument("--max-pixels", type=int, default=None,
                   help="largest output allowed, in pixels (default 300,000,000)")
    p.epilog = ("Sizes are height x width (HxW), as NumPy shapes, both in --size and in the "
                "line printed: 'IN HxW -> OUT HxW (method)'.")


def _resize_run(args: argparse.Namespace) -> int:
    from minisr.image.resize import output_size
    from minisr.inference import MAX_OUTPUT_PIXELS
    if (args.output is None) == (args.output_opt is None):
        raise _UsageError("resize: give the output path once, as OUTPUT or as -o OUTPUT")
    output = args.output or args.output_opt
    _check_output_file(output, "resize")
    img = imread(args.input, alpha="keep")  # alpha is resized like any other channel
    limit = args.max_pixels or MAX_OUTPUT_PIXELS
    (out_h, out_w), _ = output_size(img.shape[:2], scale=args.scale, size=args.size)
    if out_h * out_w > limit:  # refuse before allocating, like an image library's bomb guard
        raise ValueError(f"resize: the result would be {out_h}x{out_w} = {out_h * out_w:,} "
                         f"pixels, above the limit of {limit:,} (lift it with --max-pixels)")
    out = resize(img, scale=args.scale, size=args.size, method=args.method,
                 antialias=False if args.no_antialias else None)
    imwrite(output, np.clip(out, 0.0, 1.0))
    print(f"{args.input} {img.shape[0]}x{img.shape[1]} -> {output} "
          f"{out.shape[0]}x{out.shape[1]} ({args.method})")
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
    p.add_argument("--niqe", action="store_true",
                   help="also report NIQE of the outputs (no reference; lower is more natural)")
    p.add_argument("--format", choices=("text", "markdown", "csv"), default="text")


def _evaluate_run(args: argparse.Namespace) -> int:
    from minisr import models
    from minisr.evaluate import evaluate_folder, format_table
    from minisr.inference import model_upscaler, multiply_adds
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
                    model = models.load_file(args.model, scale, args.weights)
                else:
                    model = models.load_pretrained(args.model, scale)
                entries.append((args.model + (" +x8" if args.self_ensemble else ""), model))
            for method, model in entries:
                kw = {} if model is None else {
                    "upscaler": model_upscaler(model, ensemble=args.self_ensemble)}
                scores, mean = evaluate_folder(folder, scale, progress=progress,
                                               on_error=report, niqe=args.niqe, **kw)
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
    p.add_argument("--data", required=True, nargs="+",
                   help="folder(s) of training HR images (e.g. T91, or T91 BSDS200: the 291 set)")
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
    if recipe.get("gan"):  # two networks, alternating updates
        from minisr.train_gan import train_gan as train
    try:
        summary = train(recipe, args.data, args.out, resume=args.resume, init=args.init,
                        progress=not args.no_progress)
    except TrainingStopped as e:
        raise ValueError(str(e)) from None
    best = (f"best held-out NIQE {summary['best_val_niqe']:.3f}" if "best_val_niqe" in summary
            else f"best validation PSNR {summary['best_val_psnr']:.3f} dB")
    print(f"trained {summary['model']} x{summary['scale']}: {summary['steps']} steps in "
          f"{summary['wall_clock_s'] / 60:.1f} min, {best} -> {args.out}")
    return 0


# ---- data --------------------------------------------------------------------------------

def _data_add_arguments(p: argparse.ArgumentParser) -> None:
    from minisr.data.fetch import add_arguments  # choices come from the manifest
    add_arguments(p)


def _data_run(args: argparse.Namespace) -> int:
    from minisr.data.fetch import run
    return run(args)


# ---- upscale -----------------------------------------------------------------------------

def _upscale_add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="an image (PNG, BMP, JPEG) or a folder of them")
    p.add_argument("-o", "--output", required=True,
                   help="output image (for a folder input: an output folder)")
    p.add_argument("--scale", type=_positive_float, default=3.0, help="scale factor (3)")
    p.add_argument("--model", default="espcn",
                   help="a shipped model, or bicubic / bilinear / nearest (espcn)")
    p.add_argument("--tile", type=int, default=None,
                   help="tile side in input pixels (default 256; 0: no tiling)")
    p.add_argument("--self-ensemble", action="store_true",
                   help="average the eight flips/rotations (8x slower)")
    p.add_argument("--compare", help="also write a figure: bicubic | model, with a zoom")
    p.add_argument("--bit-depth", type=int, choices=(8, 16), default=8,
                   help="output bits per channel (16: gray PNG only)")
    p.add_argument("--max-pixels", type=int, default=None,
                   help="largest output allowed, in pixels (default 300,000,000)")
    p.add_argument("--alpha", type=_alpha, default=None, metavar="A",
                   help="network interpolation (ESRGAN) for a GAN model with a PSNR twin, "
                        "e.g. --model edsr-small-gan --scale 4: blend the weights as "
                        "A * twin + (1 - A) * model; A = 1 is the PSNR twin, 0 the GAN "
                        "model")


def _alpha(text: str) -> float:
    """--alpha: a number in [0, 1] (NaN and inf refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (np.isfinite(value) and 0.0 <= value <= 1.0):
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text!r}")
    return value


def _check_output_file(path: str, command: str = "upscale") -> None:
    """Fail before any work if ``path`` cannot be written."""
    from minisr.image.io import EXTENSIONS
    if os.path.isdir(path):
        raise ValueError(f"{command}: {path!r} is a folder; give an output file name")
    ext = os.path.splitext(path)[1].lower()
    if ext not in EXTENSIONS:
        raise ValueError(f"{command}: {path!r}: unsupported extension {ext or '(none)'!r}; "
                         f"use {', '.join(sorted(EXTENSIONS))}")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ValueError(f"{command}: output folder {parent!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"{command}: output folder {parent!r} is not writable")


def _upscale_one(args, src: str, dst: str) -> str:
    from minisr.inference import MAX_OUTPUT_PIXELS, upscale
    img = imread(src, alpha="keep")
    limit = args.max_pixels or MAX_OUTPUT_PIXELS
    dtype = np.uint16 if args.bit_depth == 16 else np.uint8
    scale = int(args.scale) if float(args.scale).is_integer() else args.scale
    out = upscale(img, scale, args.model, tile=args.tile, self_ensemble=args.self_ensemble,
                  max_pixels=limit, dtype=dtype, alpha=args.alpha)
    imwrite(dst, out, bit_depth=args.bit_depth)
    if args.compare:
        from minisr.demo import compare_figure
        from minisr.inference import upscale as up
        bic = up(img, scale, "bicubic", max_pixels=limit)
        compare_figure(args.compare, [("bicubic", bic),
                                      (args.model, out.astype(np.float32) / np.iinfo(dtype).max)])
    alpha = "" if args.alpha is None else f", alpha {args.alpha:g}"
    return (f"{src} {img.shape[0]}x{img.shape[1]} -> {dst} {out.shape[0]}x{out.shape[1]} "
            f"({args.model} x{args.scale:g}{alpha})")


def _upscale_run(args: argparse.Namespace) -> int:
    if args.tile is not None and args.tile < 0:
        raise ValueError(f"upscale: --tile must be >= 0, got {args.tile}")
    if args.alpha is not None:  # before any image is read: a model without a twin refuses
        from minisr.inference import check_interpolation
        check_interpolation(args.model, args.scale, args.alpha)
    if args.compare:
        _check_output_file(args.compare)
    if not os.path.isdir(args.input):
        if not os.path.exists(args.input):
            raise ValueError(f"upscale: {args.input!r}: no such file or folder")
        _check_output_file(args.output)
        print(_upscale_one(args, args.input, args.output))
        return 0
    from minisr.image.io import EXTENSIONS
    if not os.path.isdir(args.output):
        raise ValueError(f"upscale: output folder {args.output!r} does not exist (the input "
                         f"is a folder, so the output must be one)")
    if not os.access(args.output, os.W_OK):
        raise ValueError(f"upscale: output folder {args.output!r} is not writable")
    if args.compare:
        raise ValueError("upscale: --compare takes a single image, not a folder")
    names = sorted(n for n in os.listdir(args.input)
                   if os.path.splitext(n)[1].lower() in EXTENSIONS
                   and os.path.isfile(os.path.join(args.input, n)))
    if not names:
        raise ValueError(f"upscale: no PNG/BMP/JPEG images in {args.input!r}")
    from tqdm import tqdm
    done, failed = 0, []
    for name in tqdm(names, desc="upscale", disable=not sys.stderr.isatty()):
        try:
            _upscale_one(args, os.path.join(args.input, name),
                         os.path.join(args.output, name))
            done += 1
        except ValueError as e:
            failed.append(name)
            print(f"minisr: skipped: {' '.join(str(e).split())}", file=sys.stderr)
    print(f"upscaled {done} of {len(names)} images into {args.output}"
          + (f"; skipped {len(failed)}: {', '.join(failed)}" if failed else ""))
    return 2 if failed else 0


# ---- demo --------------------------------------------------------------------------------

def _demo_add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scale", type=int, choices=(2, 3, 4), default=3)
    p.add_argument("-o", "--output", default="minisr-demo.png",
                   help="comparison figure to write (minisr-demo.png)")


def _demo_run(args: argparse.Namespace) -> int:
    from minisr.demo import run_demo
    _check_output_file(args.output)
    rows = run_demo(args.scale, args.output)
    print(f"# Grace Hopper photo (matplotlib sample data), x{args.scale}; PSNR/SSIM on Y, "
          f"border crop {args.scale}, 8-bit LR and output")
    print(f"{'method':<12}{'PSNR':>8}{'SSIM':>9}{'seconds':>9}")
    for r in rows:
        print(f"{r['method']:<12}{r['psnr']:>8.2f}{r['ssim']:>9.4f}{r['seconds']:>9.3f}")
    print(f"figure: {args.output}")
    return 0


# name -> (help, add_arguments, run)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None],
                          Callable[[argparse.Namespace], int]]] = {
    "resize": ("resize an image like MATLAB imresize", _resize_add_arguments, _resize_run),
    "evaluate": ("PSNR/SSIM on benchmark folders under the SR papers' protocol",
                 _evaluate_add_arguments, _evaluate_run),
    "train": ("train a model from a recipe on a folder of images", _train_add_arguments,
              _train_run),
    "upscale": ("super-resolve an image or a folder with a shipped model",
                _upscale_add_arguments, _upscale_run),
    "demo": ("bicubic vs every shipped model on a bundled photo (no data, no network)",
             _demo_add_arguments, _demo_run),
    "data": ("download the standard datasets (T91, BSDS200, Set5, Set14)", _data_add_arguments,
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
