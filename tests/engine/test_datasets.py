"""Data sets load from files in their real formats, and bad input gets a clear message."""

import gzip
import pickle
import struct

import numpy as np
import pytest
import torch

from engine.data import DataError, load_dataset
from engine.data.augment import augment_batch


def write_idx(path, array, gz=False):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)


def make_mnist(root, n_train=50, n_val=20, layout="torchvision", gz=False):
    rng = np.random.default_rng(0)
    folder = root / "MNIST" / "raw" if layout == "torchvision" else root
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    for prefix, n in (("train", n_train), ("t10k", n_val)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", rng.integers(0, 256, (n, 28, 28)), gz)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", np.arange(n) % 10, gz)
    return folder


@pytest.mark.parametrize("layout, gz", [("torchvision", False), ("flat", True)])
def test_mnist_idx_files(tmp_path, layout, gz):
    make_mnist(tmp_path, layout=layout, gz=gz)
    data = load_dataset("mnist", root=str(tmp_path))
    assert data.input_shape == (1, 28, 28) and data.num_classes == 10
    assert len(data.x_train) == 50 and len(data.x_val) == 20
    assert data.y_train.tolist()[:12] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert abs(float(data.x_train.mean())) < 1e-4        # standardized with training statistics


def test_fashion_mnist_has_its_class_names(tmp_path):
    rng = np.random.default_rng(1)
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", 30), ("t10k", 10)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)
    data = load_dataset("fashion_mnist", root=str(tmp_path), normalize=False)
    assert data.class_names[9] == "Ankle boot"
    assert float(data.x_train.max()) <= 1.0


def test_truncated_idx_file_is_named(tmp_path):
    folder = make_mnist(tmp_path)
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte: holds \d+ values but its header promises 50x28x28"):
        load_dataset("mnist", root=str(tmp_path))


def test_missing_mnist_folder_and_files(tmp_path):
    with pytest.raises(DataError, match="the folder .*nowhere does not exist"):
        load_dataset("mnist", root=str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="train-images-idx3-ubyte was not found in .*download=true"):
        load_dataset("mnist", root=str(tmp_path))


def write_cifar_batch(path, n, labels_key=b"labels", seed=0):
    rng = np.random.default_rng(seed)
    batch = {b"batch_label": b"test", labels_key: list(range(n)), b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             b"filenames": [b"x.png"] * n}
    batch[labels_key] = [i % 10 for i in range(n)]
    with path.open("wb") as f:
        pickle.dump(batch, f, protocol=2)


def test_cifar10_python_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for i in range(1, 6):
        write_cifar_batch(folder / f"data_batch_{i}", 8, seed=i)
    write_cifar_batch(folder / "test_batch", 6)
    data = load_dataset("cifar10", root=str(tmp_path), crop_padding=4, flip=True)
    assert data.input_shape == (3, 32, 32) and len(data.x_train) == 40 and len(data.x_val) == 6
    assert data.class_names[0] == "airplane" and data.extra["crop_padding"] == 4 and data.extra["flip"] is True
    assert data.extra["mean"].shape == (3, 1, 1)      # per channel, to treat new images alike


