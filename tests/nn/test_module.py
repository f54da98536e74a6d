"""Modules: parameter names, state dicts, weight files, layers' shapes."""
import numpy as np
import pytest

import minisr.nn as nn
from minisr.autograd import Tensor
from minisr.nn.serialization import FORMAT_VERSION, load_npz, save_npz


class TinyEDSR(nn.Module):
    def __init__(self):
        self.conv_first = nn.Conv2d(3, 8, 3, padding=1)
        self.body = nn.Sequential(nn.ResidualBlock(8, res_scale=0.1), nn.ResidualBlock(8))
        self.upsample = nn.Sequential(nn.Conv2d(8, 8 * 4, 3, padding=1), nn.PixelShuffle(2))
        self.conv_last = nn.Conv2d(8, 3, 3, padding=1)

    def forward(self, x):
        f = self.conv_first(x)
        return self.conv_last(self.upsample(f + self.body(f)))


def _edsr_like():
    nn.init.seed(0)
    return TinyEDSR()


def test_named_parameters_use_pytorch_dotted_names():
    names = [n for n, _ in _edsr_like().named_parameters()]
    assert names[:4] == ["conv_first.weight", "conv_first.bias", "body.0.conv1.weight",
                         "body.0.conv1.bias"]
    assert "upsample.0.weight" in names and names[-1] == "conv_last.bias"
    # 3*8*9+8 + 2 blocks*(2*(8*8*9+8)) + 8*32*9+32 + 8*3*9+3
    assert _edsr_like().num_parameters() == 224 + 2 * 2 * 584 + 2336 + 219


def test_state_dict_round_trip_through_npz(tmp_path):
    a, b = _edsr_like(), _edsr_like()
    for p in b.parameters():
        p.data = p.data + 1.0
    nn.save_weights(a, tmp_path / "w.npz", meta={"model": "edsr", "scale": 2})
    meta = nn.load_weights(b, tmp_path / "w.npz")
    assert meta == {"model": "edsr", "scale": 2}
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb and np.array_equal(pa.data, pb.data)
    assert not list(tmp_path.glob(".w.npz*"))  # no temp file left behind


def test_load_mismatch_is_one_clear_error(tmp_path):
    a = _edsr_like()
    nn.save_weights(a, tmp_path / "w.npz")
    other = nn.Sequential(nn.Conv2d(3, 4, 3))
    with pytest.raises(ValueError, match=r"w\.npz.*missing.*unexpected"):
        nn.load_weights(other, tmp_path / "w.npz")
    shaped = _edsr_like()
    shaped.conv_last = nn.Conv2d(8, 1, 3, padding=1)
    before = shaped.conv_first.weight.data.copy()
    with pytest.raises(ValueError, match=r"conv_last.weight: saved \(3, 8, 3, 3\) vs model "
                                         r"\(1, 8, 3, 3\)"):
        nn.load_weights(shaped, tmp_path / "w.npz")
    assert np.array_equal(before, shaped.conv_first.weight.data)  # nothing half-loaded


def test_format_version_is_checked(tmp_path):
    save_npz(tmp_path / "x.npz", {"model": {"w": np.ones(2)}})
    z = dict(np.load(tmp_path / "x.npz"))
    assert int(z["__format__"]) == FORMAT_VERSION
    z["__format__"] = np.asarray(FORMAT_VERSION + 1)
    np.savez(tmp_path / "y.npz", **z)
    with pytest.raises(ValueError, match="weight format 2"):
        load_npz(tmp_path / "y.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a minisr .npz"):
        load_npz(tmp_path / "junk.npz")


def test_nested_state_round_trip(tmp_path):
    tree = {"optimizer": {"state": {"0": {"step": 3, "exp_avg": np.arange(3.0)}},
                          "param_groups": {"0": {"lr": 0.1, "nesterov": True}}},
            "epoch": 7, "empty": {}}
    save_npz(tmp_path / "c.npz", tree)
    back, _ = load_npz(tmp_path / "c.npz")
    assert back["epoch"] == 7 and back["optimizer"]["state"]["0"]["step"] == 3
    assert back["optimizer"]["param_groups"]["0"] == {"lr": 0.1, "nesterov": True}
    assert np.array_equal(back["optimizer"]["state"]["0"]["exp_avg"], np.arange(3.0))


def test_layer_output_shapes_and_modes():
    m = _edsr_like()
    y = m(Tensor(np.zeros((2, 3, 5, 7), dtype=np.float32)))
    assert y.shape == (2, 3, 10, 14)
    assert all(not sub.training for _, sub in m.eval().named_modules())
    assert all(sub.training for _, sub in m.train().named_modules())
    deconv = nn.ConvTranspose2d(4, 1, 9, stride=3, padding=4, output_padding=2)
    assert deconv(Tensor(np.zeros((1, 4, 6, 5), dtype=np.float32))).shape == (1, 1, 18, 15)
    assert m.to(np.float64).conv_first.weight.dtype == np.float64


def test_residual_block_scales_its_branch():
    blk = nn.ResidualBlock(2, res_scale=0.5)
    x = Tensor(np.random.default_rng(0).standard_normal((1, 2, 4, 4)).astype(np.float32))
    branch = blk.conv2(nn.ReLU()(blk.conv1(x)))
    np.testing.assert_allclose(blk(x).data, x.data + 0.5 * branch.data, rtol=1e-6)


def test_default_init_bounds_follow_pytorch():
    conv = nn.Conv2d(4, 6, 3)
    bound = 1 / np.sqrt(4 * 9)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert np.abs(conv.weight.data).max() > 0.8 * bound  # really spread over the range
    w = nn.init.kaiming_normal((64, 32, 3, 3), rng=np.random.default_rng(0))
    assert w.std() == pytest.approx(np.sqrt(2 / (32 * 9)), rel=0.02)


class TinyEveryLayer(nn.Module):
    """One of each layer kind, small enough for a whole-network finite-difference check."""

    def __init__(self):
        self.conv_first = nn.Conv2d(1, 2, 3, padding=1)
        self.act = nn.PReLU(2)
        self.body = nn.ResidualBlock(2, res_scale=0.5)
        self.deconv = nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1)
        self.upsample = nn.PixelShuffle(2)
        self.tail = nn.Tanh()

    def forward(self, x):
        return self.tail(self.upsample(self.deconv(self.body(self.act(self.conv_first(x))))))


def test_whole_network_gradcheck_float64():
    from minisr.testing import gradcheck
    nn.init.seed(3)
    net = TinyEveryLayer().to(np.float64)
    x = Tensor(np.random.default_rng(0).standard_normal((2, 1, 4, 3)), requires_grad=True)
    errors = gradcheck(lambda x, *ps: net(x), [x] + net.parameters())
    assert len(errors) == 1 + len(net.parameters()) and max(errors.values()) < 1e-7
