"""NIQE, the "completely blind" naturalness index (Mittal, Soundararajan, Bovik, SPL 2013).

No reference image: NIQE fits a 36-dimensional Gaussian to natural-scene statistics of an
image's 96x96 patches at two scales and measures how far it lies from the Gaussian fitted
once to pristine photographs. Lower is more natural; blur, noise, ringing and JPEG blocking
raise it. SR papers quote it beside PSNR/SSIM (PIRM 2018's perceptual index uses it). The
statistics are in ``nss.py`` (read that first); here are the pristine model, the patch
features at two scales, the distance, and the model fit of the release's
``estimatemodelparam.m``.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Union

import numpy as np

from minisr.image.color import rgb_to_y
from minisr.image.io import EXTENSIONS, imread
from minisr.image.resize import resize
from minisr.metrics.nss import NUM_FEATURES, mscn, patch_features_cpu, patch_features_ref
from minisr.metrics.psnr import _INT_MAX, _as_hwc, _to_scale

__all__ = ["PATCH_SIZE", "SHARPNESS_THRESHOLD", "NiqeModel", "pristine_model",
           "niqe_features", "fit_niqe_model", "niqe"]

PATCH_SIZE = 96            # the release's patch (block) size, no overlap
SHARPNESS_THRESHOLD = 0.75  # pristine patches kept: sharpness > 0.75 of the image's peak
_PRISTINE = Path(__file__).with_name("data") / "niqe_pristine.npz"
# MATLAB rgb2gray: the first row of the inverse of the NTSC YIQ matrix,
# (0.298936021293775, 0.587043074451121, 0.114020904255103).
_GRAY = np.linalg.inv(np.array([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647],
                                [1.0, -1.106, 1.703]]))[0]
_FEATURES = {"cpu": patch_features_cpu, "ref": patch_features_ref}

_Images = Union[str, os.PathLike, Iterable[Union[np.ndarray, str, os.PathLike]]]


@dataclass(frozen=True)
class NiqeModel:
    """A multivariate Gaussian of patch features: mean (36,), covariance (36, 36), and the
    patch size its features were taken at (the test image must use the same)."""
    mean: np.ndarray
    cov: np.ndarray
    patch_size: int = PATCH_SIZE

    def __post_init__(self):
        d = 2 * NUM_FEATURES
        mean = np.asarray(self.mean, dtype=np.float64).reshape(-1)
        cov = np.asarray(self.cov, dtype=np.float64)
        if mean.shape != (d,) or cov.shape != (d, d):
            raise ValueError(f"NiqeModel: expected mean ({d},) and cov ({d}, {d}), got "
                             f"{np.shape(self.mean)} and {np.shape(self.cov)}")
        if not (np.isfinite(mean).all() and np.isfinite(cov).all()):
            raise ValueError("NiqeModel: mean and cov must be finite")
        _check_patch_size(self.patch_size, "NiqeModel")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "cov", cov)


def _check_patch_size(p: int, name: str) -> None:
    # Even, so that the second scale's patches are exactly p / 2 (the release's blocks).
    if int(p) != p or p < 8 or p % 2:
        raise ValueError(f"{name}: patch_size must be an even integer >= 8, got {p!r}")


@functools.lru_cache(maxsize=None)
def pristine_model() -> NiqeModel:
    """The authors' pristine model (``data/niqe_pristine.npz``, read once; its arrays are
    read-only). Provenance: ``data/niqe_pristine.md``."""
    with np.load(_PRISTINE) as f:
        model = NiqeModel(f["mean"], f["cov"], int(f["patch_size"]))
    model.mean.flags.writeable = False
    model.cov.flags.writeable = False
    return model


def _luma(img: np.ndarray, crop_border: int, data_range: float, convert_to: str,
          quantize: bool, name: str) -> np.ndarray:
    """The gray image NIQE measures, (H', W') float64 on the 0..255 scale."""
    if convert_to not in ("y", "gray"):
        raise ValueError(f"{name}: convert_to must be 'y' or 'gray', got {convert_to!r}")
    if data_range <= 0:
        raise ValueError(f"{name}: data_range must be > 0, got {data_range}")
    if crop_border < 0:
        raise ValueError(f"{name}: crop_border must be >= 0, got {crop_border}")
    x = _as_hwc(img, name)
    H, W = x.shape[:2]
    if 2 * crop_border >= min(H, W):
        raise ValueError(f"{name}: crop_border {crop_border} leaves nothing of a "
                         f"{img.shape} image")
    if x.dtype in _INT_MAX:
        x = x.astype(np.float64) * (255.0 / _INT_MAX[x.dtype])  # exact for uint8
    else:
        x = _to_scale(x, float(data_range), name, "the image") * (255.0 / data_range)
    c = crop_border
    x = x[c:H - c, c:W - c]
    if quantize:  # MATLAB's uint8(): half away from zero, saturating
        x = np.clip(np.floor(x + 0.5), 0.0, 255.0)
    if x.shape[-1] == 3:
        # rgb2ycbcr / rgb2gray on uint8 return uint8: rounded again.
        x = rgb_to_y(x / 255.0) * 255.0 if convert_to == "y" else x @ _GRAY
        if quantize:
            x = np.floor(x + 0.5)
        return x
    return x[:, :, 0]  # one channel is its own Y, as in psnr/ssim


def niqe_features(y: np.ndarray, patch_size: int = PATCH_SIZE,
                  impl: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """Per-patch features at two scales, and each patch's sharpness.

    y is cropped to whole patches (top-left kept). Scale 1: the MSCN of y in p x p patches;
    scale 2: the MSCN of ``resize(y, 0.5)`` (MATLAB bicubic ``imresize``) in p/2 x p/2
    patches, the same regions. Each gives 18 features (``nss.patch_features_ref``);
    a row is [scale 1 | scale 2]. Sharpness = the mean local deviation sigma of a patch at
    scale 1, which ``fit_niqe_model`` thresholds.

    Shape:
        y: (H, W) float, gray on the 0..255 scale, H, W >= patch_size
        returns features: (P, 36) float64, P = (H // p) (W // p), patches row-major;
        sharpness: (P,) float64
    """
    _check_patch_size(patch_size, "niqe")
    if impl not in _FEATURES:
        raise ValueError(f"niqe: impl must be one of {sorted(_FEATURES)}, got {impl!r}")
    p = int(patch_size)
    H, W = y.shape
    if min(H, W) < p:
        raise ValueError(f"niqe: needs at least {p}x{p} pixels (one patch) after cropping, "
                         f"got {H}x{W}")
    y = np.asarray(y, dtype=np.float64)[:H // p * p, :W // p * p]
    m, sigma = mscn(y)
    f1 = _FEATURES[impl](m, p)
    sharpness = sigma.reshape(H // p, p, W // p, p).mean(axis=(1, 3)).ravel()
    m2, _ = mscn(resize(y, 0.5))
    f2 = _FEATURES[impl](m2, p // 2)
    return np.concatenate([f1, f2], axis=1), sharpness


def _gaussian(features: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of feature rows as MATLAB's nanmean / nancov.

    nanmean skips NaNs per column; nancov drops every row holding a NaN and normalises by
    n - 1. One complete row gives a zero covariance (MATLAB would treat the 1 x 36 matrix
    as a vector and return one variance).
    """
    complete = features[~np.isnan(features).any(axis=1)]
    if complete.shape[0] == 0:
        raise ValueError(f"{name}: no patch has finite statistics (is the image flat?)")
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(features, axis=0)
    if complete.shape[0] == 1:
        return mean, np.zeros((features.shape[1],) * 2)
    return mean, np.cov(complete, rowvar=False)


def _pinv(a: np.ndarray) -> np.ndarray:
    """Moore-Penrose pseudo-inverse with MATLAB ``pinv``'s cut: singular values at most
    max(size) * eps(largest) count as zero (NumPy's default cut is 1e-15 x largest)."""
    u, s, vt = np.linalg.svd(a)
    keep = s > max(a.shape) * np.spacing(s[0])
    return (vt[keep].T / s[keep]) @ u[:, keep].T


def niqe(img: np.ndarray, crop_border: int = 0, model: NiqeModel | None = None,
         data_range: float = 1.0, convert_to: str = "y", quantize: bool = True,
         impl: str = "cpu") -> float:
    """Natural Image Quality Evaluator: distance of the image's patch statistics from a
    pristine model. Lower is more natural. float64 throughout.

    With (mu_p, S_p) the pristine model and (mu, S) the mean and covariance of the
    image's 36 patch features (``niqe_features``; ``_gaussian`` says how NaN patches are
    treated):

        NIQE = sqrt((mu_p - mu)^T pinv((S_p + S) / 2) (mu_p - mu))

    Preprocessing, in this order: uint8/uint16 rescaled to 0..255, floats taken on
    [0, data_range] and rescaled (as in :func:`minisr.metrics.psnr`); ``crop_border``
    pixels removed per side; ``quantize`` rounds to the 8-bit grid (the release only ever
    sees uint8 images); RGB becomes BT.601 studio-swing Y on 0..255 (``convert_to='y'``,
    MATLAB ``rgb2ycbcr``, the SR papers' and BasicSR's choice), rounded again when
    ``quantize``; ``convert_to='gray'`` uses MATLAB ``rgb2gray``, which is what the release's
    ``computequality.m`` does to an RGB array. A 1-channel image is used as it is.

    Agreement with the MATLAB release (``niqe_release``, ``computequality(im, 96, 96, 0, 0,
    mu_prisparam, cov_prisparam)``): every step follows it (MSCN with replicated borders,
    AGGD fits on the 0.2:0.001:10 grid, ``circshift`` products inside each block,
    ``imresize(im, 0.5)``, nanmean/nancov, ``pinv``); see ``tests/metrics/test_niqe.py``
    for the published value it reproduces and the measured difference.

    Shape:
        img: (H, W), (H, W, 1) or (H, W, 3): float RGB/gray in [0, data_range], or
        uint8/uint16; at least model.patch_size (96) pixels each way after cropping

    Parameters
    ----------
    img : the image to judge.
    crop_border : int, pixels removed from each side first (SR: the scale).
    model : NiqeModel, the pristine Gaussian; default :func:`pristine_model`, or one made
        by :func:`fit_niqe_model`.
    data_range : float, the value range of float inputs (1.0 for [0, 1]).
    convert_to : ``'y'`` (BT.601 Y) or ``'gray'`` (MATLAB rgb2gray) for RGB input.
    quantize : bool, round to the 8-bit grid first, as an 8-bit file would be.
    impl : ``'cpu'`` (Numba patch sums) or ``'ref'`` (NumPy per patch; same numbers).

    Returns
    -------
    float, NIQE (about 2-5 on sharp photographs at 96-pixel patches; higher is worse).

    References
    ----------
    A. Mittal, R. Soundararajan, A. C. Bovik, "Making a 'Completely Blind' Image Quality
    Analyzer", IEEE Signal Processing Letters 20(3), 2013; NIQE software release, 2012,
    http://live.ece.utexas.edu/research/quality/niqe_release.zip.
    """
    model = pristine_model() if model is None else model
    if not isinstance(model, NiqeModel):
        raise ValueError(f"niqe: model must be a NiqeModel, got {type(model).__name__}")
    y = _luma(img, crop_border, data_range, convert_to, quantize, "niqe")
    features, _ = niqe_features(y, model.patch_size, impl)
    mu, cov = _gaussian(features, "niqe")
    d = model.mean - mu
    return float(np.sqrt(d @ _pinv((model.cov + cov) / 2.0) @ d))


def _sources(images: _Images) -> list:
    if isinstance(images, (str, os.PathLike)):
        folder = Path(images)
        if not folder.is_dir():
            raise ValueError(f"fit_niqe_model: {str(folder)!r} is not a folder")
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in EXTENSIONS)
        if not paths:
            raise ValueError(f"fit_niqe_model: no PNG/BMP/JPEG images in {str(folder)!r}")
        return paths
    return list(images)


