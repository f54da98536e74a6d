"""Models from the literature and the registry that builds them by name.

``get(name, scale)`` builds an untrained model; ``load_pretrained(name, scale)`` one with
the weights shipped in ``models/weights/`` (their provenance in ``weights/manifest.json``).
Every model states ``scale``, ``colour`` ('y' | 'rgb'), ``pre_upsampled`` (takes a
bicubic-upscaled input), ``residual`` (adds the bicubic upscale of its input to its output;
recorded per weight file in the manifest) and ``receptive_radius`` (in input pixels), so
the upscaler, tiling and evaluation never special-case a model by name.

A GAN-trained model's manifest entry may name its PSNR ``twin`` (the same architecture,
trained for PSNR); ``load_interpolated`` blends the two (ESRGAN's network interpolation,
``models/interpolate.py``).
"""
from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Callable

from minisr.models.edsr import EDSR
from minisr.models.espcn import ESPCN
from minisr.models.fsrcnn import FSRCNN
from minisr.models.interpolate import check_alpha, interpolate
from minisr.models.lapsrn import LapSRN
from minisr.models.rcan import RCAN
from minisr.models.srlut import SRLUTNet
from minisr.models.srcnn import SRCNN
from minisr.nn import Module, load_weights
from minisr.nn.serialization import load_npz

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
SCALES = (2, 3, 4)

# name -> constructor taking ``scale``
_REGISTRY: dict[str, Callable[[int], Module]] = {
    "srcnn": partial(SRCNN, f2=1),            # 9-1-5
    "srcnn-955": partial(SRCNN, f2=5),
    "fsrcnn": partial(FSRCNN, d=56, s=12, m=4),
    "fsrcnn-s": partial(FSRCNN, d=32, s=5, m=1),
    "espcn": ESPCN,
    "edsr-small": partial(EDSR, num_features=32, num_blocks=8),
    # ESRGAN-style x4: the EDSR-small generator trained with a GAN loss; its PSNR twin
    # (``twin``) is named in the manifest.
    "edsr-small-gan": partial(EDSR, num_features=32, num_blocks=8),
    # progressive x2 steps; one set of weights serves x2, x4 and x8
    "lapsrn": partial(LapSRN, num_features=32, depth=10),
    # channel attention at EDSR-small's cost (fewer multiply-adds, see rcan.py)
    "rcan-small": partial(RCAN, num_features=30, num_groups=2, num_blocks=4, squeeze_factor=6),
    # SR-LUT-S's network, trained with its rotation ensemble, before it becomes a table
    "sr-lut-net": SRLUTNet,
}
# the scales a model is built for, where not SCALES
_MODEL_SCALES: dict[str, tuple[int, ...]] = {"lapsrn": (2, 4, 8)}


def names() -> list[str]:
    """Every model name ``get`` accepts."""
    return list(_REGISTRY)


def scales(name: str) -> tuple[int, ...]:
    """The scale factors ``get(name, scale)`` accepts (2, 3, 4; LapSRN 2, 4, 8)."""
    return _MODEL_SCALES.get(name, SCALES)


def get(name: str, scale: int, residual: bool = False) -> Module:
    """A freshly initialised model; a one-line ValueError lists what exists.

    ``residual=True``: the same architecture and weights, learning a residual over bicubic.
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; models: {', '.join(names())}")
    if scale not in scales(name):
        raise ValueError(f"model {name}: scale must be one of {scales(name)}, got {scale!r}")
    model = _REGISTRY[name](scale=scale, residual=bool(residual))
    model.name = name
    return model


def manifest() -> dict:
    """{'name-xS': entry} for every shipped weight file (empty when none ship yet)."""
    path = WEIGHTS_DIR / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {}


def pretrained() -> list[tuple[str, int]]:
    """(name, scale) of every shipped weight file, in manifest order."""
    return [(e["model"], int(e["scale"])) for e in manifest().values()]


def weights_path(name: str, scale: int) -> Path:
    """The shipped ``.npz`` for (name, scale); a one-line ValueError lists what exists."""
    entry = manifest().get(f"{name}-x{scale}")
    if entry is None:
        have = ", ".join(f"{n} x{s}" for n, s in pretrained()) or "none yet"
        raise ValueError(f"no pretrained weights for {name} x{scale}; shipped: {have}")
    return WEIGHTS_DIR / entry["file"]


def load_pretrained(name: str, scale: int) -> Module:
    """``get(name, scale)`` with the shipped weights loaded, in eval mode."""
    return load_file(name, scale, weights_path(name, scale))


def twin(name: str, scale: int) -> tuple[str, int] | None:
    """(name, scale) of the PSNR twin the manifest records for the shipped (name, scale),
    or None when it records none; the ``weights_path`` ValueError when (name, scale) is
    not shipped."""
    weights_path(name, scale)
    key = manifest()[f"{name}-x{scale}"].get("twin")
    if key is None:
        return None
    entry = manifest().get(key)
    if entry is None:
        raise ValueError(f"manifest: {name}-x{scale} names the twin {key!r}, which is not "
                         f"shipped")
    return entry["model"], int(entry["scale"])


def load_interpolated(name: str, scale: int, alpha: float) -> Module:
    """The shipped (name, scale) blended with its PSNR twin, in eval mode:
    alpha * theta_twin + (1 - alpha) * theta_name (alpha = 1: the twin, 0: the model)."""
    alpha = check_alpha(alpha)
    pair = twin(name, scale)
    if pair is None:
        raise ValueError(f"model {name} x{scale} has no PSNR twin to interpolate with")
    return interpolate(load_pretrained(*pair), load_pretrained(name, scale), alpha)


def load_file(name: str, scale: int, path: str | Path) -> Module:
    """``get(name, scale)`` with the weights of ``path`` (shipped, or a run's ``best.npz``),
    in eval mode; residual over bicubic when the file's metadata says it was trained so."""
    _, meta = load_npz(path)
    model = get(name, scale, residual=bool(meta.get("residual", False)))
    load_weights(model, path)
    return model.eval()


__all__ = ["EDSR", "ESPCN", "FSRCNN", "LapSRN", "RCAN", "SCALES", "SRCNN", "SRLUTNet",
           "WEIGHTS_DIR", "get", "interpolate", "load_file", "load_interpolated", "load_pretrained", "manifest",
           "names", "pretrained", "scales", "twin", "weights_path"]