def test_cifar100_uses_fine_labels_and_names(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    write_cifar_batch(folder / "train", 20, labels_key=b"fine_labels")
    write_cifar_batch(folder / "test", 5, labels_key=b"fine_labels")
    with (folder / "meta").open("wb") as f:
        pickle.dump({b"fine_label_names": [f"thing{i}".encode() for i in range(100)]}, f)
    data = load_dataset("cifar100", root=str(tmp_path))
    assert data.num_classes == 100 and data.class_names[3] == "thing3"


class Exploit:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_a_cifar_file_cannot_run_code(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    with (folder / "data_batch_1").open("wb") as f:
        pickle.dump({b"data": Exploit()}, f)
    with pytest.raises(DataError, match=r"data_batch_1: not a CIFAR batch file \(refusing to load builtins.print\)"):
        load_dataset("cifar10", root=str(tmp_path))


def write_png(path, size, colour):
    from PIL import Image
    Image.new("RGB", size, colour).save(path)


def test_image_folder(tmp_path):
    for cls, colour in (("cats", (255, 0, 0)), ("dogs", (0, 0, 255))):
        (tmp_path / cls).mkdir()
        for i in range(5):
            write_png(tmp_path / cls / f"{i}.png", (12, 10), colour)
    data = load_dataset("image_folder", root=str(tmp_path), normalize=False)
    assert data.class_names == ["cats", "dogs"] and data.input_shape == (3, 10, 12)
    red = data.x_train[data.y_train == 0][0]
    assert red[0].min() == 1.0 and red[2].max() == 0.0
    grey = load_dataset("image_folder", root=str(tmp_path), grayscale=True, image_size=[6, 6])
    assert grey.input_shape == (1, 6, 6)


def test_image_folder_problems_name_the_file(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_png(tmp_path / "a" / "1.png", (8, 8), (0, 0, 0))
    with pytest.raises(DataError, match=r"class folder .*b holds no images"):
        load_dataset("image_folder", root=str(tmp_path))
    write_png(tmp_path / "b" / "2.png", (16, 8), (0, 0, 0))
    with pytest.raises(DataError, match=r"2.png is 16x8 but .*1.png is 8x8: set image_size"):
        load_dataset("image_folder", root=str(tmp_path))
    (tmp_path / "b" / "3.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"3.png: cannot be read as an image"):
        load_dataset("image_folder", root=str(tmp_path), image_size=[8, 8])
    with pytest.raises(DataError, match="has no class folders"):
        load_dataset("image_folder", root=str(tmp_path / "a"))


def test_csv_classification_and_regression(tmp_path):
    path = tmp_path / "flowers.csv"
    rows = ["petal,sepal,species"] + [f"{i % 7},{i % 5 + 0.5},{'rose' if i % 2 else 'tulip'}" for i in range(40)]
    path.write_text("\n".join(rows) + "\n")
    data = load_dataset("csv", path=str(path), target="species")
    assert data.task == "classification" and data.class_names == ["rose", "tulip"] and data.input_shape == (2,)
    assert data.extra["features"] == ["petal", "sepal"]
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("x,y\n" + "".join(f"{i},{i * 0.5}\n" for i in range(30)))
    reg = load_dataset("csv", path=str(numbers), target="y")
    assert reg.task == "regression" and reg.target_shape == (1,)


@pytest.mark.parametrize("content, options, message", [
    ("a,b\n1,2\n", {"target": "c"}, r"there is no column 'c'; the columns are a, b"),
    ("a,b\n1,2\nx,3\n", {"target": "b"}, r"line 3, column 'a': 'x' is not a number"),
    ("a,b\n1,2\n3\n", {"target": "b"}, r"line 3: has 1 fields, the header has 2"),
    ("a,b\n", {"target": "b"}, r"needs a header line and at least one row"),
    ("a,b\n1,x\n2,y\n", {"target": "b", "task": "regression"}, r"'x' is not a number, so it cannot be a regression target"),
])
def test_csv_problems(tmp_path, content, options, message):
    path = tmp_path / "table.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        load_dataset("csv", path=str(path), **options)
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("csv", path=str(tmp_path / "none.csv"), target="a")


def test_text_file_gives_next_character_targets(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text("abcabcabcabcabcabcabcabc" * 5)
    data = load_dataset("text", path=str(path), seq_len=6)
    assert data.input_dtype == "int64" and data.input_shape == (6,) and data.class_names == ["a", "b", "c"]
    assert data.x_train[0].tolist() == [0, 1, 2, 0, 1, 2] and data.y_train[0].tolist() == [1, 2, 0, 1, 2, 0]
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DataError, match="is not UTF-8 text"):
        load_dataset("text", path=str(path))


def test_synthetic_sets_are_reproducible_and_adjustable():
    a, b = load_dataset("spiral", seed=3), load_dataset("spiral", seed=3)
    assert torch.equal(a.x_train, b.x_train)
    assert load_dataset("gaussian", classes=4, n_samples=400).num_classes == 4
    assert load_dataset("sine").task == "regression"
    with pytest.raises(DataError, match=r"data set 'spiral' has no option 'nosie'; it takes n_samples, noise"):
        load_dataset("spiral", nosie=0.3)
    with pytest.raises(DataError, match=r"unknown data set 'imagenet'"):
        load_dataset("imagenet")
    with pytest.raises(DataError, match=r"option 'noise' must be a number"):
        load_dataset("moons", noise="high")


@pytest.mark.slow
def test_digits_split_is_stratified():
    data = load_dataset("digits")
    counts = torch.bincount(data.y_val, minlength=10)
    assert len(data.x_train) + len(data.x_val) == 1797 and counts.min() >= 34 and counts.max() <= 38


def test_validation_samples_are_dealt_class_by_class():
    """Predict and Outputs step through the first validation samples: each ten show every digit,
    and the split is the same at every load (training samples as before: runs repeat)."""
    data, again = load_dataset("digits"), load_dataset("digits")
    assert torch.equal(data.x_val, again.x_val) and torch.equal(data.x_train, again.x_train)
    for start in range(0, 340, 10):
        assert sorted(data.y_val[start:start + 10].tolist()) == list(range(10))
    assert data.y_val[:20].tolist() != sorted(data.y_val[:20].tolist())          # dealt in a random order
    assert sorted(load_dataset("spiral").y_val[:3].tolist()) == [0, 1, 2]


def test_curves_and_surfaces_for_the_notes_regressions():
    quadratic = load_dataset("curve")
    assert quadratic.task == "regression" and quadratic.kind == "points" and quadratic.input_shape == (1,)
    residual = quadratic.y_train[:, 0] - (0.5 * quadratic.x_train[:, 0] ** 2 - quadratic.x_train[:, 0] + 1)
    assert residual.std().item() == pytest.approx(0.1, rel=0.2)
    wave = load_dataset("curve", function="wave", n_samples=50, noise=0.0, low=-1.0, high=1.0)
    x = wave.x_train[:, 0]
    assert torch.allclose(wave.y_train[:, 0], 0.5 + 0.3 * x + torch.sin(3 * x), atol=1e-5)
    assert len(wave.x_train) + len(wave.x_val) == 50 and x.abs().max() <= 1
    bowl = load_dataset("surface", function="bowl", noise=0.0)
    assert bowl.input_shape == (2,) and torch.allclose(bowl.y_train[:, 0], bowl.x_train.square().sum(dim=1), atol=1e-4)
    with pytest.raises(DataError, match="curve: function 'cubic' is not one of quadratic, wave, sine"):
        load_dataset("curve", function="cubic")
    with pytest.raises(DataError, match=r"curve: low \(2.0\) must be below high \(1.0\)"):
        load_dataset("curve", low=2.0, high=1.0)
    with pytest.raises(DataError, match="surface: function 'ripple' is not one of bowl, saddle, waves"):
        load_dataset("surface", function="ripple")


def test_augmentation_crops_and_flips_each_sample_on_its_own():
    x = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).reshape(2, 1, 4, 4).repeat(50, 1, 1, 1)
    out = augment_batch(x, crop_padding=1, flip=True, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    distinct = {tuple(o.flatten().tolist()) for o in out[::2]}
    assert len(distinct) > 5          # different crops and flips across the batch
    flipped_only = augment_batch(x, crop_padding=0, flip=True, generator=torch.Generator().manual_seed(0))
    for o, original in zip(flipped_only, x):
        assert torch.equal(o, original) or torch.equal(o, original.flip(-1))
