"""The inference fast path: Sequential(Conv2d, act) and ResidualBlock run conv2d_act as one
primitive under no_grad, with the numbers of the unfused layers; with a graph to record they
build today's graph (conv2d, then the activation) and give its gradients."""
import numpy as np
import pytest

from minisr import backend
from minisr.autograd import Tensor, no_grad
from minisr.nn import Conv2d, PReLU, ReLU, ResidualBlock, Sequential, Tanh
from minisr.ops import functional as F


def _net(rng):
    net = Sequential(Conv2d(2, 4, 3, padding=1), PReLU(4), Conv2d(4, 4, 1), Tanh(),
                     ResidualBlock(4), Conv2d(4, 3, 3, padding=1), ReLU(), ReLU())
    for p in net.parameters():
        p.data = (0.5 * rng.standard_normal(p.shape)).astype(np.float32)
    return net


def _unfused(net, x):
    for _, m in net.named_children():
        if isinstance(m, ResidualBlock):
            x = x + m.conv2(F.relu(m.conv1(x)))
        else:
            x = m(x)
    return x


@pytest.fixture
def fused_calls(monkeypatch):
    """Counts the cpu table's conv2d_act_forward calls."""
    table = backend.get_backend("cpu")
    calls = []
    real = table.conv2d_act_forward

    def counting(*args):
        calls.append(args[7])
        return real(*args)
    monkeypatch.setattr(table, "conv2d_act_forward", counting)
    return calls


def test_no_grad_forward_fuses_and_matches_the_layers(rng, fused_calls):
    net = _net(rng)
    x = Tensor(rng.standard_normal((2, 2, 9, 7)).astype(np.float32))
    with no_grad():
        y = net(x)
    assert fused_calls == ["prelu", "tanh", "relu", "relu"]
    assert not y.requires_grad and y._ctx is None
    np.testing.assert_allclose(y.data, _unfused(net, x).data, rtol=1e-6, atol=1e-6)


def test_training_forward_keeps_the_graph(rng, fused_calls):
    net = _net(rng)
    x = Tensor(rng.standard_normal((2, 2, 9, 7)).astype(np.float32), requires_grad=True)
    y = net(x)
    assert fused_calls == []
    assert type(y._ctx).__name__ == "ReLU"              # the last ReLU, not a fused op
    dy = Tensor(rng.standard_normal(y.shape).astype(np.float32))
    y.backward(dy)
    grads = [p.grad.copy() for p in net.parameters()] + [x.grad.copy()]
    net.zero_grad()
    x.grad = None
    y2 = _unfused(net, x)
    np.testing.assert_array_equal(y.data, y2.data)
    y2.backward(dy)
    for g, p in zip(grads, net.parameters() + [x]):
        np.testing.assert_array_equal(g, p.grad)


def test_conv2d_act_checks_its_arguments(rng):
    x, w = Tensor(np.zeros((1, 2, 5, 5))), Tensor(np.zeros((3, 2, 3, 3)))
    with pytest.raises(ValueError, match="conv2d_act: act"):
        F.conv2d_act(x, w, act="sigmoid")
    with pytest.raises(ValueError, match="conv2d_act: act"):
        F.conv2d_act(x, w, act="prelu")
    with pytest.raises(ValueError, match="conv2d_act: slope"):
        F.conv2d_act(x, w, act="prelu", slope=Tensor(np.zeros(2)))
    with pytest.raises(ValueError, match="conv2d_act: x has"):
        F.conv2d_act(Tensor(np.zeros((1, 3, 5, 5))), w, act="relu")
