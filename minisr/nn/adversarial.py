"""Adversarial losses: SRGAN's non-saturating GAN loss and ESRGAN's relativistic average one.

A discriminator C maps an image to one logit per image; D(x) = sigmoid(C(x)) is its belief
that x is real. Every loss below is a binary cross-entropy on logits, written with
softplus so it never takes the log of a rounded-off 0:

    -log sigmoid(z) = softplus(-z),        -log(1 - sigmoid(z)) = softplus(z)

**Standard GAN** (Goodfellow et al. 2014; SRGAN, Ledig et al. 2017), for logits
c_r = C(x_r) of real and c_f = C(x_f) of generated images:

    L_D = E[softplus(-c_r)] + E[softplus(c_f)]          (real -> 1, fake -> 0)
    L_G = E[softplus(-c_f)]                              (non-saturating: fake -> 1)

The generator maximises log D(x_f) rather than minimising log(1 - D(x_f)), whose gradient
vanishes exactly when the discriminator wins (the beginning of training).

**Relativistic average GAN** (Jolicoeur-Martineau 2018; ESRGAN, Wang et al. 2018, eq. 1-2):
the discriminator judges whether a real image is more realistic than the average fake,
D_Ra(x_r, x_f) = sigmoid(c_r - E[c_f]), and the generator gets gradients from both the
real and the generated batch:

    L_D = E[softplus(-(c_r - E[c_f]))] + E[softplus(c_f - E[c_r])]
    L_G = E[softplus(c_r - E[c_f])] + E[softplus(-(c_f - E[c_r]))]

E is the mean over the batch. These are the papers' sums; BasicSR's ESRGAN code averages
the two terms, so its loss weights are twice these (a weight of 0.005 there is 0.0025 here).
Read next: ``models/discriminator.py``, ``train_gan.py``.
"""
from __future__ import annotations

from minisr.autograd import Tensor
from minisr.ops import functional as F

__all__ = ["gan_discriminator_loss", "gan_generator_loss", "relativistic_discriminator_loss",
           "relativistic_generator_loss", "ADVERSARIAL_LOSSES"]


def _check(name: str, *logits: Tensor) -> None:
    shapes = {t.shape for t in logits}
    if len(shapes) != 1 or logits[0].ndim != 2 or logits[0].shape[1] != 1:
        raise ValueError(f"{name}: logits must be (N, 1) and of one shape, got "
                         f"{[t.shape for t in logits]}")


def gan_discriminator_loss(real: Tensor, fake: Tensor) -> Tensor:
    """E[softplus(-c_r)] + E[softplus(c_f)]: BCE with real labelled 1 and fake 0.

    Shape:
        real, fake: (N, 1) logits    returns: a scalar
    """
    _check("gan_discriminator_loss", real, fake)
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def gan_generator_loss(real: Tensor | None, fake: Tensor) -> Tensor:
    """E[softplus(-c_f)]: the non-saturating generator loss (``real`` is unused; it is taken
    so that both adversarial losses have one signature).

    Shape:
        fake: (N, 1) logits    returns: a scalar
    """
    _check("gan_generator_loss", fake)
    return F.softplus(-fake).mean()


def relativistic_discriminator_loss(real: Tensor, fake: Tensor) -> Tensor:
    """E[softplus(-(c_r - E c_f))] + E[softplus(c_f - E c_r)] (ESRGAN's L_D^Ra).

    Shape:
        real, fake: (N, 1) logits    returns: a scalar
    """
    _check("relativistic_discriminator_loss", real, fake)
    return (F.softplus(fake.mean() - real).mean()
            + F.softplus(fake - real.mean()).mean())


def relativistic_generator_loss(real: Tensor, fake: Tensor) -> Tensor:
    """E[softplus(c_r - E c_f)] + E[softplus(-(c_f - E c_r))] (ESRGAN's L_G^Ra).

    The real logits enter as constants (detached): only the generator is updated.

    Shape:
        real, fake: (N, 1) logits    returns: a scalar
    """
    _check("relativistic_generator_loss", real, fake)
    real = real.detach()
    return (F.softplus(real - fake.mean()).mean()
            + F.softplus(real.mean() - fake).mean())


# recipe name -> (discriminator loss, generator loss)
ADVERSARIAL_LOSSES = {
    "gan": (gan_discriminator_loss, gan_generator_loss),
    "ragan": (relativistic_discriminator_loss, relativistic_generator_loss),
}
