"""``minisr train``: recipes, bit-for-bit resume, NaN stop, SIGTERM, init, run files."""
import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest

from minisr import models, train as T
from minisr.cli import main
from minisr.image.io import imread, imwrite
from minisr.nn import save_weights
from minisr.nn.serialization import load_npz

HOPPER = __import__("pathlib").Path(__file__).parent / "data" / "hopper.png"


@pytest.fixture
def folder(tmp_path):
    img = imread(HOPPER)
    data = tmp_path / "data"
    data.mkdir()
    for i in range(4):
        imwrite(data / f"im{i}.png", img[i * 12:i * 12 + 60, i * 9:i * 9 + 64])
    return data


def _recipe(**kw):
    r = {**T.DEFAULTS, "model": "espcn", "scale": 2, "patch_size": 8, "batch_size": 2,
         "steps": 6, "val_every": 3, "log_every": 1, "checkpoint_every": 2,
         "val_fraction": 0.25, "_hash": "test"}
    return {**r, **kw}


def _weights(path):
    return load_npz(path)[0]["model"]


def test_every_shipped_recipe_loads_and_names_no_test_set():
    names = sorted(p.stem for p in T.RECIPES_DIR.glob("*.json"))
    assert {"espcn_x3", "fsrcnn_x3", "srcnn_x3", "edsr_small_x2"} <= set(names)
    for name in names:
        text = (T.RECIPES_DIR / f"{name}.json").read_text()
        assert "set5" not in text.lower() and "set14" not in text.lower()
        r = T.load_recipe(name)
        m = models.get(r["model"], r["scale"])
        T.build_optimizer(m, r)
        # training sets only: T91, BSDS200, or both ("T91+BSDS200", the "291" set)
        assert set(r["data"].split("+")) <= {"T91", "BSDS200"}


def test_ctrl_c_then_resume_continues_bit_for_bit(folder, tmp_path, monkeypatch):
    T.train(_recipe(), folder, tmp_path / "a", progress=False)
    calls = {"n": 0}
    real = T.LOSSES["l1"]

    def ctrl_c(x, y):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(x, y)
    monkeypatch.setitem(T.LOSSES, "l1", ctrl_c)
    with pytest.raises(KeyboardInterrupt, match="SIGINT: checkpoint saved at step 3"):
        T.train(_recipe(), folder, tmp_path / "b", progress=False)
    monkeypatch.setitem(T.LOSSES, "l1", real)
    T.train(_recipe(), folder, tmp_path / "b", resume=True, progress=False)
    a, b = _weights(tmp_path / "a" / "last.npz"), _weights(tmp_path / "b" / "last.npz")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    rows = (tmp_path / "b" / "train.csv").read_text().splitlines()
    assert rows[0] == "step,loss,lr,val_psnr,seconds" and len(rows) == 7
    assert (tmp_path / "a" / "curves.png").stat().st_size > 1000
    assert (tmp_path / "a" / "best.npz").exists()


def test_a_residual_recipe_trains_and_its_weights_say_so(folder, tmp_path):
    summary = T.train(_recipe(residual=True, steps=3), folder, tmp_path / "r", progress=False)
    _, meta = load_npz(tmp_path / "r" / "best.npz")
    assert meta["residual"] is True and summary["steps"] == 3
    model = models.load_file("espcn", 2, tmp_path / "r" / "best.npz")
    assert model.residual
    # validation ran the residual model: its PSNR beats the bare (untrained) network's
    bare = models.load_file("espcn", 2, tmp_path / "r" / "best.npz")
    bare.residual = False
    val = T.split(T.list_images(folder), 0.25, 0)[1]
    assert T.validate(model, val, 2) > T.validate(bare, val, 2) + 3.0


def test_resume_refuses_a_checkpoint_of_another_recipe(folder, tmp_path):
    T.train(_recipe(steps=2), folder, tmp_path / "run", progress=False)
    with pytest.raises(ValueError, match="was made by another recipe"):
        T.train(_recipe(steps=4, _hash="other"), folder, tmp_path / "run", resume=True,
                progress=False)


