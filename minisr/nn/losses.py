"""Losses for SR training: L1, MSE, Charbonnier, luma L1, total variation, content and Gram.

Pixel losses compare an output with its target: MSE is what SRCNN/FSRCNN/ESPCN optimise
(and what PSNR measures); EDSR found L1 trains better; Charbonnier, sqrt(d^2 + eps^2), is
a differentiable L1 (LapSRN). The luma L1 compares one weighted sum of the channels, e.g.
BT.601's Y, the channel SR papers measure. TV penalises noise in a single image. The content
loss compares features (Johnson et al. 2016; SRGAN's VGG loss), the Gram loss their
correlations (Gatys et al. 2016; EnhanceNet's texture loss), both for any feature extractor.
All are built from differentiable ops, so their gradients come from autograd.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from minisr.autograd import Tensor
from minisr.nn.module import Module
from minisr.ops import functional as F

__all__ = ["l1_loss", "mse_loss", "charbonnier_loss", "luma_l1_loss", "tv_loss", "gram_matrix",
           "gram_loss", "content_loss", "L1Loss", "MSELoss", "CharbonnierLoss", "TVLoss",
           "GramLoss", "ContentLoss"]


def _check_pair(name: str, x: Tensor, target: Tensor) -> None:
    if x.shape != target.shape:
        raise ValueError(f"{name}: output {x.shape} and target {target.shape} differ")


def _reduce(v: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return v.mean()
    if reduction == "sum":
        return v.sum()
    raise ValueError(f"loss: reduction must be 'mean' or 'sum', got {reduction!r}")


def l1_loss(x: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """mean |x - target|."""
    _check_pair("l1_loss", x, target)
    return _reduce(F.abs(x - target), reduction)


def mse_loss(x: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """mean (x - target)^2."""
    _check_pair("mse_loss", x, target)
    d = x - target
    return _reduce(d * d, reduction)


def charbonnier_loss(x: Tensor, target: Tensor, eps: float = 1e-3,
                     reduction: str = "mean") -> Tensor:
    """mean sqrt((x - target)^2 + eps^2): L1 away from 0, quadratic (smooth) near it."""
    _check_pair("charbonnier_loss", x, target)
    d = x - target
    return _reduce(F.sqrt(d * d + eps * eps), reduction)


def luma_l1_loss(x: Tensor, target: Tensor, coeffs: Sequence[float],
                 reduction: str = "mean") -> Tensor:
    """mean |sum_c coeffs[c] (x - target)[:, c]|: L1 on one weighted sum of the channels.

    With BT.601's luma weights (``minisr.image.color.Y_WEIGHTS``) this is L1 on the Y
    channel the papers' PSNR is measured on; the sum is a 1x1 convolution with fixed weights.

    Shape:
        x, target: (N, C, H, W), C = len(coeffs)    returns: a scalar
    """
    _check_pair("luma_l1_loss", x, target)
    if x.ndim != 4 or x.shape[1] != len(coeffs):
        raise ValueError(f"luma_l1_loss: need (N, {len(coeffs)}, H, W), got {x.shape}")
    w = Tensor(np.asarray(coeffs, dtype=x.dtype).reshape(1, len(coeffs), 1, 1)).to(x.device)
    return _reduce(F.abs(F.conv2d(x - target, w)), reduction)


def tv_loss(x: Tensor, reduction: str = "mean") -> Tensor:
    """Anisotropic total variation: mean |x[i+1, j] - x[i, j]| + mean |x[i, j+1] - x[i, j]|.

    Shape:
        x: (N, C, H, W) with H, W >= 2    returns: a scalar
    """
    if x.ndim != 4 or x.shape[2] < 2 or x.shape[3] < 2:
        raise ValueError(f"tv_loss: need (N, C, H>=2, W>=2), got {x.shape}")
    dh = F.abs(x[:, :, 1:, :] - x[:, :, :-1, :])
    dw = F.abs(x[:, :, :, 1:] - x[:, :, :, :-1])
    return _reduce(dh, reduction) + _reduce(dw, reduction)


def gram_matrix(f: Tensor) -> Tensor:
    """G[n] = F[n] F[n]^T / (C H W) with F[n] the (C, H*W) feature matrix.

    Shape:
        f: (N, C, H, W)    G: (N, C, C)
    """
    N, C, H, W = f.shape
    flat = F.reshape(f, (N, C, H * W))
    return F.matmul(flat, F.transpose_last(flat)) * (1.0 / (C * H * W))


def _feature_pairs(x: Tensor, target: Tensor, features) -> list[tuple[Tensor, Tensor]]:
    """[(f_k(x), f_k(target)), ...] for one feature map or a list of them."""
    fx, ft = features(x), features(target.detach())
    fx = [fx] if isinstance(fx, Tensor) else list(fx)
    ft = [ft] if isinstance(ft, Tensor) else list(ft)
    return list(zip(fx, ft))


def gram_loss(x: Tensor, target: Tensor,
              features: Callable[[Tensor], Tensor | Sequence[Tensor]]) -> Tensor:
    """sum over feature maps of mean (G(f(x)) - G(f(target)))^2; target's side is constant."""
    _check_pair("gram_loss", x, target)
    total = None
    for a, b in _feature_pairs(x, target, features):
        term = mse_loss(gram_matrix(a), gram_matrix(b).detach())
        total = term if total is None else total + term
    return total


