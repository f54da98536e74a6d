"""RCAN-small: channel attention as defined (gradchecked), its cost against EDSR-small,
and BasicSR's RCAN written out in PyTorch with the same state_dict and outputs."""
import numpy as np
import pytest

import minisr.models as M
from minisr.autograd import Tensor
from minisr.inference import multiply_adds
from minisr.models.rcan import ChannelAttention
from minisr.testing import gradcheck


def test_channel_attention_is_a_sigmoid_of_the_channel_means(rng):
    ca = ChannelAttention(12, 4)
    x = rng.standard_normal((2, 12, 5, 7)).astype(np.float32)
    w = ca.attention(Tensor(x)).data
    assert w.shape == (2, 12, 1, 1) and ((w > 0) & (w < 1)).all()
    mean = x.mean(axis=(2, 3))
    w1, b1 = ca.attention[1].weight.data[:, :, 0, 0], ca.attention[1].bias.data
    w2, b2 = ca.attention[3].weight.data[:, :, 0, 0], ca.attention[3].bias.data
    want = 1 / (1 + np.exp(-(np.maximum(mean @ w1.T + b1, 0) @ w2.T + b2)))
    np.testing.assert_allclose(w[:, :, 0, 0], want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ca(Tensor(x)).data, x * w, rtol=1e-6)
    np.testing.assert_allclose(ca.weights_of_mean(Tensor(mean[:, :, None, None])).data, w,
                               rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="squeeze_factor 5 must divide num_features 12"):
        ChannelAttention(12, 5)


def test_channel_attention_gradcheck(rng):
    ca = ChannelAttention(6, 2).to(np.float64)
    x = Tensor(rng.standard_normal((2, 6, 4, 3)), requires_grad=True)
    gradcheck(lambda t: ca(t), [x])
    for p in ca.parameters():
        p.requires_grad = True
    gradcheck(lambda w: ca(x), [ca.attention[1].weight])


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_fewer_multiply_adds_than_edsr_small(scale):
    rcan, edsr = M.get("rcan-small", scale), M.get("edsr-small", scale)
    assert multiply_adds(rcan) < multiply_adds(edsr)
    assert rcan.num_parameters() < edsr.num_parameters()


def test_matches_basicsr_rcan_in_pytorch(rng):
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class CA(nn.Module):
        def __init__(self, f, r):
            super().__init__()
            self.attention = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(f, f // r, 1),
                                           nn.ReLU(), nn.Conv2d(f // r, f, 1), nn.Sigmoid())

        def forward(self, x):
            return x * self.attention(x)

    class RCAB(nn.Module):
        def __init__(self, f, r):
            super().__init__()
            self.rcab = nn.Sequential(nn.Conv2d(f, f, 3, 1, 1), nn.ReLU(),
                                      nn.Conv2d(f, f, 3, 1, 1), CA(f, r))

        def forward(self, x):
            return x + self.rcab(x)

    class Group(nn.Module):
        def __init__(self, f, b, r):
            super().__init__()
            self.residual_group = nn.Sequential(*[RCAB(f, r) for _ in range(b)])
            self.conv = nn.Conv2d(f, f, 3, 1, 1)

        def forward(self, x):
            return x + self.conv(self.residual_group(x))

    class RCAN(nn.Module):
        def __init__(self, scale, f=30, g=2, b=4, r=6):
            super().__init__()
            self.mean = torch.tensor([0.4488, 0.4371, 0.4040]).view(1, 3, 1, 1)
            self.conv_first = nn.Conv2d(3, f, 3, 1, 1)
            self.body = nn.Sequential(*[Group(f, b, r) for _ in range(g)])
            self.conv_after_body = nn.Conv2d(f, f, 3, 1, 1)
            ups = []
            for _ in range(2 if scale == 4 else 1):
                s = 3 if scale == 3 else 2
                ups += [nn.Conv2d(f, s * s * f, 3, 1, 1), nn.PixelShuffle(s)]
            self.upsample = nn.Sequential(*ups)
            self.conv_last = nn.Conv2d(f, 3, 3, 1, 1)

        def forward(self, x):
            f = self.conv_first(x - self.mean)
            f = f + self.conv_after_body(self.body(f))
            return self.conv_last(self.upsample(f)) + self.mean

    for scale in (2, 3, 4):
        ours, theirs = M.get("rcan-small", scale), RCAN(scale)
        assert list(theirs.state_dict()) == list(ours.state_dict())
        theirs.load_state_dict({k: torch.from_numpy(np.asarray(v))
                                for k, v in ours.state_dict().items()})
        x = rng.random((1, 3, 9, 8)).astype(np.float32)
        with torch.no_grad():
            np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.from_numpy(x)).numpy(),
                                       rtol=0, atol=2e-5)
