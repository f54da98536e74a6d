"""Training data: a folder of HR images as aligned (LR, HR) patch pairs.

HR images are mod-cropped to the scale; the LR is minisr's MATLAB-style bicubic downscale
stored as 8-bit, exactly the evaluation protocol's LR, so the network is trained on the
input it is measured on. Batches are random aligned patches with flips and 90-degree
rotations, float32 NCHW, and depend only on (seed, step): batch k is the same whether a
run started at step 0 or resumed at step k. ``split`` holds images out for validation,
keeping identical images (T91's t36 and t65) on one side.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from minisr.image.color import rgb_to_y
from minisr.image.io import EXTENSIONS, imread, quantize
from minisr.image.resize import imresize_to_lr, modcrop, resize

# FSRCNN's data augmentation: every training image also at these down-scaled sizes.
FSRCNN_DOWNSCALES = (1.0, 0.9, 0.8, 0.7, 0.6)


def list_images(folders: str | Path | Sequence[str | Path]) -> list[Path]:
    """The PNG/BMP/JPEG files of a folder, sorted by name, or of several folders one after
    the other (``[T91, BSDS200]``: the "291" set of VDSR and LapSRN). A missing or empty
    folder is a one-line error."""
    if isinstance(folders, (str, os.PathLike)):
        folders = [folders]
    out: list[Path] = []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise ValueError(f"data: {str(folder)!r} is not a folder")
        paths = sorted((p for p in folder.iterdir() if p.suffix.lower() in EXTENSIONS),
                       key=lambda p: (len(p.stem), p.stem))
        if not paths:
            raise ValueError(f"data: no PNG/BMP/JPEG images in {str(folder)!r}")
        out.extend(paths)
    if not out:
        raise ValueError("data: no training folder given")
    return out


def split(paths: list[Path], val_fraction: float = 0.1, seed: int = 0
          ) -> tuple[list[Path], list[Path]]:
    """(train, val): a seeded random ``val_fraction`` of the images held out.

    Files with identical pixels form one group and land on the same side, so no
    validation image is also a training image.
    """
    groups: dict[str, list[Path]] = {}
    for p in paths:
        img = imread(p, alpha="drop")
        groups.setdefault(hashlib.sha256(img.tobytes()).hexdigest(), []).append(p)
    keys = sorted(groups, key=lambda k: str(groups[k][0]))
    order = np.random.default_rng(seed).permutation(len(keys))
    n_val = max(1, int(round(val_fraction * len(keys)))) if val_fraction > 0 else 0
    val_keys = {keys[i] for i in order[:n_val]}
    train = [p for k in keys if k not in val_keys for p in groups[k]]
    val = [p for k in keys if k in val_keys for p in groups[k]]
    return sorted(train, key=paths.index), sorted(val, key=paths.index)


def lr_hr_pair(hr: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """(8-bit LR, mod-cropped HR), the protocol's pair.

    Shape:
        hr: (H, W, C) float in [0, 1]  ->  lr (H // s, W // s, C), hr (H - H % s, W - W % s, C)
    """
    hr = modcrop(hr, scale)
    return quantize(np.clip(imresize_to_lr(hr, scale), 0.0, 1.0)), hr


def to_network(img: np.ndarray, colour: str, dtype=np.float32) -> np.ndarray:
    """An (H, W, C) image in [0, 1] as the network sees it: (C', H, W) in ``dtype``.

    ``colour='y'``: the BT.601 Y channel (gray counts as R = G = B); ``'rgb'``: RGB, with a
    gray image repeated over three channels.
    """
    if colour == "y":
        return rgb_to_y(img.astype(np.float64)).astype(dtype)[None]
    if img.ndim == 2:
        img = img[..., None]
    if img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    return np.ascontiguousarray(img.transpose(2, 0, 1), dtype=dtype)


@dataclass
class _Pair:
    lr: np.ndarray  # (C, h, w) network input (bicubic-upscaled when pre_upsampled)
    hr: np.ndarray  # (C, H, W)


class PatchDataset:
    """Aligned random patches from a list of HR images.

    Parameters:
        paths: HR image files.
        scale: the upscaling factor.
        patch_size: LR patch side (HR side = patch_size * scale); for pre-upsampled
            models the input patch is the bicubic-upscaled LR, of the HR side.
        colour: 'y' or 'rgb'.
        pre_upsampled: give the bicubic-upscaled LR as input (SRCNN).
        augment: random horizontal flips and 90-degree rotations.
        downscales: HR image scales to add (FSRCNN's augmentation), e.g. ``(1, 0.9, 0.8)``.
        seed: with the step number, fixes every batch.
    """

    def __init__(self, paths, scale: int, patch_size: int, colour: str = "y",
                 pre_upsampled: bool = False, augment: bool = True, downscales=(1.0,),
                 seed: int = 0):
        if colour not in ("y", "rgb"):
            raise ValueError(f"data: colour must be 'y' or 'rgb', got {colour!r}")
        self.scale, self.patch_size, self.colour = scale, patch_size, colour
        self.pre_upsampled, self.augment, self.seed = pre_upsampled, augment, seed
        self.pairs: list[_Pair] = []
        for path in paths:
            img = imread(path, alpha="drop").astype(np.float64)
            for f in downscales:
                hr = img if f == 1.0 else np.clip(resize(img, f), 0.0, 1.0)
                if min(hr.shape[:2]) // scale < patch_size:
                    continue
                lr, hr = lr_hr_pair(hr, scale)
                x = to_network(lr, colour)
                if pre_upsampled:  # bicubic on the network's channels, as at test time
                    x = np.ascontiguousarray(resize(x.transpose(1, 2, 0).astype(np.float64),
                                                    float(scale)).reshape(
                        hr.shape[0], hr.shape[1], -1).transpose(2, 0, 1), dtype=np.float32)
                self.pairs.append(_Pair(x, to_network(hr, colour)))
        if not self.pairs:
            raise ValueError(f"data: no image is at least {patch_size * scale} px a side")
        areas = np.array([p.hr.shape[1] * p.hr.shape[2] for p in self.pairs], dtype=np.float64)
        self._weights = areas / areas.sum()  # sample images in proportion to their area

    def __len__(self) -> int:
        return len(self.pairs)

    def batch(self, step: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch number ``step``: (input (N, C, p', p'), target (N, C, p s, p s)) float32."""
        rng = np.random.default_rng([self.seed, step])
        s, p = self.scale, self.patch_size
        q = p * s if self.pre_upsampled else p  # input patch side
        c = 1 if self.colour == "y" else 3
        xs = np.empty((batch_size, c, q, q), np.float32)
        ys = np.empty((batch_size, c, p * s, p * s), np.float32)
        for k, i in enumerate(rng.choice(len(self.pairs), size=batch_size, p=self._weights)):
            pair = self.pairs[i]
            h, w = pair.hr.shape[1] // s, pair.hr.shape[2] // s
            top, left = rng.integers(0, h - p + 1), rng.integers(0, w - p + 1)
            y = pair.hr[:, top * s:(top + p) * s, left * s:(left + p) * s]
            f = s if self.pre_upsampled else 1
            x = pair.lr[:, top * f:top * f + q, left * f:left * f + q]
            if self.augment:
                flip, rot = rng.integers(0, 2), rng.integers(0, 4)
                x, y = _transform(x, flip, rot), _transform(y, flip, rot)
            xs[k], ys[k] = x, y
        return xs, ys


def _transform(a: np.ndarray, flip: int, rot: int) -> np.ndarray:
    """One of the eight dihedral transforms of a (C, H, W) patch."""
    if flip:
        a = a[:, :, ::-1]
    return np.rot90(a, rot, axes=(1, 2))


def pyramid_targets(hr: np.ndarray, levels: int) -> list[np.ndarray]:
    """Each level's ground truth for an HR batch (N, C, H, W) at ``2 ** levels`` times the
    LR size: the HR patch downscaled by 2 ** (levels - l) with MATLAB's bicubic (as LapSRN
    makes them), for l = 1 .. levels; the last is ``hr`` itself."""
    N, C, H, W = hr.shape
    stack = hr.reshape(N * C, H, W).transpose(1, 2, 0)
    out = []
    for level in range(1, levels):
        f = 2 ** (levels - level)
        small = resize(stack, 1.0 / f)
        out.append(np.ascontiguousarray(small.transpose(2, 0, 1).reshape(N, C, H // f, W // f),
                                        dtype=hr.dtype))
    return out + [hr]


__all__ = ["FSRCNN_DOWNSCALES", "PatchDataset", "list_images", "lr_hr_pair", "pyramid_targets",
           "split", "to_network"]
