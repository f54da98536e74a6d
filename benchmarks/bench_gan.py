"""The GAN recipe's two training steps, minisr against PyTorch's CPU backend, in one process.

    python benchmarks/bench_gan.py [--repeats N] [--threads T] [--recipe edsr_small_gan_x4]

Rows, float32, the shipped GAN recipe's shapes (ratio = torch time / minisr time; > 1 means
minisr is faster):
- generator step: G forward, pixel + content (the recipe's feature network) + relativistic
  adversarial loss through the frozen discriminator, backward, Adam;
- discriminator step: D on the real and the generated batch, its loss, backward, Adam;
- the discriminator's forward alone and the feature network's forward alone.
The torch twins carry the same weights (checked: equal outputs before timing). Repeats
alternate minisr and torch after a warm-up of each (``bench_torch.interleaved``).
Skips (exit 0) when torch is not installed.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see bench_torch.py
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_torch import cpu_model, interleaved, torch, torch_twin  # noqa: E402

import minisr.nn as nn  # noqa: E402
from minisr import models  # noqa: E402
from minisr.autograd import Tensor, no_grad  # noqa: E402
from minisr.nn import adversarial as A  # noqa: E402
from minisr.optim import Adam  # noqa: E402
from minisr.train import load_recipe  # noqa: E402
from minisr.train_gan import feature_network, gan_settings, set_trainable  # noqa: E402
from minisr.models.discriminator import VGGStyleDiscriminator  # noqa: E402


def torch_discriminator(d: VGGStyleDiscriminator):
    """The docstring's equivalent torch module, loaded with d's state_dict."""
    tnn = torch.nn

    class D(tnn.Module):
        def __init__(s):
            super().__init__()
            s.levels = d.num_levels
            for name, child in d.named_children():
                if isinstance(child, nn.Conv2d):
                    setattr(s, name, tnn.Conv2d(child.in_channels, child.out_channels,
                                                child.kernel_size, child.stride, child.padding,
                                                bias=child.bias is not None))
                elif isinstance(child, nn.BatchNorm2d):
                    setattr(s, name, tnn.BatchNorm2d(child.num_features))
                elif isinstance(child, nn.Linear):
                    setattr(s, name, tnn.Linear(child.in_features, child.out_features))

        def features(s, x):
            act = lambda v: tnn.functional.leaky_relu(v, 0.2)  # noqa: E731
            out = []
            for i in range(s.levels):
                x = getattr(s, f"conv{i}_0")(x)
                x = act(getattr(s, f"bn{i}_0")(x) if i else x)
                x = act(getattr(s, f"bn{i}_1")(getattr(s, f"conv{i}_1")(x)))
                out.append(x)
            return out

        def forward(s, x):
            x = s.features(x)[-1]
            return s.linear2(torch.nn.functional.leaky_relu(s.linear1(x.mean((2, 3))), 0.2))
    t = D()
    t.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in d.state_dict().items()})
    return t


def torch_features(f):
    """A torch twin of a ``RandomFeatures``/``EDSRFeatures`` network (or D's features)."""
    if hasattr(f, "num_layers"):  # RandomFeatures
        convs = [torch_twin(getattr(f, f"conv{i}")) for i in range(f.num_layers)]
        shift = torch.from_numpy(f._sub_mean._shift.copy())

        def run(x):
            out, h = [], x + shift
            for i, c in enumerate(convs):
                h = c(h if i == 0 else torch.relu(h))
                out.append(h)
            return out
        return run, convs
    m = torch_twin(f.model)

    def run_edsr(x):
        g = h = m.conv_first(m._sub_mean(x))
        for i in range(f.num_blocks):
            g = m.body[i](g)
        return [h, g]
    return run_edsr, [m]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--recipe", default="edsr_small_gan_x4")
    a = ap.parse_args()
    if torch is None:
        print("bench_gan: torch is not installed; skipped (pip install torch to compare)")
        return 0
    torch.set_num_threads(a.threads)
    recipe = load_recipe(a.recipe)
    gan, s = gan_settings(recipe), int(recipe["scale"])
    n, p = recipe["batch_size"], recipe["patch_size"]
    rng = np.random.default_rng(0)
    x = rng.random((n, 3, p, p), dtype=np.float32)
    y = rng.random((n, 3, p * s, p * s), dtype=np.float32)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    g = models.get(recipe["model"], s)
    d = VGGStyleDiscriminator(**gan["discriminator"])
    feats = feature_network(gan["features"], d, s)
    tg, td = torch_twin(g), torch_discriminator(d)
    tfeats, _ = torch_features(feats) if gan["features"]["name"] != "discriminator" else \
        (td.features, None)
    w = gan["weights"]
    opt_g, opt_d = Adam(g.parameters(), lr=1e-4), Adam(d.parameters(), lr=1e-4)
    topt_g, topt_d = (torch.optim.Adam(m.parameters(), lr=1e-4) for m in (tg, td))
    for m in (tg, td):
        m.train()
    with no_grad(), torch.no_grad():
        got, want = d(Tensor(y)).numpy(), td(yt).numpy()
        assert np.allclose(got, want, rtol=1e-3, atol=1e-4), "torch discriminator differs"
        fa, fb = feats(Tensor(y)), tfeats(yt)
        assert all(np.allclose(u.numpy(), v.numpy(), rtol=1e-3, atol=1e-4)
                   for u, v in zip(fa, fb)), "torch features differ"
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def g_step():
        set_trainable(d, False)
        sr = g(Tensor(x))
        with no_grad():
            real = d(Tensor(y))
        loss = (nn.l1_loss(sr, Tensor(y)) * w["pixel"]
                + nn.content_loss(sr, Tensor(y), feats) * w["content"]
                + A.relativistic_generator_loss(real, d(sr)) * w["adversarial"])
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        set_trainable(d, True)
        return sr

    def tg_step():
        td.requires_grad_(False)
        sr = tg(xt)
        with torch.no_grad():
            real = td(yt)
        fake = td(sr)
        content = sum(torch.nn.functional.mse_loss(u, v.detach())
                      for u, v in zip(tfeats(sr), tfeats(yt)))
        adv = (bce(real - fake.mean(), torch.zeros_like(real))
               + bce(fake - real.mean(), torch.ones_like(fake)))
        loss = (torch.nn.functional.l1_loss(sr, yt) * w["pixel"] + content * w["content"]
                + adv * w["adversarial"])
        topt_g.zero_grad()
        loss.backward()
        topt_g.step()
        td.requires_grad_(True)
        return sr

    with no_grad():
        sr_fixed = g(Tensor(x)).detach()
    with torch.no_grad():
        tsr_fixed = tg(xt)

    def d_step():
        loss = A.relativistic_discriminator_loss(d(Tensor(y)), d(sr_fixed))
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()

    def td_step():
        real, fake = td(yt), td(tsr_fixed)
        loss = (bce(real - fake.mean(), torch.ones_like(real))
                + bce(fake - real.mean(), torch.zeros_like(fake)))
        topt_d.zero_grad()
        loss.backward()
        topt_d.step()

    def d_fwd():
        with no_grad():
            d(Tensor(y))

    def td_fwd():
        with torch.no_grad():
            td(yt)

    def f_fwd():
        with no_grad():
            feats(Tensor(y))

    def tf_fwd():
        with torch.no_grad():
            tfeats(yt)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cpu_model()}, "
          f"{a.threads} threads, torch {torch.__version__}, repeats {a.repeats} (interleaved "
          f"medians; ratio = torch / minisr); recipe {a.recipe}: batch {n}, LR {p}x{p}, "
          f"HR {p * s}x{p * s}, features {gan['features']['name']}")
    print(f"{'case':<46}{'minisr ms':>11}{'torch ms':>10}{'ratio':>7}")
    for label, f, t in (("generator step (G fwd+bwd, D fwd+bwd_in, Adam)", g_step, tg_step),
                        ("discriminator step (D on real+fake, Adam)", d_step, td_step),
                        ("discriminator forward (real batch)", d_fwd, td_fwd),
                        (f"feature network forward ({gan['features']['name']})", f_fwd,
                         tf_fwd)):
        ours, theirs = interleaved(f, t, a.repeats)
        print(f"{label:<46}{ours * 1e3:>11.1f}{theirs * 1e3:>10.1f}{theirs / ours:>7.2f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
