"""GAN recipes in ``minisr train``: two networks, their logs, bit-for-bit resume, NaN stops."""
import csv

import numpy as np
import pytest

from minisr import train as T
from minisr import train_gan as G
from minisr.image.io import imread, imwrite
from minisr.image.resize import resize
from minisr.nn.serialization import flatten, load_npz

HOPPER = __import__("pathlib").Path(__file__).parent / "data" / "hopper.png"


@pytest.fixture
def folder(tmp_path):
    # NIQE needs 96-pixel patches: hopper enlarged to 256x218, four 200x200 crops
    img = np.clip(resize(imread(HOPPER).astype(np.float64), 2.0), 0, 1)
    data = tmp_path / "data"
    data.mkdir()
    for i in range(4):
        imwrite(data / f"im{i}.png", img[i * 12:i * 12 + 200, i * 5:i * 5 + 200])
    return data


def _recipe(**gan):
    r = {**T.DEFAULTS, "model": "edsr-small", "scale": 2, "patch_size": 8, "batch_size": 2,
         "steps": 4, "val_every": 2, "log_every": 1, "checkpoint_every": 1,
         "val_fraction": 0.25, "_hash": "test",
         "gan": {"discriminator": {"num_features": 8, "num_levels": 2},
                 "features": {"name": "random", "channels": [8, 8]},
                 "weights": {"pixel": 1.0, "content": 0.5, "adversarial": 0.01, "tv": 0.01,
                             "gram": 0.1},
                 # four steps from random weights stay below bicubic: no floor here
                 "psnr_floor_over_bicubic": -100.0}}
    r["gan"].update(gan)
    return r


def _state(path):
    tree, _ = load_npz(path)
    return flatten(tree)


