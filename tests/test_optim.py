"""Optimizers, clipping, schedulers, resumable state, and the end-to-end overfit check."""
import math

import numpy as np
import pytest

import minisr.nn as nn
from minisr.autograd import Tensor
from minisr.optim import (SGD, Adam, AdamW, CosineAnnealingLR, MultiStepLR, StepLR,
                          clip_grad_norm)


def _net(seed=0):
    nn.init.seed(seed)
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(8, 4, 3, padding=1), nn.PixelShuffle(2))


def _teacher_batch():
    """A batch whose target a net of the same shape can reach exactly (a teacher's output),
    so 'loss falls by > 100x' measures the optimizer, not the capacity."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.random((4, 1, 8, 8)).astype(np.float32))
    teacher = _net(seed=123)
    return x, Tensor(teacher(x).data)


@pytest.mark.parametrize("make_opt", [
    lambda ps: SGD(ps, lr=0.2, momentum=0.9),
    lambda ps: Adam(ps, lr=3e-3),
], ids=["sgd_momentum", "adam"])
def test_tiny_net_overfits_one_batch(make_opt):
    x, target = _teacher_batch()
    net = _net()
    opt = make_opt(net.parameters())
    losses = []
    for _ in range(600):
        loss = nn.mse_loss(net(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[0] / losses[-1] > 100, (losses[0], losses[-1])


def test_param_groups_have_their_own_lr():
    # SRCNN trains its last layer at lr / 10: one SGD step moves it 10x less per unit grad.
    a, b = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(2))
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.01}], lr=0.1)
    a.grad, b.grad = np.ones(2), np.ones(2)
    opt.step()
    assert a.data.tolist() == [-0.1, -0.1] and b.data.tolist() == [-0.01, -0.01]


def test_clip_grad_norm_scales_jointly():
    a, b = nn.Parameter(np.zeros(1)), nn.Parameter(np.zeros(1))
    a.grad, b.grad = np.array([3.0]), np.array([4.0])  # global norm 5
    shared = a.grad
    assert clip_grad_norm([a, b], 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose([a.grad[0], b.grad[0]], [0.6, 0.8], rtol=1e-6)
    assert shared[0] == 3.0  # a copy was scaled, not the (possibly shared) array
    assert clip_grad_norm([a, b], 10.0) == pytest.approx(1.0, rel=1e-5)


def test_schedulers_follow_their_formulas():
    def lrs(make, n):
        opt = SGD([nn.Parameter(np.zeros(1))], lr=1.0)
        sched = make(opt)
        out = []
        for _ in range(n):
            sched.step()
            out.append(sched.get_last_lr()[0])
        return out
    assert lrs(lambda o: StepLR(o, 2, 0.5), 5) == [1.0, 0.5, 0.5, 0.25, 0.25]
    assert lrs(lambda o: MultiStepLR(o, [2, 4], 0.1), 5) == pytest.approx(
        [1.0, 0.1, 0.1, 0.01, 0.01])
    cos = lrs(lambda o: CosineAnnealingLR(o, 4, eta_min=0.1), 6)
    expect = [0.1 + 0.9 * (1 + math.cos(math.pi * min(t, 4) / 4)) / 2 for t in range(1, 7)]
    assert cos == pytest.approx(expect)


@pytest.mark.parametrize("opt_cls", [SGD, Adam, AdamW])
def test_resume_from_saved_state_is_exact(tmp_path, opt_cls):
    """Train 6 steps straight vs 3 steps, save model+optimizer+scheduler, load into fresh
    objects, 3 more steps: identical weights, bit for bit."""
    x, target = _teacher_batch()
    kw = {"lr": 0.05, "momentum": 0.9, "nesterov": True} if opt_cls is SGD else {"lr": 1e-2}

    def run(net, opt, sched, steps):
        for _ in range(steps):
            loss = nn.mse_loss(net(x), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()

    net = _net()
    opt = opt_cls(net.parameters(), **kw)
    sched = StepLR(opt, 2, 0.5)
    run(net, opt, sched, 6)

    net2 = _net()
    opt2 = opt_cls(net2.parameters(), **kw)
    sched2 = StepLR(opt2, 2, 0.5)
    run(net2, opt2, sched2, 3)
    nn.save_checkpoint(tmp_path / "ckpt.npz", net2, opt2, sched2, meta={"run": "t"}, epoch=3)
    net3 = _net(seed=99)
    opt3 = opt_cls(net3.parameters(), **kw)
    sched3 = StepLR(opt3, 2, 0.5)
    extra, meta = nn.load_checkpoint(tmp_path / "ckpt.npz", net3, opt3, sched3)
    assert extra == {"epoch": 3} and meta == {"run": "t"}
    run(net3, opt3, sched3, 3)
    for p, q in zip(net.parameters(), net3.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_invalid_settings_are_rejected():
    p = [nn.Parameter(np.zeros(1))]
    with pytest.raises(ValueError, match="nesterov"):
        SGD(p, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="lr"):
        Adam(p, lr=-1.0)


def test_checkpoint_without_optimizer_state_is_a_clear_error(tmp_path):
    net = _net()
    nn.save_checkpoint(tmp_path / "w.npz", net)
    opt = Adam(net.parameters())
    with pytest.raises(ValueError, match=r"w\.npz: no optimizer state saved"):
        nn.load_checkpoint(tmp_path / "w.npz", net, opt)
