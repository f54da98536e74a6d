"""Training data: the protocol's LR, aligned patches, augmentation, determinism, and a
validation split that keeps duplicate images on one side."""
import numpy as np
import pytest

from minisr.data import PatchDataset, list_images, lr_hr_pair, split
from minisr.image.io import imread, imwrite, quantize
from minisr.image.resize import imresize_to_lr, modcrop

HOPPER = __import__("pathlib").Path(__file__).parent / "data" / "hopper.png"


@pytest.fixture
def folder(tmp_path):
    """Six crops of the hopper photo, one of them saved twice under two names."""
    img = imread(HOPPER)
    for i in range(5):
        imwrite(tmp_path / f"im{i}.png", img[i * 10:i * 10 + 90, i * 7:i * 7 + 100])
    imwrite(tmp_path / "im5.png", img[0:90, 0:100])  # the same pixels as im0
    return tmp_path


def test_split_keeps_duplicates_together_and_is_seeded(folder):
    paths = list_images(folder)
    for seed in range(12):
        train, val = split(paths, 0.34, seed)
        assert sorted(train + val) == sorted(paths) and not set(train) & set(val)
        names = {p.name for p in val}
        assert ("im0.png" in names) == ("im5.png" in names)
    assert split(paths, 0.34, 3) == split(paths, 0.34, 3)
    assert len({tuple(split(paths, 0.34, s)[1]) for s in range(12)}) > 1


def test_lr_is_the_protocols_8bit_bicubic(folder):
    hr = imread(folder / "im1.png").astype(np.float64)
    lr, hr_c = lr_hr_pair(hr, 3)
    assert hr_c.shape == (90, 99, 3)
    np.testing.assert_array_equal(lr, quantize(imresize_to_lr(modcrop(hr, 3), 3)))


def test_patches_are_aligned_without_augmentation(folder):
    data = PatchDataset(list_images(folder), 2, 10, colour="rgb", augment=False, seed=1)
    x, y = data.batch(0, 4)
    assert x.shape == (4, 3, 10, 10) and y.shape == (4, 3, 20, 20) and x.dtype == np.float32
    # each LR patch is found, pixel for pixel, in the LR of one of the images
    for k in range(4):
        hits = 0
        for pair in data.pairs:
            lr = pair.lr
            for t in range(lr.shape[1] - 9):
                for u in range(lr.shape[2] - 9):
                    if np.array_equal(lr[:, t:t + 10, u:u + 10], x[k]):
                        hits += np.array_equal(pair.hr[:, 2 * t:2 * t + 20, 2 * u:2 * u + 20],
                                               y[k])
        assert hits >= 1


def test_augmented_pairs_stay_aligned(folder):
    # Pre-upsampled inputs have the target's size, so the same flip/rotation must have hit
    # both: the target correlates best with the input as it is, not with another of the
    # eight dihedral transforms of it.
    data = PatchDataset(list_images(folder), 3, 8, colour="y", pre_upsampled=True, seed=2)
    x, y = data.batch(5, 16)
    assert x.shape == y.shape == (16, 1, 24, 24)
    best = 0
    for k in range(16):
        corr = [np.corrcoef(x[k].ravel(), np.rot90(y[k][:, :, ::-1] if j // 4 else y[k],
                                                   j % 4, axes=(1, 2)).ravel())[0, 1]
                for j in range(8)]
        best += int(np.argmax(corr) == 0)
    assert best >= 15


def test_batches_depend_on_seed_and_step_only(folder):
    a = PatchDataset(list_images(folder), 2, 12, seed=7)
    b = PatchDataset(list_images(folder), 2, 12, seed=7)
    for step in (0, 3):
        for u, v in zip(a.batch(step, 4), b.batch(step, 4)):
            np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a.batch(0, 4)[0], a.batch(1, 4)[0])
    assert not np.array_equal(a.batch(0, 4)[0], PatchDataset(
        list_images(folder), 2, 12, seed=8).batch(0, 4)[0])


def test_downscale_augmentation_adds_smaller_copies(folder):
    data = PatchDataset(list_images(folder), 3, 8, downscales=(1.0, 0.8, 0.6))
    assert len(data) == 18
    assert data.pairs[1].hr.shape[1:] == (72, 78)  # 0.8 x (90, 100), mod-cropped to 3


def test_errors_are_one_line(tmp_path, folder):
    with pytest.raises(ValueError, match="is not a folder"):
        list_images(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no PNG/BMP/JPEG images"):
        list_images(tmp_path / "empty")
    with pytest.raises(ValueError, match="no image is at least 300 px"):
        PatchDataset(list_images(folder), 3, 100)


def test_t91_split_keeps_t36_and_t65_on_one_side(datasets):
    train, val = split(list_images(datasets / "T91"))
    assert len(train) + len(val) == 91 and 8 <= len(val) <= 10
    assert {"t36", "t65"} <= {p.stem for p in train} or {"t36", "t65"} <= {p.stem for p in val}


def test_several_folders_are_listed_in_order(tmp_path, folder):
    other = tmp_path / "other"
    other.mkdir()
    img = imread(HOPPER)
    imwrite(other / "b.png", img[:60, :60])
    imwrite(other / "a.png", img[60:120, :60])
    paths = list_images([folder, other])
    assert paths == list_images(folder) + [other / "a.png", other / "b.png"]
    assert list_images([str(folder)]) == list_images(folder)
    with pytest.raises(ValueError, match="is not a folder"):
        list_images([folder, tmp_path / "nope"])
    with pytest.raises(ValueError, match="no training folder given"):
        list_images([])


def test_the_291_set_is_t91_then_bsds200(datasets):
    """T91 + BSDS200 as VDSR and LapSRN train on it: 291 files, 290 distinct images (T91's
    t65 repeats t36), the held-out tenth drawn from both."""
    paths = list_images([datasets / "T91", datasets / "BSDS200"])
    assert len(paths) == 291 and paths[:91] == list_images(datasets / "T91")
    train, val = split(paths)
    assert len(train) + len(val) == 291 and len(val) == 29
    assert {p.parent.name for p in val} == {"T91", "BSDS200"}
