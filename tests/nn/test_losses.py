"""Losses: hand-computed values and gradients."""
import numpy as np
import pytest

import minisr.nn as nn
from minisr.autograd import Tensor
from minisr.testing import gradcheck


def _t(a, grad=False):
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def test_pixel_losses_known_values():
    x, t = _t([[0.0, 1.0], [2.0, 4.0]]), _t([[1.0, 1.0], [0.0, 1.0]])
    # diffs -1, 0, 2, 3: L1 = 6/4, MSE = 14/4, sum-MSE = 14
    assert nn.l1_loss(x, t).item() == 1.5
    assert nn.mse_loss(x, t).item() == 3.5
    assert nn.MSELoss("sum")(x, t).item() == 14.0
    # Charbonnier with eps: mean sqrt(d^2 + eps^2); at eps -> 0 it is L1
    c = nn.charbonnier_loss(x, t, eps=1e-3).item()
    expect = np.mean(np.sqrt(np.array([1, 0, 4, 9]) + 1e-6))
    assert c == pytest.approx(expect, rel=1e-12) and c == pytest.approx(1.5, abs=1e-3)


def test_luma_l1_loss_known_value_and_shape_check():
    # diff (R, G, B) = (1, -1, 2) at one pixel, (0, 0, 0) at the other: |0.5 - 0.25 + 2*0.125| / 2
    d = np.zeros((1, 3, 1, 2))
    d[0, :, 0, 0] = [1.0, -1.0, 2.0]
    assert nn.luma_l1_loss(_t(d), _t(np.zeros_like(d)), (0.5, 0.25, 0.125)).item() == 0.25
    with pytest.raises(ValueError, match="need"):
        nn.luma_l1_loss(_t(np.zeros((1, 1, 2, 2))), _t(np.zeros((1, 1, 2, 2))), (0.5, 0.25, 0.125))


def test_l1_plus_luma_recipe_loss_is_l1_plus_bt601_y():
    from minisr.image.color import Y_WEIGHTS, rgb_to_y
    from minisr.train import LOSSES
    rng = np.random.default_rng(0)
    a, b = rng.random((2, 3, 4, 5)), rng.random((2, 3, 4, 5))
    # Y of the images, from image/color's own conversion: the loss sees the same Y
    ya, yb = (np.stack([rgb_to_y(img.transpose(1, 2, 0)) for img in v]) for v in (a, b))
    expect = np.abs(a - b).mean() + np.abs(ya - yb).mean()
    assert LOSSES["l1+luma"](_t(a), _t(b)).item() == pytest.approx(expect, rel=1e-12)
    assert sum(Y_WEIGHTS) == pytest.approx(219 / 255)


def test_tv_loss_of_a_ramp():
    # x[i, j] = i + 2j: vertical differences 1, horizontal 2 -> TV = 1 + 2 = 3
    i, j = np.mgrid[0:4, 0:5]
    x = _t((i + 2 * j)[None, None])
    assert nn.tv_loss(x).item() == pytest.approx(3.0)
    assert nn.TVLoss()(_t(np.ones((1, 1, 3, 3)))).item() == 0.0


def test_gram_matrix_value():
    f = _t(np.arange(8.0).reshape(1, 2, 2, 2))
    # rows F0 = [0,1,2,3], F1 = [4,5,6,7]: G = F F^T / (C H W) = [[14, 38], [38, 126]] / 8
    np.testing.assert_allclose(nn.gram_matrix(f).data[0], np.array([[14, 38], [38, 126]]) / 8)


@pytest.mark.parametrize("loss", [nn.l1_loss, nn.mse_loss,
                                  lambda a, b: nn.charbonnier_loss(a, b, 0.1),
                                  lambda a, b: nn.tv_loss(a - b),
                                  lambda a, b: nn.luma_l1_loss(a, b, (1.0,))])
def test_loss_gradients(loss):
    # x - t is a ramp (steps 0.5 and 1) plus small noise: no difference sits near a kink
    # of |.|, so central differences are valid for L1 and TV.
    rng = np.random.default_rng(0)
    i, j = np.mgrid[0:4, 0:5]
    t = _t(rng.standard_normal((2, 1, 4, 5)))
    x = _t(t.data + 0.5 * i + j + 0.3 + 0.05 * rng.standard_normal((2, 1, 4, 5)), True)
    gradcheck(loss, [x, t])


def test_gram_loss_gradient_through_a_feature_extractor():
    nn.init.seed(1)
    feats = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU()).to(np.float64)
    rng = np.random.default_rng(0)
    x, t = _t(rng.standard_normal((1, 1, 6, 5)), True), _t(rng.standard_normal((1, 1, 6, 5)))
    gl = nn.GramLoss(feats)
    assert gl(x, x).item() == 0.0 and gl(x, t).item() > 0
    assert gl.parameters() == []  # the extractor is not the loss's to train
    gradcheck(gl, [x, t])


def test_content_loss_value_and_gradient():
    rng = np.random.default_rng(0)
    x, t = _t(rng.standard_normal((1, 1, 6, 5)), True), _t(rng.standard_normal((1, 1, 6, 5)))
    # identity features: the content loss is the MSE; two maps: the sum of their MSEs
    assert nn.content_loss(x, t, lambda a: a).item() == nn.mse_loss(x, t).item()
    two = nn.content_loss(x, t, lambda a: [a, a * 2.0]).item()
    assert two == pytest.approx(5 * nn.mse_loss(x, t).item(), rel=1e-12)
    nn.init.seed(1)
    feats = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU()).to(np.float64)
    cl = nn.ContentLoss(feats)
    assert cl(x, x).item() == 0.0 and cl(x, t).item() > 0
    assert cl.parameters() == []
    gradcheck(cl, [x, t])
    with pytest.raises(ValueError, match="content_loss: output"):
        nn.content_loss(x, _t(np.zeros((1, 1, 5, 5))), feats)


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"mse_loss: output \(2,\) and target \(3,\)"):
        nn.mse_loss(_t([1.0, 2.0]), _t([1.0, 2.0, 3.0]))
