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

def _evaluate_add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folders", nargs="+", help="folders of HR images (e.g. Set5, Set14)")
    p.add_argument("--scale", type=int, nargs="+", default=[2, 3, 4],
                   help="integer scale factors (default: 2 3 4)")
    p.add_argument("--method", choices=("bicubic",), default="bicubic",
                   help="the upscaler to evaluate")
    p.add_argument("--per-image", action="store_true", help="also print every image's score")


def _evaluate_run(args: argparse.Namespace) -> int:
    from minisr.evaluate import evaluate_folder, format_table
    rows = []
    for folder in args.folders:
        for scale in args.scale:
            scores, mean = evaluate_folder(folder, scale, progress=sys.stderr.isatty())
            name = os.path.basename(os.path.normpath(folder))
            if args.per_image:
                rows += [(f"{name}/{s.name}", scale, s) for s in scores]
            rows.append((name, scale, mean))
    print(f"# {args.method}; PSNR/SSIM on Y (BT.601), border crop = scale, 8-bit LR/output")
    print(format_table(rows))
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
    except (_UsageError, ValueError) as e:
        print(f"minisr: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
