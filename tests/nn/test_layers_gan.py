"""The discriminator's layers: BatchNorm2d (with buffers), Linear, AdaptiveAvgPool2d and
Flatten; buffers in state_dict, Module.to and weight files; torch.nn as the oracle."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from minisr.autograd import Tensor, no_grad
from minisr.nn import (AdaptiveAvgPool2d, BatchNorm2d, Buffer, Flatten, Linear, Module,
                       Sequential, load_checkpoint, load_weights, save_checkpoint,
                       save_weights)
from minisr.optim import Adam

BN_STATE = {"weight": ((4,), np.float32), "bias": ((4,), np.float32),
            "running_mean": ((4,), np.float32), "running_var": ((4,), np.float32),
            "num_batches_tracked": ((), np.int64)}


def _batch(rng, shape=(3, 4, 5, 6)):
    return (rng.standard_normal(shape) * 1.5 + 0.7).astype(np.float32)


def test_batchnorm_state_parameters_and_buffers():
    bn = BatchNorm2d(4)
    sd = bn.state_dict()
    assert list(sd) == list(BN_STATE)
    assert {k: (v.shape, v.dtype) for k, v in sd.items()} == BN_STATE
    assert [id(p) for p in bn.parameters()] == [id(bn.weight), id(bn.bias)]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                  "num_batches_tracked"]
    assert all(isinstance(b, Buffer) and not b.requires_grad for b in bn.buffers())
    plain = BatchNorm2d(4, affine=False, track_running_stats=False)
    assert plain.state_dict() == {} and plain.parameters() == []


def test_batchnorm_training_then_eval_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    ours, theirs = BatchNorm2d(4, momentum=0.2), torch.nn.BatchNorm2d(4, momentum=0.2)
    with torch.no_grad():                       # the same non-trivial affine start
        theirs.weight.copy_(torch.tensor(ours.weight.data + 0.5))
        theirs.bias.copy_(torch.tensor(ours.bias.data - 0.25))
    ours.weight.data, ours.bias.data = ours.weight.data + 0.5, ours.bias.data - 0.25
    for step in range(4):
        x, dy = _batch(rng), rng.standard_normal((3, 4, 5, 6)).astype(np.float32)
        xs, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ours.zero_grad()
        theirs.zero_grad()
        y, yt = ours(xs), theirs(xt)
        y.backward(dy)
        yt.backward(torch.tensor(dy))
        for a, t in [(y.data, yt), (xs.grad, xt.grad), (ours.weight.grad, theirs.weight.grad),
                     (ours.bias.grad, theirs.bias.grad)]:
            assert_allclose(a, t.detach().numpy(), rtol=1e-5, atol=1e-5, err_msg=f"step {step}")
        for k, v in theirs.state_dict().items():
            assert_allclose(ours.state_dict()[k], v.numpy(), rtol=1e-6, err_msg=k)
    assert ours.num_batches_tracked.data == 4
    ours.eval()
    theirs.eval()
    x = _batch(rng)
    assert_allclose(ours(Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                    rtol=1e-5, atol=1e-5)
    assert ours.num_batches_tracked.data == 4       # eval leaves the statistics alone


@pytest.mark.parametrize("kwargs", [dict(momentum=None), dict(track_running_stats=False),
                                    dict(affine=False)])
def test_batchnorm_options_match_torch(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    ours, theirs = BatchNorm2d(4, **kwargs), torch.nn.BatchNorm2d(4, **kwargs)
    for _ in range(3):
        x = _batch(rng)
        assert_allclose(ours(Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                        rtol=1e-5, atol=1e-5)
    for k, v in theirs.state_dict().items():
        assert_allclose(ours.state_dict()[k], v.numpy(), rtol=1e-6, err_msg=k)
    ours.eval()
    theirs.eval()
    x = _batch(rng)
    assert_allclose(ours(Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                    rtol=1e-5, atol=1e-5)


def test_batchnorm_training_under_no_grad_updates_statistics():
    bn = BatchNorm2d(4)
    x = _batch(np.random.default_rng(2))
    with no_grad():
        bn(Tensor(x))
    assert bn.num_batches_tracked.data == 1
    assert_allclose(bn.running_mean.data, 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-5)


def test_state_dicts_load_across_torch_both_ways():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    ours = BatchNorm2d(4)
    for _ in range(2):
        ours(Tensor(_batch(rng)))
    theirs = torch.nn.BatchNorm2d(4)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    assert theirs.num_batches_tracked.dtype == torch.int64 and int(theirs.num_batches_tracked) == 2
    theirs(torch.tensor(_batch(rng)))
    back = BatchNorm2d(4)
    back.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert back.num_batches_tracked.dtype == np.int64 and back.num_batches_tracked.data == 3
    assert_allclose(back.running_var.data, theirs.running_var.numpy(), rtol=0)


class _Disc(Module):
    def __init__(self):
        self.conv = Sequential(BatchNorm2d(4))
        self.pool = AdaptiveAvgPool2d(1)
        self.flat = Flatten()
        self.linear = Linear(4, 2)

    def forward(self, x):
        return self.linear(self.flat(self.pool(self.conv(x))))


def test_buffers_round_trip_through_weights_and_checkpoints(tmp_path):
    rng = np.random.default_rng(4)
    net = _Disc()
    opt = Adam(net.parameters(), lr=1e-2)
    for _ in range(3):
        net(Tensor(_batch(rng))).sum().backward()
        opt.step()
    assert len(opt.param_groups[0]["params"]) == 4           # bn weight, bias; linear w, b
    state = net.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    assert state["conv.0.num_batches_tracked"] == 3
    save_weights(net, tmp_path / "w.npz")
    save_checkpoint(tmp_path / "c.npz", net, opt, step=3)
    for path, load in [("w.npz", lambda m, p: load_weights(m, p)),
                       ("c.npz", lambda m, p: load_checkpoint(p, m, Adam(m.parameters())))]:
        fresh = _Disc()
        load(fresh, tmp_path / path)
        got = fresh.state_dict()
        assert list(got) == list(state)
        for k in state:
            assert got[k].dtype == state[k].dtype, k
            assert_array_equal(got[k], state[k], err_msg=k)


def test_module_to_casts_float_buffers_only():
    bn = BatchNorm2d(4).to(np.float64)
    assert bn.running_mean.dtype == np.float64 and bn.weight.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64
    bn(Tensor(_batch(np.random.default_rng(5)).astype(np.float64)))
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.data == 1


def test_linear_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    ours = Linear(7, 3)
    bound = 1 / np.sqrt(7)                                      # PyTorch's default init
    assert ours.weight.shape == (3, 7) and np.abs(ours.weight.data).max() <= bound
    assert np.abs(ours.bias.data).max() <= bound and np.abs(ours.weight.data).max() > bound / 2
    theirs = torch.nn.Linear(7, 3)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x, dy = rng.standard_normal((2, 5, 7)), rng.standard_normal((2, 5, 3))
    xs, xt = Tensor(x.astype(np.float32), requires_grad=True), \
        torch.tensor(x.astype(np.float32), requires_grad=True)
    y, yt = ours(xs), theirs(xt)
    y.backward(dy.astype(np.float32))
    yt.backward(torch.tensor(dy.astype(np.float32)))
    for a, t in [(y.data, yt), (xs.grad, xt.grad), (ours.weight.grad, theirs.weight.grad),
                 (ours.bias.grad, theirs.bias.grad)]:
        assert_allclose(a, t.detach().numpy(), rtol=1e-5, atol=1e-5)
    assert Linear(7, 3, bias=False).state_dict().keys() == {"weight"}


@pytest.mark.parametrize("size, shape", [(1, (2, 3, 5, 7)), ((2, 3), (2, 3, 4, 6))])
def test_adaptive_avg_pool_and_flatten_match_torch(size, shape):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(7).standard_normal(shape).astype(np.float32)
    y = AdaptiveAvgPool2d(size)(Tensor(x))
    yt = torch.nn.AdaptiveAvgPool2d(size)(torch.tensor(x))
    assert_allclose(y.data, yt.numpy(), rtol=1e-6, atol=1e-7)
    assert_array_equal(Flatten()(y).data, y.data.reshape(shape[0], -1))
    assert Flatten()(y).shape == tuple(torch.nn.Flatten()(yt).shape)
    with pytest.raises(ValueError, match="adaptive_avg_pool2d"):
        AdaptiveAvgPool2d(4)(Tensor(x))