def fit_niqe_model(images: _Images, patch_size: int = PATCH_SIZE,
                   sharpness_threshold: float = SHARPNESS_THRESHOLD, data_range: float = 1.0,
                   convert_to: str = "y", quantize: bool = True) -> NiqeModel:
    """Fit a pristine model on sharp patches of natural images (``estimatemodelparam.m``).

    For each image: the features of every patch (``niqe_features``), of which only those
    with sharpness > sharpness_threshold x (the image's largest patch sharpness) are kept;
    then mean and covariance over all kept patches (nanmean / nancov, as in :func:`niqe`).
    The release fitted its model on 125 pristine photographs with p = 96 and 0.75.

    Shape:
        images: a folder of PNG/BMP/JPEG files, or an iterable of paths and arrays as
        :func:`niqe` takes them; images smaller than one patch are passed over

    Parameters
    ----------
    images : folder path, or iterable of image arrays / paths.
    patch_size : int, even; the model remembers it and :func:`niqe` uses it.
    sharpness_threshold : float in [0, 1), the release's sh_th.
    data_range, convert_to, quantize : preprocessing, as in :func:`niqe`.

    Returns
    -------
    NiqeModel with the fitted mean (36,) and covariance (36, 36).
    """
    _check_patch_size(patch_size, "fit_niqe_model")
    if not 0.0 <= sharpness_threshold < 1.0:
        raise ValueError(f"fit_niqe_model: sharpness_threshold must be in [0, 1), got "
                         f"{sharpness_threshold!r}")
    kept = []
    for src in _sources(images):
        img = imread(src, alpha="drop") if isinstance(src, (str, os.PathLike)) else src
        y = _luma(img, 0, 1.0 if isinstance(src, (str, os.PathLike)) else data_range,
                  convert_to, quantize, "fit_niqe_model")
        if min(y.shape) < patch_size:  # no whole patch (T91 has 78x78 images): nothing to add
            continue
        features, sharpness = niqe_features(y, patch_size)
        kept.append(features[sharpness > sharpness_threshold * sharpness.max()])
    if not kept:
        raise ValueError(f"fit_niqe_model: no image of at least {patch_size}x{patch_size} "
                         f"pixels given")
    features = np.concatenate(kept)
    if np.isnan(features).any(axis=1).sum() > features.shape[0] - 2:
        raise ValueError(f"fit_niqe_model: need at least 2 patches with finite statistics "
                         f"for a covariance, got {features.shape[0]} patches")
    mean, cov = _gaussian(features, "fit_niqe_model")
    return NiqeModel(mean, cov, int(patch_size))
