"""SR-LUT: the rotation ensemble as the authors write it, the transfer to an int8 table,
and the table's output against the network it came from."""
import numpy as np
import pytest

from minisr.autograd import Tensor
from minisr.image.io import imread
from minisr.models.srlut import SRLUT, SRLUTNet, clamp_unit, net_to_lut, pad_next, rot90
from minisr.nn import load_weights, mse_loss, save_weights
from minisr.optim import Adam

HOPPER = __import__("pathlib").Path(__file__).parents[1] / "data" / "hopper.png"


def test_rot90_clamp_and_pad(rng):
    x = rng.random((2, 3, 5, 7))
    for k in range(-1, 5):
        np.testing.assert_array_equal(rot90(Tensor(x), k).data, np.rot90(x, k, axes=(2, 3)))
    t = Tensor(rng.standard_normal((4, 5)) * 2)
    np.testing.assert_allclose(clamp_unit(t).data, np.clip(t.data, -1, 1), atol=1e-15)
    np.testing.assert_array_equal(pad_next(Tensor(x)).data,
                                  np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 1)), mode="reflect"))
    row = pad_next(Tensor(x[:, :, :1])).data  # a 1-pixel side repeats its pixel
    np.testing.assert_array_equal(row[:, :, 1], row[:, :, 0])
    np.testing.assert_array_equal(row[:, :, 0, :7], x[:, :, 0])
    np.testing.assert_array_equal(row[:, :, 0, 7], x[:, :, 0, 5])


def test_parameters_and_shape():
    net = SRLUTNet(4)
    assert net.num_parameters() == 18000
    assert list(net.state_dict())[:2] == ["conv1.weight", "conv1.bias"]
    assert net(Tensor(np.zeros((2, 3, 6, 5), np.float32))).shape == (2, 3, 24, 20)
    with pytest.raises(ValueError, match="residual=True is not supported"):
        SRLUTNet(4, residual=True)


def test_learns_a_reachable_target(rng):
    """Nearest-neighbour x2 is a function of each 2x2 window: the ensemble fits it (loss
    fell 12,779x in 300 steps when measured)."""
    net = SRLUTNet(2)
    opt = Adam(net.parameters(), lr=1e-3)
    x = rng.random((2, 1, 8, 8)).astype(np.float32)
    y = Tensor(np.repeat(np.repeat(x, 2, 2), 2, 3))
    first = None
    for _ in range(300):
        loss = mse_loss(net(Tensor(x)), y)
        first = first or loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert first / loss.item() > 1000


def test_matches_the_authors_network_and_ensemble(rng):
    torch = pytest.importorskip("torch")
    nn, tf = torch.nn, torch.nn.functional

    class SRNet(nn.Module):  # the authors' network, their names
        def __init__(self, upscale=4):
            super().__init__()
            self.upscale = upscale
            self.conv1 = nn.Conv2d(1, 64, [2, 2])
            self.conv2, self.conv3, self.conv4, self.conv5 = (nn.Conv2d(64, 64, 1)
                                                              for _ in range(4))
            self.conv6 = nn.Conv2d(64, upscale * upscale, 1)
            self.pixel_shuffle = nn.PixelShuffle(upscale)

        def forward(self, x):
            x = self.conv1(x)
            for conv in (self.conv2, self.conv3, self.conv4, self.conv5, self.conv6):
                x = conv(tf.relu(x))
            return self.pixel_shuffle(x)

    ours, theirs = SRLUTNet(4), SRNet(4)
    assert list(theirs.state_dict()) == list(ours.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(np.asarray(v))
                            for k, v in ours.state_dict().items()})
    x = rng.random((1, 3, 7, 9)).astype(np.float32)
    t = torch.from_numpy(x).reshape(3, 1, 7, 9)
    with torch.no_grad():
        total = 0
        for k in range(4):
            out = theirs(tf.pad(torch.rot90(t, k, [2, 3]), (0, 1, 0, 1), mode="reflect"))
            total = total + torch.rot90(torch.clamp(out, -1, 1), -k, [2, 3]) * 127 / 255
    np.testing.assert_allclose(ours(Tensor(x)).data, total.reshape(1, 3, 28, 36).numpy(),
                               rtol=0, atol=2e-6)


def test_table_follows_the_network(tmp_path):
    """At init the table's output (8-bit input, 4-bit sampling, int8 entries) stays within
    the quantisation of the network's (52.9 dB PSNR between them, measured at seed 0)."""
    net = SRLUTNet(4)
    lut = net_to_lut(net)
    assert lut.shape == (17 ** 4, 16) and lut.dtype == np.int8
    table = SRLUT(4)
    table.lut.data = lut
    img = imread(HOPPER)[40:70, 40:80].transpose(2, 0, 1)[None].astype(np.float32)
    a, b = net(Tensor(img)).data, table(Tensor(img)).data
    assert a.shape == b.shape == (1, 3, 120, 160)
    psnr = 10 * np.log10(1 / np.mean((a - b) ** 2))
    assert psnr > 45
    save_weights(table, tmp_path / "t.npz", {"bits": 4})
    again = SRLUT(4)
    load_weights(again, tmp_path / "t.npz")
    assert again.lut.data.dtype == np.int8
    np.testing.assert_array_equal(again.lut.data, lut)