def content_loss(x: Tensor, target: Tensor,
                 features: Callable[[Tensor], Tensor | Sequence[Tensor]]) -> Tensor:
    """sum over feature maps of mean (f(x) - f(target))^2; target's side is constant.

    The "perceptual" or feature-reconstruction loss: with the identity as ``features`` it is
    :func:`mse_loss`. Unlike the Gram loss it compares features position by position.
    """
    _check_pair("content_loss", x, target)
    total = None
    for a, b in _feature_pairs(x, target, features):
        term = mse_loss(a, b.detach())
        total = term if total is None else total + term
    return total


class L1Loss(Module):
    """Module form of :func:`l1_loss`."""

    def __init__(self, reduction: str = "mean"):
        self.reduction = reduction

    def forward(self, x: Tensor, target: Tensor) -> Tensor:
        return l1_loss(x, target, self.reduction)


class MSELoss(Module):
    """Module form of :func:`mse_loss`."""

    def __init__(self, reduction: str = "mean"):
        self.reduction = reduction

    def forward(self, x: Tensor, target: Tensor) -> Tensor:
        return mse_loss(x, target, self.reduction)


class CharbonnierLoss(Module):
    """Module form of :func:`charbonnier_loss`."""

    def __init__(self, eps: float = 1e-3, reduction: str = "mean"):
        self.eps, self.reduction = eps, reduction

    def forward(self, x: Tensor, target: Tensor) -> Tensor:
        return charbonnier_loss(x, target, self.eps, self.reduction)


class TVLoss(Module):
    """Module form of :func:`tv_loss` (takes one image batch)."""

    def __init__(self, reduction: str = "mean"):
        self.reduction = reduction

    def forward(self, x: Tensor) -> Tensor:
        return tv_loss(x, self.reduction)


class GramLoss(Module):
    """Texture loss on the Gram matrices of ``features`` (any Module or callable that
    returns one feature map or a list of them). Its parameters are not trained here:
    they are kept outside the loss's own parameters."""

    def __init__(self, features: Module | Callable):
        self._features = features  # underscore: not a registered submodule

    def forward(self, x: Tensor, target: Tensor) -> Tensor:
        return gram_loss(x, target, self._features)


class ContentLoss(Module):
    """Feature-reconstruction loss on ``features`` (as :class:`GramLoss`, whose rules for
    ``features`` and its parameters it shares)."""

    def __init__(self, features: Module | Callable):
        self._features = features  # underscore: not a registered submodule

    def forward(self, x: Tensor, target: Tensor) -> Tensor:
        return content_loss(x, target, self._features)
