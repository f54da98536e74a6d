"""Adversarial losses: known values, gradients, and PyTorch's BCE-with-logits definitions."""
import math

import numpy as np
import pytest

from minisr.autograd import Tensor
from minisr.nn import adversarial as A
from minisr.testing import gradcheck

LOSSES = [A.gan_discriminator_loss, A.gan_generator_loss, A.relativistic_discriminator_loss,
          A.relativistic_generator_loss]


def _t(a, grad=False):
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _logits(seed=0, n=5):
    rng = np.random.default_rng(seed)
    return rng.normal(1.0, 2.0, (n, 1)), rng.normal(-0.5, 2.0, (n, 1))


def test_known_values():
    # At logits 0 the discriminator is undecided: every BCE term is log 2.
    z = _t(np.zeros((3, 1)))
    assert A.gan_discriminator_loss(z, z).item() == pytest.approx(2 * math.log(2), rel=1e-15)
    assert A.gan_generator_loss(None, z).item() == pytest.approx(math.log(2), rel=1e-15)
    assert A.relativistic_discriminator_loss(z, z).item() == pytest.approx(2 * math.log(2))
    assert A.relativistic_generator_loss(z, z).item() == pytest.approx(2 * math.log(2))
    # A discriminator that separates by a margin m: c_r = m, c_f = -m. Relativistic terms see
    # c_r - E c_f = 2m, so L_D^Ra = 2 softplus(-2m) and L_G^Ra = 2 softplus(2m).
    m = 3.0
    r, f = _t(np.full((4, 1), m)), _t(np.full((4, 1), -m))
    sp = lambda v: math.log1p(math.exp(v))  # noqa: E731
    assert A.gan_discriminator_loss(r, f).item() == pytest.approx(2 * sp(-m), rel=1e-14)
    assert A.gan_generator_loss(r, f).item() == pytest.approx(sp(m), rel=1e-14)
    assert A.relativistic_discriminator_loss(r, f).item() == pytest.approx(2 * sp(-2 * m))
    assert A.relativistic_generator_loss(r, f).item() == pytest.approx(2 * sp(2 * m))


def test_relativistic_losses_depend_only_on_logit_differences():
    # Adding a constant to every logit changes the standard GAN loss but not the relativistic
    # ones (each compares a real with the average fake and vice versa).
    r, f = _logits()
    for loss in (A.relativistic_discriminator_loss, A.relativistic_generator_loss):
        assert loss(_t(r + 7.0), _t(f + 7.0)).item() == pytest.approx(loss(_t(r), _t(f)).item(),
                                                                      rel=1e-12)
    assert A.gan_discriminator_loss(_t(r + 7.0), _t(f + 7.0)).item() != pytest.approx(
        A.gan_discriminator_loss(_t(r), _t(f)).item(), rel=1e-3)


def test_no_overflow_for_confident_discriminators():
    r, f = _t(np.full((2, 1), 800.0)), _t(np.full((2, 1), -800.0))
    assert A.gan_discriminator_loss(r, f).item() == 0.0
    assert A.gan_generator_loss(r, f).item() == pytest.approx(800.0)
    assert A.relativistic_generator_loss(r, f).item() == pytest.approx(2 * 1600.0)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_gradients(loss):
    # the generator's losses are checked w.r.t. the fake logits only: the real ones are
    # constants there (detached), so their finite difference is not autograd's business
    r, f = _logits()
    generator = loss in (A.gan_generator_loss, A.relativistic_generator_loss)
    real, fake = _t(r, not generator), _t(f, True)
    errors = gradcheck(lambda a, b: loss(a, b), [real, fake], rtol=1e-6, atol=1e-9)
    assert max(errors.values()) < 1e-8


def test_relativistic_generator_loss_treats_real_logits_as_constants():
    r, f = _logits()
    real, fake = _t(r, True), _t(f, True)
    A.relativistic_generator_loss(real, fake).backward()
    assert real.grad is None and fake.grad is not None and np.all(np.isfinite(fake.grad))


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_matches_torch_bce_with_logits(loss):
    torch = pytest.importorskip("torch")
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    r, f = _logits(3)
    tr = torch.tensor(r, requires_grad=True)
    tf = torch.tensor(f, requires_grad=True)
    one, zero = torch.ones_like(tr), torch.zeros_like(tr)
    if loss is A.gan_discriminator_loss:
        ref = bce(tr, one) + bce(tf, zero)
    elif loss is A.gan_generator_loss:
        ref = bce(tf, one)
    elif loss is A.relativistic_discriminator_loss:
        ref = bce(tr - tf.mean(), one) + bce(tf - tr.mean(), zero)
    else:
        rd = tr.detach()
        ref = bce(rd - tf.mean(), zero) + bce(tf - rd.mean(), one)
    ref.backward()
    real, fake = _t(r, True), _t(f, True)
    got = loss(real, fake)
    got.backward()
    assert got.item() == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(fake.grad, tf.grad.numpy(), rtol=1e-10, atol=1e-15)
    if tr.grad is not None and loss is not A.relativistic_generator_loss:
        np.testing.assert_allclose(real.grad, tr.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_bad_shapes_are_one_line_errors():
    with pytest.raises(ValueError, match="logits must be"):
        A.gan_discriminator_loss(_t(np.zeros((3, 1))), _t(np.zeros((4, 1))))
    with pytest.raises(ValueError, match="logits must be"):
        A.gan_generator_loss(None, _t(np.zeros((3, 2))))
