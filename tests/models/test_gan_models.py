"""The GAN's networks: the VGG-style discriminator and the fixed feature networks."""
import numpy as np
import pytest

from minisr import models
from minisr.autograd import Tensor
from minisr.models.discriminator import VGGStyleDiscriminator
from minisr.models.features import EDSRFeatures, RandomFeatures
from minisr.nn import init, losses


def _x(shape, seed=0, dtype=np.float32):
    return Tensor(np.random.default_rng(seed).random(shape).astype(dtype))


def test_discriminator_shapes_names_and_levels():
    init.seed(0)
    d = VGGStyleDiscriminator(num_features=8, num_levels=3)
    feats = d.features(_x((2, 3, 40, 24)))
    assert [f.shape for f in feats] == [(2, 8, 20, 12), (2, 16, 10, 6), (2, 32, 5, 3)]
    assert d(_x((2, 3, 40, 24))).shape == (2, 1)
    names = set(d.state_dict())
    assert {"conv0_0.weight", "conv0_0.bias", "conv0_1.weight", "bn0_1.running_var",
            "bn1_0.num_batches_tracked", "linear1.weight", "linear2.bias"} <= names
    assert "conv1_0.bias" not in names and "bn0_0.weight" not in names  # as in ESRGAN
    with pytest.raises(ValueError, match="H, W >= 8"):
        d(_x((1, 3, 7, 16)))


def test_discriminator_equals_its_pytorch_twin_in_train_and_eval_mode():
    torch = pytest.importorskip("torch")
    tnn = torch.nn

    class D(tnn.Module):  # the docstring's equivalent module
        def __init__(s, nf=8, levels=3):
            super().__init__()
            c = 3
            for i in range(levels):
                f = nf * min(2 ** i, 8)
                setattr(s, f"conv{i}_0", tnn.Conv2d(c, f, 3, 1, 1, bias=i == 0))
                if i:
                    setattr(s, f"bn{i}_0", tnn.BatchNorm2d(f))
                setattr(s, f"conv{i}_1", tnn.Conv2d(f, f, 4, 2, 1, bias=False))
                setattr(s, f"bn{i}_1", tnn.BatchNorm2d(f))
                c = f
            s.levels, s.linear1, s.linear2 = levels, tnn.Linear(c, 100), tnn.Linear(100, 1)

        def forward(s, x):
            act = lambda v: tnn.functional.leaky_relu(v, 0.2)  # noqa: E731
            for i in range(s.levels):
                x = getattr(s, f"conv{i}_0")(x)
                x = act(getattr(s, f"bn{i}_0")(x) if i else x)
                x = act(getattr(s, f"bn{i}_1")(getattr(s, f"conv{i}_1")(x)))
            return s.linear2(act(s.linear1(x.mean((2, 3)))))

    init.seed(0)
    ours = VGGStyleDiscriminator(num_features=8, num_levels=3).to(np.float64)
    theirs = D().double()
    theirs.load_state_dict({k: torch.from_numpy(np.asarray(v))
                            for k, v in ours.state_dict().items()})
    x = np.random.default_rng(1).random((3, 3, 32, 24))
    for step in range(2):  # training mode twice: batch statistics and running updates
        xt = Tensor(x + step, requires_grad=True)
        y = ours(xt)
        tx = torch.tensor(x + step, requires_grad=True)
        ty = theirs(tx)
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        y.backward(np.ones((3, 1)))
        ty.sum().backward()
        np.testing.assert_allclose(xt.grad, tx.grad.numpy(), rtol=1e-8, atol=1e-12)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), rtol=1e-10, err_msg=k)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(Tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)


def test_random_features_are_fixed_by_their_seed_and_frozen():
    a, b, c = RandomFeatures(seed=0), RandomFeatures(seed=0), RandomFeatures(seed=1)
    x = _x((1, 3, 17, 12))
    fa, fb, fc = a(x), b(x), c(x)
    assert [f.shape for f in fa] == [(1, 32, 17, 12), (1, 64, 9, 6), (1, 64, 5, 3)]
    for p, q in zip(fa, fb):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert not np.allclose(fa[0].numpy(), fc[0].numpy())
    assert all(not p.requires_grad for p in a.parameters())
    # He-normal filters keep the signal's scale: layer 1's output std is about sqrt(2) *
    # sqrt(27) * std(w) * std(x - mean) = sqrt(2) * std(x) for a white input
    white = Tensor(np.random.default_rng(2).standard_normal((4, 3, 64, 64)).astype(np.float32))
    ratio = a(white)[0].numpy().std() / white.numpy().std()
    assert 1.1 < ratio < 1.8


def test_content_loss_through_frozen_features_trains_only_the_input():
    feats = EDSRFeatures(models.load_pretrained("edsr-small", 4), num_blocks=2)
    y = _x((1, 3, 16, 16), 0)
    sr = Tensor(_x((1, 3, 16, 16), 1).data, requires_grad=True)
    loss = losses.content_loss(sr, y, feats)
    loss.backward()
    assert loss.item() > 0 and sr.grad is not None and np.abs(sr.grad).max() > 0
    assert all(p.grad is None for p in feats.parameters())
    assert losses.content_loss(y, y, feats).item() == 0.0
