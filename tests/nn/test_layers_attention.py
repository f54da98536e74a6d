"""MaxPool2d and Upsample, the two layers of RLFN's enhanced spatial attention (ESA): each
against torch.nn, their argument errors, and a small ESA block built from them, gradchecked in
float64 and compared with the same block in torch (forward, input and weight gradients)."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from minisr.autograd import Tensor
from minisr.nn import Conv2d, MaxPool2d, Module, Upsample
from minisr.ops import functional as F
from minisr.testing import gradcheck


class ESA(Module):
    """RLFN's enhanced spatial attention (Kong et al., CVPRW 2022), as in its official code:
    x * sigmoid(conv4(up(conv3(maxpool(conv2(conv1(x))))) + conv_f(conv1(x))))."""

    def __init__(self, channels: int, f: int):
        self.conv1 = Conv2d(channels, f, 1)
        self.conv_f = Conv2d(f, f, 1)
        self.conv2 = Conv2d(f, f, 3, stride=2)
        self.pool = MaxPool2d(7, stride=3)
        self.conv3 = Conv2d(f, f, 3, padding=1)
        self.conv4 = Conv2d(f, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        c1_ = self.conv1(x)
        c3 = self.conv3(self.pool(self.conv2(c1_)))
        c3 = Upsample(size=x.shape[2:])(c3)   # back to the input's exact size
        return x * F.sigmoid(self.conv4(c3 + self.conv_f(c1_)))


def _torch_esa(ours):
    torch = pytest.importorskip("torch")
    nn, TF = torch.nn, torch.nn.functional

    class TorchESA(nn.Module):
        def __init__(self, channels, f):
            super().__init__()
            self.conv1, self.conv_f = nn.Conv2d(channels, f, 1), nn.Conv2d(f, f, 1)
            self.conv2 = nn.Conv2d(f, f, 3, stride=2)
            self.conv3, self.conv4 = nn.Conv2d(f, f, 3, padding=1), nn.Conv2d(f, channels, 1)

        def forward(self, x):
            c1_ = self.conv1(x)
            c3 = self.conv3(TF.max_pool2d(self.conv2(c1_), kernel_size=7, stride=3))
            c3 = TF.interpolate(c3, (x.size(2), x.size(3)), mode="bilinear",
                                align_corners=False)
            return x * torch.sigmoid(self.conv4(c3 + self.conv_f(c1_)))

    theirs = TorchESA(ours.conv1.in_channels, ours.conv1.out_channels)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return theirs


@pytest.mark.parametrize("size", [(24, 24), (29, 23)])
def test_esa_block_matches_torch(size):
    torch = pytest.importorskip("torch")
    ours = ESA(8, 4)
    theirs = _torch_esa(ours)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 8) + size).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    xs, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = ours(xs), theirs(xt)
    y.backward(dy)
    yt.backward(torch.tensor(dy))
    assert_allclose(y.data, yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, p), (_, pt) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_allclose(p.grad, pt.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=name)


def test_esa_block_gradcheck_float64():
    esa = ESA(2, 2).to(np.float64)
    x = Tensor(np.random.default_rng(1).standard_normal((1, 2, 21, 22)), requires_grad=True)
    weights = [p for _, p in esa.named_parameters()]

    def fn(x, *params):
        return esa(x)

    errors = gradcheck(fn, [x] + weights)
    assert len(errors) == 1 + len(weights) and max(errors.values()) < 1e-7


@pytest.mark.parametrize("kwargs", [dict(kernel_size=7, stride=3), dict(kernel_size=3),
                                    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1)),
                                    dict(kernel_size=4, stride=1, padding=2)])
def test_maxpool2d_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.integers(0, 4, (2, 3, 13, 12)).astype(np.float32)   # many ties
    xs, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = MaxPool2d(**kwargs)(xs), torch.nn.MaxPool2d(**kwargs)(xt)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(dy)
    yt.backward(torch.tensor(dy))
    assert_array_equal(y.data, yt.detach().numpy())
    assert_array_equal(xs.grad, xt.grad.numpy())


@pytest.mark.parametrize("kwargs", [dict(scale_factor=2), dict(scale_factor=(1.5, 0.5)),
                                    dict(size=(20, 9)), dict(size=5)])
def test_upsample_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    xs, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = Upsample(**kwargs)(xs)
    yt = torch.nn.Upsample(**kwargs, mode="bilinear", align_corners=False)(xt)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(dy)
    yt.backward(torch.tensor(dy))
    assert_allclose(y.data, yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_reprs():
    assert repr(MaxPool2d(7, stride=3)) == "MaxPool2d(kernel_size=7, stride=3, padding=0)"
    assert repr(Upsample(scale_factor=2)) == "Upsample(scale_factor=2, mode='bilinear')"
    assert repr(Upsample(size=(8, 9))) == "Upsample(size=(8, 9), mode='bilinear')"


@pytest.mark.parametrize("layer, op", [(MaxPool2d(3, ceil_mode=True), "max_pool2d"),
                                       (MaxPool2d(3, padding=2), "max_pool2d"),
                                       (Upsample(scale_factor=2, mode="nearest"), "interpolate"),
                                       (Upsample(scale_factor=2, align_corners=True),
                                        "interpolate"),
                                       (Upsample(), "interpolate")])
def test_bad_layer_arguments_are_one_line_value_errors(layer, op):
    with pytest.raises(ValueError, match=f"^{op}: ") as e:
        layer(Tensor(np.zeros((1, 1, 6, 6), np.float32)))
    assert "\n" not in str(e.value)