def test_a_gan_recipe_logs_both_networks_and_checkpoints_both(folder, tmp_path):
    summary = G.train_gan(_recipe(), folder, tmp_path / "g", progress=False)
    assert summary["steps"] == 4 and np.isfinite(summary["best_val_niqe"])
    rows = list(csv.DictReader((tmp_path / "g" / "train.csv").open()))
    assert list(rows[0]) == G.COLUMNS and [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    for r in rows:
        assert 0 < float(r["d_real"]) < 1 and 0 < float(r["d_fake"]) < 1
        assert float(r["d_loss"]) > 0 and float(r["adversarial"]) > 0
        # the logged total is the sum of the logged weighted terms
        terms = sum(float(r[k]) for k in ("pixel", "content", "adversarial", "gram", "tv"))
        assert float(r["loss"]) == pytest.approx(terms, rel=1e-4)
    val = [r for r in rows if r["val_psnr"]]
    assert [int(r["step"]) for r in val] == [2, 4]
    assert all(15 < float(r["val_psnr"]) < 60 and 0 < float(r["val_niqe"]) < 100 for r in val)
    assert (tmp_path / "g" / "best.npz").exists()
    state = _state(tmp_path / "g" / "last.npz")
    assert "discriminator/bn1_1.running_var" in state
    assert any(k.startswith("d_optimizer/") for k in state)
    assert any(k.startswith("d_scheduler/") for k in state)
    assert (tmp_path / "g" / "curves.png").stat().st_size > 1000
    _, meta = load_npz(tmp_path / "g" / "best.npz")
    assert meta["val_niqe"] == pytest.approx(summary["best_val_niqe"], abs=1e-4)


def test_ctrl_c_then_resume_continues_both_networks_bit_for_bit(folder, tmp_path,
                                                                  monkeypatch):
    G.train_gan(_recipe(), folder, tmp_path / "a", progress=False)
    calls = {"n": 0}
    real = T.LOSSES["l1"]

    def ctrl_c(x, y):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(x, y)
    monkeypatch.setitem(T.LOSSES, "l1", ctrl_c)
    with pytest.raises(KeyboardInterrupt, match="SIGINT: checkpoint saved at step 2"):
        G.train_gan(_recipe(), folder, tmp_path / "b", progress=False)
    monkeypatch.setitem(T.LOSSES, "l1", real)
    G.train_gan(_recipe(), folder, tmp_path / "b", resume=True, progress=False)
    a, b = _state(tmp_path / "a" / "last.npz"), _state(tmp_path / "b" / "last.npz")
    assert set(a) == set(b)
    for k in a:
        if k != "elapsed":
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    rows = (tmp_path / "b" / "train.csv").read_text().splitlines()
    assert len(rows) == 5


@pytest.mark.parametrize("which", ["generator", "discriminator"])
def test_a_nan_loss_stops_with_the_last_good_checkpoint(folder, tmp_path, monkeypatch, which):
    from minisr.nn import adversarial
    d_loss, g_loss = adversarial.ADVERSARIAL_LOSSES["ragan"]
    calls = {"n": 0}

    def poisoned(real, fake):
        calls["n"] += 1
        out = (g_loss if which == "generator" else d_loss)(real, fake)
        return out * float("nan") if calls["n"] == 3 else out
    pair = (d_loss, poisoned) if which == "generator" else (poisoned, g_loss)
    monkeypatch.setitem(adversarial.ADVERSARIAL_LOSSES, "ragan", pair)
    key = "loss" if which == "generator" else "d_loss"
    with pytest.raises(T.TrainingStopped, match=f"{key} became nan at step 3"):
        G.train_gan(_recipe(), folder, tmp_path / "n", progress=False)
    assert int(_state(tmp_path / "n" / "last.npz")["step"]) == 2


@pytest.mark.parametrize("features", ["edsr", "discriminator"])
def test_other_feature_networks_train(folder, tmp_path, features):
    spec = {"name": features, "weights": "edsr-small-x2"} if features == "edsr" else \
        {"name": features}
    summary = G.train_gan({**_recipe(features=spec), "steps": 2}, folder, tmp_path / features,
                      progress=False)
    assert summary["steps"] == 2


def test_the_generator_step_leaves_the_discriminator_unchanged(folder, tmp_path, monkeypatch):
    # With the discriminator's learning rate at 0 its weights must stay as initialised
    # (only BN's running statistics move); the generator's must move.
    r = _recipe(d_optimizer={"name": "adam", "lr": 0.0})
    r["schedule"] = {"name": "multistep", "milestones": [100]}
    G.train_gan({**r, "steps": 1}, folder, tmp_path / "s", progress=False)
    import minisr.nn.init as I
    from minisr import models
    from minisr.models.discriminator import VGGStyleDiscriminator
    I.seed(0)
    g0 = models.get("edsr-small", 2)
    d0 = VGGStyleDiscriminator(num_features=8, num_levels=2)
    state = _state(tmp_path / "s" / "last.npz")
    for k, v in d0.state_dict().items():
        if "running" not in k and "num_batches" not in k:
            np.testing.assert_array_equal(state[f"discriminator/{k}"], v, err_msg=k)
    assert int(state["discriminator/bn1_1.num_batches_tracked"]) == 4  # 2 forwards per G step, 2 per D step
    moved = [k for k, v in g0.state_dict().items() if not np.array_equal(state[f"model/{k}"], v)]
    assert len(moved) == len(g0.state_dict())


@pytest.mark.parametrize("gan, message", [
    ({"adversarial": "wgan"}, "gan.adversarial must be one of"),
    ({"features": {"name": "vgg"}}, "gan.features.name must be"),
    ({"weights": {"perceptual": 1.0}}, "unknown terms"),
])
def test_bad_gan_settings_are_one_line_errors(gan, message):
    with pytest.raises(ValueError, match=message):
        G.gan_settings(_recipe(**gan))


def test_best_needs_the_psnr_floor(folder, tmp_path):
    # A floor far above bicubic: no validation qualifies, so no best.npz and best = inf.
    recipe = {**_recipe(psnr_floor_over_bicubic=100.0), "steps": 2}
    summary = G.train_gan(recipe, folder, tmp_path / "f", progress=False)
    assert summary["best_val_niqe"] == float("inf")
    assert not (tmp_path / "f" / "best.npz").exists()
