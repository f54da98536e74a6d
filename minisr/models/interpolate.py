"""Network interpolation (ESRGAN, Wang et al. 2018, sec. 3.4): one knob between a
PSNR-trained model and its GAN-trained copy.

    theta_interp = alpha * theta_psnr + (1 - alpha) * theta_gan,    alpha in [0, 1]

Both networks share one architecture (the GAN generator is fine-tuned from the PSNR one),
so blending their weights entry by entry gives a network whose output moves smoothly from
the GAN model's sharp, hallucinated texture (alpha = 0) to the PSNR model's smooth,
faithful result (alpha = 1), without the noise that blending the two output images shows.
Read next: ``models/__init__.py`` (``twin``, ``load_interpolated``), ``inference.py``.

References: X. Wang et al., "ESRGAN: Enhanced Super-Resolution Generative Adversarial
Networks", ECCV Workshops 2018, sec. 3.4.
"""
from __future__ import annotations

import copy
import numbers

import numpy as np

from minisr.nn import Module

__all__ = ["blend_state_dicts", "check_alpha", "interpolate"]

# Plain settings a module may hold besides its parameters and submodules; two modules whose
# settings differ (res_scale, residual, stride, ...) are not one architecture, even when
# every weight has the same shape.
_SETTING_TYPES = (bool, int, float, str, tuple, type(None))
_NOT_ARCHITECTURE = ("name", "training")


def check_alpha(alpha: object, where: str = "interpolate") -> float:
    """``alpha`` as a float, or a one-line ValueError unless it is a finite number in
    [0, 1] (a bool or a string is not a number here)."""
    ok = isinstance(alpha, numbers.Real) and not isinstance(alpha, (bool, np.bool_))
    if ok:
        value = float(alpha)
        if np.isfinite(value) and 0.0 <= value <= 1.0:
            return value
    raise ValueError(f"{where}: alpha must be a number in [0, 1] (1: the PSNR model, "
                     f"0: the GAN model), got {alpha!r}")


def blend_state_dicts(psnr: dict[str, np.ndarray], gan: dict[str, np.ndarray],
                      alpha: float) -> dict[str, np.ndarray]:
    """alpha * psnr + (1 - alpha) * gan for every floating entry, computed in float64 and
    cast back to the entry's dtype; integer (and bool) entries, such as step counters in
    buffers, are not averaged but taken from ``gan``.

    alpha = 1 gives exactly ``psnr`` and alpha = 0 exactly ``gan``: 1 * a + 0 * b = a and
    a float32 value survives the round trip through float64 unchanged.

    Shape:
        every psnr[k] and gan[k]: the same shape and dtype  ->  that shape and dtype
    """
    alpha = check_alpha(alpha)
    _check_same_entries(psnr, gan)
    out = {}
    for k, b in gan.items():
        b = np.asarray(b)
        if b.dtype.kind == "f":
            a = np.asarray(psnr[k], dtype=np.float64)
            out[k] = (alpha * a + (1.0 - alpha) * b.astype(np.float64)).astype(b.dtype)
        else:
            out[k] = b.copy()
    return out


def interpolate(psnr_model: Module, gan_model: Module, alpha: float) -> Module:
    """A new model of the same architecture whose every ``state_dict`` entry is
    alpha * theta_psnr + (1 - alpha) * theta_gan (see ``blend_state_dicts``).

    alpha = 1 reproduces the PSNR model's outputs exactly, alpha = 0 the GAN model's. The
    inputs are left unchanged; the result is a copy of ``gan_model`` (its name, mode and
    device) holding the blended weights. A one-line ValueError when the two models differ
    in architecture (class, settings such as scale or residual, entry names, shapes or
    dtypes) or alpha is not a finite number in [0, 1].

    Parameters
    ----------
    psnr_model : the model trained for PSNR (L1/L2 loss), e.g. ``edsr-small`` x4.
    gan_model : the same architecture trained with the GAN loss, e.g. ``edsr-small-gan`` x4.
    alpha : the PSNR model's share, in [0, 1].

    References
    ----------
    Wang et al., ESRGAN (ECCV Workshops 2018), sec. 3.4, eq. (9).
    """
    alpha = check_alpha(alpha)
    if not (isinstance(psnr_model, Module) and isinstance(gan_model, Module)):
        raise ValueError(f"interpolate: expected two Modules, got "
                         f"{type(psnr_model).__name__} and {type(gan_model).__name__}")
    _check_same_architecture(psnr_model, gan_model)
    blended = blend_state_dicts(psnr_model.state_dict(), gan_model.state_dict(), alpha)
    model = copy.deepcopy(gan_model)
    model.load_state_dict(blended)
    return model


def _settings(module: Module) -> dict:
    return {k: v for k, v in vars(module).items() if not k.startswith("_")
            and k not in _NOT_ARCHITECTURE and isinstance(v, _SETTING_TYPES)}


def _check_same_architecture(a: Module, b: Module) -> None:
    _check_same_module(a, b, "the top module")  # first: class, scale, residual, ...
    mods_a, mods_b = dict(a.named_modules()), dict(b.named_modules())
    if list(mods_a) != list(mods_b):
        extra = sorted(set(mods_a) ^ set(mods_b)) or ["the order of submodules"]
        raise ValueError(f"interpolate: the two models differ in architecture "
                         f"(submodules differ at {extra[0]!r})")
    for path, ma in mods_a.items():
        _check_same_module(ma, mods_b[path], path or "the top module")


def _check_same_module(ma: Module, mb: Module, where: str) -> None:
    if type(ma) is not type(mb):
        raise ValueError(f"interpolate: the two models differ in architecture at {where}: "
                         f"{type(ma).__name__} vs {type(mb).__name__}")
    sa, sb = _settings(ma), _settings(mb)
    for k in dict.fromkeys([*sa, *sb]):  # definition order: scale comes first
        if repr(sa.get(k)) != repr(sb.get(k)):  # repr: a tuple may hold arrays
            raise ValueError(f"interpolate: the two models differ in architecture at "
                             f"{where}: {k} = {sa.get(k)!r} vs {sb.get(k)!r}")


def _check_same_entries(psnr: dict, gan: dict) -> None:
    if list(psnr) != list(gan):
        diff = sorted(set(psnr) ^ set(gan)) or ["the order of entries"]
        raise ValueError(f"interpolate: the two models differ in architecture "
                         f"(state_dict entries differ at {diff[0]!r})")
    for k in gan:
        a, b = np.asarray(psnr[k]), np.asarray(gan[k])
        if a.shape != b.shape or a.dtype != b.dtype:
            raise ValueError(f"interpolate: the two models differ in architecture at {k}: "
                             f"{a.dtype}{list(a.shape)} vs {b.dtype}{list(b.shape)}")
