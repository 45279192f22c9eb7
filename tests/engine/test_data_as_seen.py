"""The data a run trains on, as the model sees it: class subsets, augmentations done on the batch,
normalisation with other statistics, and the pictures the Data tab draws before and during a run."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from engine.data import DataError, dataset_options, load_dataset, raw_values
from engine.data.augment import Augmentation, affine
from engine.data.normalization import IMAGENET_MEAN, IMAGENET_STD, renormalized, to_pixels
from engine.training import ConfigError, TrainingConfig, batch_as_seen, train
from engine.training.messages import TrainingBatch
from tests.helpers import chain, lenet


def test_a_data_set_can_be_cut_to_some_classes_and_a_few_samples_of_each():
    assert {"class_subset": None, "per_class": 0}.items() <= dataset_options("digits").items()
    whole = load_dataset("digits")
    five = load_dataset("digits", class_subset=[5, 6, 7, 8, 9], per_class=50)
    assert five.class_names == ["5", "6", "7", "8", "9"]
    assert five.y_train.bincount().tolist() == [50] * 5
    assert len(five.x_val) == int((whole.y_val >= 5).sum())            # validation keeps every sample of them
    # 7 is now class 2, its samples in order: the same pixels, standardised with the statistics
    # of the 250 training samples kept, which are those they are standardised to
    first_seven = raw_values(whole).x_train[whole.y_train == 7][0]
    assert torch.allclose(raw_values(five).x_train[five.y_train == 2][0], first_seven, atol=1e-6)
    assert abs(float(five.x_train.mean())) < 1e-5 and abs(float(five.x_train.std()) - 1) < 1e-3
    assert five.extra["mean"].item() != whole.extra["mean"].item()
    by_name = load_dataset("digits", class_subset=["9", "0"])
    assert by_name.class_names == ["9", "0"] and set(by_name.y_train.tolist()) == {0, 1}


@pytest.mark.parametrize("options, message", [
    ({"class_subset": [3, 12]}, r"option 'class_subset': 12 is not one of its 10 classes \(numbers 0-9 or names: 0, 1, 2"),
    ({"class_subset": [3, 3]}, r"option 'class_subset' names '3' twice"),
    ({"class_subset": "3"}, r"option 'class_subset' must be a list of class numbers or names, not '3'"),
    ({"per_class": -1}, r"option 'per_class' must be a whole number of samples \(0: all\), not -1"),
    ({"per_class": 2.5}, r"option 'per_class' must be a whole number of samples \(0: all\), not 2.5"),
])
def test_a_wrong_subset_is_refused_naming_the_option(options, message):
    with pytest.raises(DataError, match=message):
        load_dataset("digits", **options)
    with pytest.raises(DataError, match="data set 'sine': class_subset and per_class choose among class labels"):
        load_dataset("sine", class_subset=[0])


def test_the_geometric_augmentations_are_one_affine_resampling():
    x = torch.rand(2, 3, 6, 6)
    n = torch.ones(2)
    zero = torch.zeros(2)
    turned = affine(x, n, n, zero, zero, torch.full((2,), math.pi / 2), zero > 0)
    assert torch.allclose(turned, torch.rot90(x, 1, (2, 3)), atol=1e-5)
    mirrored = affine(x, n, n, zero, zero, zero, zero == 0)
    assert torch.allclose(mirrored, x.flip(-1), atol=1e-6)
    assert torch.allclose(affine(x, n, n, zero, zero, zero, zero > 0), x, atol=1e-6)   # nothing asked: unchanged
    quarter = affine(torch.arange(64.).reshape(1, 1, 8, 8), torch.full((1,), 0.5), torch.full((1,), 0.5),
                     torch.full((1,), 0.5), torch.full((1,), 0.5), torch.zeros(1), torch.zeros(1) > 0)
    assert quarter[0, 0, 0, 0] == pytest.approx(36.0 - 0.25 * 9)     # the lower right quarter, enlarged


def test_augmentations_change_each_sample_on_its_own_and_keep_pixels_in_range():
    data = load_dataset("digits")
    x = data.x_train[:32]
    statistics = (data.extra["mean"], data.extra["std"])
    out = Augmentation(resized_crop=0.5, flip=True, rotation=20, color_jitter=0.4).apply(
        x, torch.Generator().manual_seed(0), statistics)
    assert out.shape == x.shape
    changes = (out - x).abs().flatten(1).mean(1)
    assert (changes > 0.01).all() and len(set(changes.round(decimals=4).tolist())) == 32
    pixels = to_pixels(out, data)
    assert pixels.min() >= -1e-5 and pixels.max() <= 1 + 1e-5            # jitter clamps to real pixels


@pytest.mark.parametrize("settings, message", [
    ({"rotation": 200}, r"training.augment.rotation: must be a number from 0 to 180 degrees, not 200"),
    ({"resized_crop": 1.5}, r"training.augment.resized_crop: must be a number from 0 to 1"),
    ({"flip": "yes"}, r"training.augment.flip: must be true or false, not 'yes'"),
    ({"blur": 2}, r"training.augment.blur: unknown augmentation; known: resized_crop, flip, rotation, color_jitter"),
])
def test_wrong_augmentation_settings_are_refused_naming_the_field(settings, message):
    with pytest.raises(ConfigError, match=message):
        TrainingConfig.from_dict({"augment": settings})


def test_images_are_normalised_anew_and_their_pixels_come_back():
    data = load_dataset("digits")
    grey = renormalized(data, [0.5], [0.25], "the start weights' statistics")
    assert torch.allclose(to_pixels(grey.x_train, grey), to_pixels(data.x_train, data), atol=1e-5)
    assert torch.allclose(grey.x_train, (to_pixels(data.x_train, data) - 0.5) / 0.25, atol=1e-5)
    with pytest.raises(DataError, match="ImageNet's statistics are for 3 colour channels but digits's images have 1"):
        renormalized(data, IMAGENET_MEAN, IMAGENET_STD, "ImageNet's statistics")


def picture_folder(root, classes=("cat", "dog"), per=4):
    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per):
            Image.fromarray(rng.integers(0, 255, (12, 10, 3), dtype=np.uint8)).save(root / name / f"{i}.png")
    return root


def test_class_names_come_from_the_folder_names_and_imagenet_statistics_apply_to_colour(tmp_path):
    root = picture_folder(tmp_path / "pets")
    settings = {"dataset": "image_folder", "dataset_options": {"root": str(root), "val_fraction": 0.25},
                "normalize": "imagenet", "batch_size": 4}
    seen = batch_as_seen(settings)
    assert seen.class_names == ("cat", "dog") and set(seen.label_names) <= {"cat", "dog"}
    data = load_dataset("image_folder", root=str(root), val_fraction=0.25, normalize=False)
    raw = {tuple(p.flatten().tolist()) for p in (data.x_train * 255).round().to(torch.uint8).permute(0, 2, 3, 1)}
    assert {tuple(p.flatten().tolist()) for p in seen.pixels} <= raw      # no augmentation: the very pictures
    mean = torch.tensor(IMAGENET_MEAN).reshape(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).reshape(3, 1, 1)
    assert torch.allclose(seen.inputs, (torch.from_numpy(seen.pixels).permute(0, 3, 1, 2) / 255 - mean) / std,
                          atol=0.01)
    assert seen.description == "augmentations: none; normalised with ImageNet's statistics"


def test_the_batch_shown_before_training_is_the_first_one_the_run_trains_on():
    graph = lenet()
    settings = graph.training | {"augment": {"rotation": 15, "flip": True, "color_jitter": 0.3}, "epochs": 2,
                                 "device": "cpu", "probe_every": 0, "dataset_options": {"per_class": 20}}
    seen = batch_as_seen(settings, graph=graph)
    assert seen.pixels.shape == (16, 8, 8, 1) and seen.pixels.dtype == np.uint8
    assert seen.description == ("augmentations: left-right flips, rotations up to 15 degrees, colour jitter of 30%; "
                                "raw values, which the graph's norm step normalises")
    plain = batch_as_seen(settings | {"augment": {}}, graph=graph)
    assert seen.labels == plain.labels and not np.array_equal(seen.pixels, plain.pixels)
    batches = [m for m in train(graph, TrainingConfig.from_dict(settings)) if isinstance(m, TrainingBatch)]
    assert [b.epoch for b in batches] == [1, 2]
    assert np.array_equal(batches[0].pixels, seen.pixels) and batches[0].labels == seen.labels
    assert not np.array_equal(batches[1].pixels, seen.pixels)            # a new epoch: other samples and draws
    assert batches[0].description == seen.description


def test_data_that_is_no_images_has_no_batch_to_show_and_takes_no_augmentation():
    with pytest.raises(DataError, match="spiral holds points data, not images: there is no picture of it to show"):
        batch_as_seen({"dataset": "spiral"})
    mlp = chain(("Linear", {"out_features": 3}), input_shape=[2])
    [failed] = list(train(mlp, TrainingConfig.from_dict({"dataset": "spiral", "augment": {"flip": True},
                                                          "device": "cpu"})))
    assert failed.reason == ("training.augment: augmentations change images, but spiral holds points data; leave "
                             "them off")


def test_the_subset_options_pick_the_same_samples_from_a_loader_that_takes_them_and_from_one_that_does_not():
    """The digits choose their samples before enlarging and colouring them (AlexNet's 100 of
    1,797 at 227x227); the result is what the general subset of the whole set gives."""
    from engine.data.subsets import subset
    from engine.data.synthetic import digits
    options = {"class_subset": [3, 1], "per_class": 7}
    early = load_dataset("digits", color=True, image_size=16, **options)
    late = subset(digits(color=True, image_size=16), **options)
    assert early.class_names == late.class_names == ["3", "1"]
    for a, b in ((early.y_train, late.y_train), (early.y_val, late.y_val)):
        assert torch.equal(a, b)
    for a, b in ((early.x_train, late.x_train), (early.x_val, late.x_val),
                 (early.extra["mean"], late.extra["mean"]), (early.extra["std"], late.extra["std"])):
        assert torch.allclose(a, b, atol=1e-5)
