"""LapSRN: the pyramid's sizes, the image branch's bilinear start, one set of weights for
x2/x4/x8, the per-level targets and loss, and the PyTorch equivalent of its docstring."""
import numpy as np
import pytest

import minisr.models as M
import minisr.train as T
from minisr.autograd import Tensor
from minisr.image.resize import resize
from minisr.data.dataset import pyramid_targets
from minisr.models.lapsrn import LapSRN, bilinear_kernel
from minisr.nn import charbonnier_loss


def test_pyramid_sizes_and_shared_levels(rng):
    model = M.get("lapsrn", 8)
    x = rng.random((2, 1, 6, 7)).astype(np.float32)
    outs = model.pyramid(Tensor(x))
    assert [o.shape for o in outs] == [(2, 1, 12, 14), (2, 1, 24, 28), (2, 1, 48, 56)]
    assert model.output_scales == (2, 4, 8)
    for s, out in zip((2, 4, 8), outs):
        view = model.at_scale(s)
        assert view.scale == s and model.scale == 8
        np.testing.assert_array_equal(view(Tensor(x)).data, out.data)
        assert all(a is b for a, b in zip(view.parameters(), model.parameters()))
    # every scale has the same state_dict: one weight file serves x2, x4 and x8
    assert list(M.get("lapsrn", 2).state_dict()) == list(model.state_dict())
    assert model.num_parameters() == 1 * 32 * 9 + 32 + 3 * (
        10 * (32 * 32 * 9 + 32) + 32 * 32 * 16 + 32 + 32 * 9 + 1 + 16)


def test_errors_are_one_line():
    with pytest.raises(ValueError, match=r"scale must be one of \(2, 4, 8\), got 3"):
        M.get("lapsrn", 3)
    with pytest.raises(ValueError, match="residual=True is not supported"):
        M.get("lapsrn", 4, residual=True)
    with pytest.raises(ValueError, match=r"scale must be one of \(2, 4, 8\), got 16"):
        M.get("lapsrn", 8).at_scale(16)


def test_image_branch_starts_as_bilinear(rng):
    """With the residual convs zeroed, each level is the bilinear transposed conv: inside
    the image, out[2k] = 3/4 x[k] + 1/4 x[k-1] and out[2k+1] = 3/4 x[k] + 1/4 x[k+1]."""
    np.testing.assert_allclose(bilinear_kernel(4),
                               np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 16.0)
    model = M.get("lapsrn", 4)
    for i in range(2):
        model.levels[i].residual.weight.data[:] = 0
        model.levels[i].residual.bias.data[:] = 0
    x = rng.random((1, 1, 9, 8)).astype(np.float32)

    def lin(a, axis):
        a = np.moveaxis(a, axis, 0)
        up = np.empty((2 * a.shape[0],) + a.shape[1:])
        prev, nxt = np.roll(a, 1, 0), np.roll(a, -1, 0)
        up[0::2], up[1::2] = 0.75 * a + 0.25 * prev, 0.75 * a + 0.25 * nxt
        return np.moveaxis(up, 0, axis)
    want = lin(lin(lin(lin(x[0, 0], 0), 1), 0), 1)
    got = model(Tensor(x)).data[0, 0]
    inner = (slice(6, -6), slice(6, -6))  # away from the zero-padded border
    np.testing.assert_allclose(got[inner], want[inner], rtol=0, atol=1e-6)


def test_pyramid_targets_are_the_hr_patch_downscaled(rng):
    hr = rng.random((3, 1, 32, 24)).astype(np.float32)
    t2, t4, t8 = pyramid_targets(hr, 3)
    assert t8 is hr and t4.shape == (3, 1, 16, 12) and t2.shape == (3, 1, 8, 6)
    for n in range(3):
        np.testing.assert_allclose(t2[n, 0], resize(hr[n, 0].astype(np.float64), 0.25),
                                   rtol=0, atol=1e-6)
        np.testing.assert_allclose(t4[n, 0], resize(hr[n, 0].astype(np.float64), 0.5),
                                   rtol=0, atol=1e-6)
    assert t2.dtype == t4.dtype == np.float32


def test_training_loss_sums_every_level(rng):
    model = M.get("lapsrn", 8)
    x = rng.random((2, 1, 4, 4)).astype(np.float32)
    y = rng.random((2, 1, 32, 32)).astype(np.float32)
    loss = T.training_loss(model, charbonnier_loss, x, y)
    outs = model.pyramid(Tensor(x))
    want = sum(float(charbonnier_loss(o, Tensor(t)).item())
               for o, t in zip(outs, pyramid_targets(y, 3)))
    assert loss.item() == pytest.approx(want, rel=1e-6)
    loss.backward()
    for i in range(3):  # every level is supervised, so every level gets a gradient
        g = model.levels[i].features[0].weight.grad
        assert g is not None and np.abs(g).max() > 0
    assert np.abs(model.conv_input.weight.grad).max() > 0


def test_validate_levels_reports_each_scale(tmp_path, rng):
    from minisr.image.io import imwrite
    for i in range(2):
        imwrite(tmp_path / f"im{i}.png", rng.random((40, 48, 3)))
    paths = sorted(tmp_path.glob("*.png"))
    model = M.get("lapsrn", 8)
    levels = T.validate_levels(model, paths, 8)
    assert list(levels) == [2, 4, 8]
    assert levels[4] == pytest.approx(T.validate(model.at_scale(4), paths, 4))
    assert levels[2] > levels[4] > levels[8]  # bilinear at init: x2 is the easiest
    assert list(T.validate_levels(M.get("espcn", 3), paths, 3)) == [3]


def test_matches_the_pytorch_equivalent(rng):
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Level(nn.Module):
        def __init__(self, F, d):
            super().__init__()
            layers = []
            for _ in range(d):
                layers += [nn.Conv2d(F, F, 3, padding=1), nn.LeakyReLU(0.2)]
            layers += [nn.ConvTranspose2d(F, F, 4, 2, 1), nn.LeakyReLU(0.2)]
            self.features = nn.Sequential(*layers)
            self.residual = nn.Conv2d(F, 1, 3, padding=1)
            self.upsample = nn.ConvTranspose2d(1, 1, 4, 2, 1, bias=False)

        def forward(self, f, img):
            f = self.features(f)
            return f, self.upsample(img) + self.residual(f)

    class TorchLapSRN(nn.Module):
        def __init__(self, scale, F=32, d=10):
            super().__init__()
            self.scale = scale
            self.conv_input = nn.Conv2d(1, F, 3, padding=1)
            self.act = nn.LeakyReLU(0.2)
            self.levels = nn.Sequential(*[Level(F, d) for _ in range(3)])

        def forward(self, x):
            f, img = self.act(self.conv_input(x)), x
            for level in list(self.levels)[:int(np.log2(self.scale))]:
                f, img = level(f, img)
            return img

    ours = M.get("lapsrn", 8)
    theirs = TorchLapSRN(8)
    assert list(theirs.state_dict()) == list(ours.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(np.asarray(v))
                            for k, v in ours.state_dict().items()})
    x = rng.random((1, 1, 10, 9)).astype(np.float32)
    with torch.no_grad():
        for s in (2, 4, 8):
            theirs.scale = s
            np.testing.assert_allclose(ours.at_scale(s)(Tensor(x)).data,
                                       theirs(torch.from_numpy(x)).numpy(),
                                       rtol=0, atol=2e-5)