def test_lr_multipliers_make_groups(folder):
    r = _recipe(lr_mult={"conv3": 0.1})
    opt, _ = T.build_optimizer(models.get("espcn", 2), r)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([1e-4, 1e-3])
    assert len(opt.param_groups[0]["params"]) == 2  # conv3.weight and conv3.bias


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(folder, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = T.LOSSES["l1"]

    def flaky(x, y):
        calls["n"] += 1
        loss = real(x, y)
        return loss * float("nan") if calls["n"] == 5 else loss
    monkeypatch.setitem(T.LOSSES, "l1", flaky)
    with pytest.raises(T.TrainingStopped, match="loss became nan at step 5"):
        T.train(_recipe(), folder, tmp_path / "run", progress=False)
    extra, _ = load_npz(tmp_path / "run" / "last.npz")
    assert extra["step"] == 4  # written at step 4 (checkpoint_every=2), never after
    assert all(np.isfinite(v).all() for v in extra["model"].values())


def test_sigterm_saves_a_checkpoint_and_resume_finishes(folder, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = T.LOSSES["l1"]

    def interrupting(x, y):
        calls["n"] += 1
        if calls["n"] == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(x, y)
    monkeypatch.setitem(T.LOSSES, "l1", interrupting)
    with pytest.raises(KeyboardInterrupt, match="SIGTERM: checkpoint saved at step 3"):
        T.train(_recipe(), folder, tmp_path / "run", progress=False)
    assert load_npz(tmp_path / "run" / "last.npz")[0]["step"] == 3
    monkeypatch.setitem(T.LOSSES, "l1", real)
    T.train(_recipe(), folder, tmp_path / "ref", progress=False)
    T.train(_recipe(), folder, tmp_path / "run", resume=True, progress=False)
    a, b = _weights(tmp_path / "ref" / "last.npz"), _weights(tmp_path / "run" / "last.npz")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_init_copies_matching_weights_except_excluded(tmp_path):
    src = models.get("fsrcnn", 3)
    save_weights(src, tmp_path / "x3.npz")
    dst = models.get("fsrcnn", 2)
    copied = T.init_from(dst, tmp_path / "x3.npz", exclude=["deconv"])
    assert "deconv.weight" not in copied and "mapping.3.0.weight" in copied
    np.testing.assert_array_equal(dst.state_dict()["shrinking.0.weight"],
                                  src.state_dict()["shrinking.0.weight"])
    assert not np.array_equal(dst.state_dict()["deconv.weight"],
                              src.state_dict()["deconv.weight"])
    edsr = models.get("edsr-small", 4)
    save_weights(models.get("edsr-small", 2), tmp_path / "e2.npz")
    copied = T.init_from(edsr, tmp_path / "e2.npz")
    assert "upsample.0.weight" in copied and "upsample.2.weight" not in copied


def test_cli_train_and_its_errors(folder, tmp_path, capsys):
    recipe = tmp_path / "r.json"
    recipe.write_text(json.dumps({k: v for k, v in _recipe().items() if k != "_hash"}))
    out = tmp_path / "run"
    args = ["train", "--recipe", str(recipe), "--data", str(folder), "--out", str(out),
            "--no-progress"]
    assert main(args) == 0
    assert "trained espcn x2: 6 steps" in capsys.readouterr().out
    assert main(args) == 2
    assert "already holds a run; pass --resume" in capsys.readouterr().err
    for bad, message in [(["--recipe", "nope"], "no recipe 'nope'; shipped recipes: "),
                         (["--model", "espcn"], "give --recipe, or --model and --scale"),
                         (["--recipe", str(recipe), "--data", str(tmp_path / "none")],
                          "is not a folder")]:
        argv = ["train", "--data", str(folder), "--out", str(tmp_path / "x")] + bad
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("minisr: error: ") and message in err and err.count("\n") == 1


def test_resume_drops_log_rows_past_the_checkpoint(tmp_path):
    # a run killed after logging step 5 with its last checkpoint at step 4
    log = tmp_path / "train.csv"
    log.write_text("step,loss,lr,val_psnr,seconds\n3,0.5,0.1,,1.0\n4,0.4,0.1,30.1,2.0\n"
                   "5,0.3,0.1,,3.0\n")
    T.truncate_log(log, 4)
    assert log.read_text().splitlines() == ["step,loss,lr,val_psnr,seconds",
                                            "3,0.5,0.1,,1.0", "4,0.4,0.1,30.1,2.0"]
    T.truncate_log(log, 4)      # nothing past the step: unchanged
    assert len(log.read_text().splitlines()) == 3


def test_train_all_rebuilds_every_recipe_after_what_it_starts_from():
    # scripts/train_all.sh is the one command that rebuilds the shipped weights: every
    # recipe must be in it, after the run its ``init`` names (shipped weights or a run folder)
    import re
    script = (Path(__file__).resolve().parents[1] / "scripts" / "train_all.sh").read_text()
    order = []
    for line in script.splitlines():
        line = line.split("#")[0]
        m = re.match(r"\s*for r in ([\w ]+); do run \$r; done", line)
        order += m.group(1).split() if m else re.findall(r"^\s*run (\w+)", line)
    names = sorted(p.stem for p in T.RECIPES_DIR.glob("*.json"))
    assert sorted(order) == names
    for name in names:
        init = T.load_recipe(name).get("init")
        if not init:
            continue
        source = (Path(init).parent.name if "/" in str(init)
                  else str(init).replace("-x", "_x").replace("-", "_"))
        if source == name:  # continues its own model's shipped weights: an earlier stage
            r = T.load_recipe(name)
            source = next(o for o in order[:order.index(name)][::-1]
                          if (T.load_recipe(o)["model"], T.load_recipe(o)["scale"])
                          == (r["model"], r["scale"]))
        assert order.index(source) < order.index(name), (name, source)
