"""Image datasets on files the tests write in the real formats (MNIST's gzipped IDX,
CIFAR's pickled batches, folders of PNG and JPEG files), never downloaded; and the
augmentation applied to training batches."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

import core.data.images
from core.catalog import CATALOGUES
from core.config import RunConfig
from core.errors import BadInput
from core.data.image_batches import ImageBatches
from core.train.loop import train

DATASETS = CATALOGUES["data"]


def build(name: str, seed: int = 0, **params):
    entry = DATASETS.get(name)
    return entry.build(entry.check_params(params, "data"), seed)


def pattern_images(labels: np.ndarray, size: int = 28, channels: int = 1) -> np.ndarray:
    """uint8 images (N, C, size, size) whose class shows as a bright block at its own place,
    with a little noise, so a model can learn them."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 40, (len(labels), channels, size, size), dtype=np.uint8)
    block = size // 5
    for i, label in enumerate(labels):
        row, col = divmod(int(label) % 16, 4)
        images[i, :, row * block:(row + 1) * block, col * block:(col + 1) * block] = 250
    return images


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(raw)
    else:
        path.with_suffix("").write_bytes(raw)  # torchvision keeps them unzipped too


def write_mnist(root: Path, folder: str = "MNIST", train: int = 120, test: int = 40,
                gz: bool = True) -> tuple[np.ndarray, np.ndarray]:
    raw = root / folder / "raw"
    train_labels = np.arange(train, dtype=np.uint8) % 10
    test_labels = np.arange(test, dtype=np.uint8) % 10
    train_images = pattern_images(train_labels)[:, 0]
    write_idx(raw / "train-images-idx3-ubyte.gz", train_images, gz)
    write_idx(raw / "train-labels-idx1-ubyte.gz", train_labels, gz)
    write_idx(raw / "t10k-images-idx3-ubyte.gz", pattern_images(test_labels)[:, 0], gz)
    write_idx(raw / "t10k-labels-idx1-ubyte.gz", test_labels, gz)
    return train_images, train_labels


def write_cifar(root: Path, hundred: bool = False, per_batch: int = 20) -> np.ndarray:
    """CIFAR's python version: pickled dicts with 'data' (N, 3072) uint8, rows of R, G, B
    planes, and the labels as a list; the meta file holds the class names."""
    folder = root / ("cifar-100-python" if hundred else "cifar-10-batches-py")
    folder.mkdir(parents=True)
    classes = 100 if hundred else 10
    names = [f"class{i}" for i in range(classes)]

    def batch(n: int, offset: int) -> tuple[dict, np.ndarray]:
        labels = (np.arange(n) + offset) % classes
        images = pattern_images(labels, 32, 3)
        content = {"batch_label": "testing batch", "data": images.reshape(n, 3072),
                   "filenames": [f"img{i}.png" for i in range(n)]}
        if hundred:
            content.update(fine_labels=labels.tolist(), coarse_labels=(labels // 5).tolist())
        else:
            content["labels"] = labels.tolist()
        return content, images

    def dump(name: str, content: dict) -> None:
        with open(folder / name, "wb") as f:
            pickle.dump(content, f, protocol=2)

    first = None
    if hundred:
        content, first = batch(per_batch * 5, 0)
        dump("train", content)
        dump("test", batch(per_batch, 3)[0])
        dump("meta", {"fine_label_names": names,
                      "coarse_label_names": [f"super{i}" for i in range(20)]})
    else:
        for i in range(1, 6):
            content, images = batch(per_batch, i)
            first = images if first is None else first
            dump(f"data_batch_{i}", content)
        dump("test_batch", batch(per_batch, 0)[0])
        dump("batches.meta", {"label_names": names, "num_vis": 3072})
    return first


# ---------------------------------------------------------------- MNIST and friends


def test_mnist_reads_gzipped_idx_files_from_the_data_folder(tmp_path):
    images, labels = write_mnist(tmp_path)
    data = build("mnist", data_dir=str(tmp_path), download=False)
    assert data.kind == "image" and data.task == "classification"
    assert data.train_x.dtype == torch.uint8 and data.train_x.shape == (120, 1, 28, 28)
    assert torch.equal(data.train_x[:, 0], torch.from_numpy(images))
    assert data.train_y.tolist() == labels.tolist()
    assert data.val_x.shape == (40, 1, 28, 28)  # the official test images validate
    assert data.class_names == [str(d) for d in range(10)]
    batch = data.prepare(data.train_x, False)
    assert batch.dtype == torch.float32
    assert abs(float(batch.mean())) < 1e-3 and abs(float(batch.std()) - 1) < 1e-2


@pytest.mark.parametrize("name, folder, first_class", [
    ("fashion_mnist", "FashionMNIST", "T-shirt/top"), ("kmnist", "KMNIST", "o")])
def test_fashion_and_kuzushiji_mnist_read_unzipped_files_too(tmp_path, name, folder,
                                                             first_class):
    write_mnist(tmp_path, folder, gz=False)
    data = build(name, data_dir=str(tmp_path), download=False)
    assert data.class_names[0] == first_class and len(data.class_names) == 10
    assert len(data.train_y) == 120


def test_the_default_data_folder_is_traindesk_home_data(tmp_path, private_traindesk_home):
    write_mnist(private_traindesk_home / "data")
    assert len(build("mnist", download=False).train_y) == 120


def test_missing_files_offline_say_which_to_fetch_and_where(tmp_path):
    folder = tmp_path / "KMNIST" / "raw"
    with pytest.raises(BadInput) as caught:
        build("kmnist", data_dir=str(tmp_path), download=False)
    message = str(caught.value)
    assert message.startswith("kmnist: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                              "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz not found "
                              f"in {folder}")
    assert f"download them from http://codh.rois.ac.jp/kmnist/dataset/kmnist/ into {folder}" \
        in message
    assert message.endswith("or set download = true to fetch them")


def test_a_failed_download_is_reported_with_the_manual_way(tmp_path, monkeypatch):
    attempts = []

    def offline(source, root):
        attempts.append((source.name, root))
        raise OSError("<urlopen error [Errno -3] Temporary failure in name resolution>")

    monkeypatch.setattr(core.data.images, "_download", offline)
    with pytest.raises(BadInput) as caught:
        build("cifar10", data_dir=str(tmp_path))  # download defaults to true
    message = str(caught.value)
    assert attempts == [("cifar10", tmp_path)]
    assert "downloading failed (OSError: <urlopen error [Errno -3] Temporary failure" in message
    assert (f"download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz and unpack it "
            f"in {tmp_path} (it makes cifar-10-batches-py/)") in message


def test_a_download_that_brings_the_files_is_used(tmp_path, monkeypatch):
    monkeypatch.setattr(core.data.images, "_download",
                        lambda source, root: write_mnist(root, "FashionMNIST"))
    assert len(build("fashion_mnist", data_dir=str(tmp_path)).train_y) == 120


def test_broken_idx_files_are_refused_with_the_file_named(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(BadInput, match=rf"{path} is cut short or padded"):
        build("mnist", data_dir=str(tmp_path), download=False)
    path.write_bytes(gzip.compress(b"<html>not found</html>"))
    with pytest.raises(BadInput, match=rf"{path} is not an IDX file"):
        build("mnist", data_dir=str(tmp_path), download=False)
    path.write_bytes(b"\x1f\x8b broken gzip")
    with pytest.raises(BadInput, match=rf"cannot read {path}"):
        build("mnist", data_dir=str(tmp_path), download=False)


def test_max_train_samples_takes_a_seeded_subset(tmp_path):
    write_mnist(tmp_path)
    data = build("mnist", data_dir=str(tmp_path), download=False, max_train_samples=50)
    again = build("mnist", data_dir=str(tmp_path), download=False, max_train_samples=50)
    assert len(data.train_y) == 50 and len(data.val_y) == 40
    assert torch.equal(data.train_x, again.train_x)
    assert any("random 50 of the training images" in note for note in data.notes)


def test_a_model_trains_on_mnist_files_with_augmentation(tmp_path):
    write_mnist(tmp_path / "data", train=400, test=100)
    config = RunConfig().with_overrides([
        "model.name=lenet5", "data.name=mnist",
        f"data.data_dir={tmp_path / 'data'}", "data.download=false", "data.random_crop=2",
        "data.rotation=10", "training.epochs=4", "training.batch_size=32",
        "training.device=cpu", "training.threads=1", "optimizer.lr=0.01"])
    summary = train(config, runs_dir=tmp_path / "runs")
    assert summary["final_val_accuracy"] >= 0.9


# ---------------------------------------------------------------- CIFAR


def test_cifar10_reads_the_pickled_batches(tmp_path):
    first = write_cifar(tmp_path)
    data = build("cifar10", data_dir=str(tmp_path), download=False)
    assert data.train_x.shape == (100, 3, 32, 32) and data.train_x.dtype == torch.uint8
    assert data.val_x.shape == (20, 3, 32, 32)
    # each row of 'data' is the red plane, then green, then blue, 32x32 each
    assert torch.equal(data.train_x[:20], torch.from_numpy(first))
    assert data.train_y[:3].tolist() == [1, 2, 3]
    assert data.class_names == [f"class{i}" for i in range(10)]


def test_cifar100_fine_and_coarse_labels(tmp_path):
    write_cifar(tmp_path, hundred=True)
    fine = build("cifar100", data_dir=str(tmp_path), download=False)
    assert fine.num_classes == 100 and fine.train_y[:7].tolist() == list(range(7))
    coarse = build("cifar100", data_dir=str(tmp_path), download=False, labels="coarse")
    assert coarse.class_names[:2] == ["super0", "super1"] and coarse.num_classes == 20
    assert coarse.train_y[:7].tolist() == [0, 0, 0, 0, 0, 1, 1]


def test_a_cifar_file_that_would_run_code_is_refused_unrun(tmp_path):
    write_cifar(tmp_path)
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "wb") as f:
        pickle.dump({"data": Payload(), "labels": []}, f)
    with pytest.raises(BadInput, match="refusing to load pathlib"):
        build("cifar10", data_dir=str(tmp_path), download=False)
    assert not marker.exists()


# ---------------------------------------------------------------- image folders


def save_image(path: Path, size: tuple[int, int], mode: str = "RGB", value: int = 128) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    color = value if mode in ("L", "P") else (value,) * len(mode)
    Image.new(mode, size, color).save(path)


def class_folders(root: Path, per_class: int = 6) -> None:
    """cats: bright PNGs of mixed sizes and modes; dogs: dark JPEGs and a BMP."""
    for i in range(per_class):
        save_image(root / "cats" / f"c{i}.png", (40 + i, 30), ("RGB", "L", "RGBA")[i % 3], 220)
        save_image(root / "dogs" / f"d{i}.jpg", (64, 48 + i), "RGB", 30)
    save_image(root / "dogs" / "extra.bmp", (20, 20), "RGB", 30)


def test_image_folder_reads_any_common_format_and_size(tmp_path):
    class_folders(tmp_path)
    data = build("image_folder", folder=str(tmp_path), image_size=16, val_split=0.3)
    assert data.class_names == ["cats", "dogs"]
    assert len(data.train_y) + len(data.val_y) == 13
    assert data.train_x.shape[1:] == (3, 16, 16) and data.train_x.dtype == torch.uint8
    cats = torch.cat([data.train_x[data.train_y == 0], data.val_x[data.val_y == 0]])
    dogs = torch.cat([data.train_x[data.train_y == 1], data.val_x[data.val_y == 1]])
    assert int(cats.min()) >= 200 and int(dogs.max()) <= 60
    assert data.notes == []
    grey = build("image_folder", folder=str(tmp_path), image_size=8, color="grey")
    assert grey.input_shape == (1, 8, 8)


def test_image_folder_skips_and_counts_unreadable_files_and_non_images(tmp_path):
    class_folders(tmp_path)
    (tmp_path / "cats" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (tmp_path / "dogs" / "truncated.jpg").write_bytes(
        (tmp_path / "dogs" / "d0.jpg").read_bytes()[:40])
    (tmp_path / "dogs" / "notes.txt").write_text("not an image")
    (tmp_path / "cats" / ".DS_Store").write_bytes(b"\0\0")
    data = build("image_folder", folder=str(tmp_path), image_size=16)
    assert len(data.train_y) + len(data.val_y) == 13
    assert data.notes == [
        f"2 unreadable image file(s) in {tmp_path} skipped (cats/broken.png, dogs/truncated.jpg)",
        f"1 file(s) in {tmp_path} that are not images ignored (dogs/notes.txt)"]


def test_image_folder_problems_are_clear(tmp_path):
    with pytest.raises(BadInput, match="folder is empty: choose the folder"):
        build("image_folder")
    with pytest.raises(BadInput, match="is not a folder"):
        build("image_folder", folder=str(tmp_path / "nowhere"))
    save_image(tmp_path / "flat" / "a.png", (8, 8))
    with pytest.raises(BadInput, match="has no subfolders; put the images of each class"):
        build("image_folder", folder=str(tmp_path / "flat"))
    class_folders(tmp_path / "one")
    import shutil

    shutil.rmtree(tmp_path / "one" / "dogs")
    with pytest.raises(BadInput, match=r"one class folder \(cats\); a classifier needs at least"):
        build("image_folder", folder=str(tmp_path / "one"))
    class_folders(tmp_path / "empty")
    (tmp_path / "empty" / "birds").mkdir()
    (tmp_path / "empty" / "birds" / "readme.txt").write_text("todo")
    with pytest.raises(BadInput, match=r"class folder .*birds holds no images"):
        build("image_folder", folder=str(tmp_path / "empty"))
    class_folders(tmp_path / "bad")
    (tmp_path / "bad" / "fish").mkdir()
    (tmp_path / "bad" / "fish" / "f.png").write_bytes(b"garbage")
    with pytest.raises(BadInput, match=r"class folder .*fish holds no readable images"):
        build("image_folder", folder=str(tmp_path / "bad"))


def test_image_folder_with_a_separate_validation_folder(tmp_path):
    class_folders(tmp_path / "train")
    save_image(tmp_path / "val" / "dogs" / "v.png", (30, 30), "RGB", 30)
    data = build("image_folder", folder=str(tmp_path / "train"),
                 val_folder=str(tmp_path / "val"), image_size=8)
    assert len(data.train_y) == 13 and data.val_y.tolist() == [1]  # dogs keep their index
    save_image(tmp_path / "val" / "horses" / "h.png", (30, 30))
    with pytest.raises(BadInput, match="has class folders that .* lacks: horses"):
        build("image_folder", folder=str(tmp_path / "train"), val_folder=str(tmp_path / "val"))


# ---------------------------------------------------------------- augmentation


def test_batches_without_augmentation_are_only_normalised():
    x = torch.randint(0, 256, (4, 3, 8, 8), dtype=torch.uint8)
    batches = ImageBatches([0.5, 0.4, 0.3], [0.2, 0.2, 0.1], random_crop=3, flip=True,
                           rotation=30)
    expected = (x.float() / 255 - torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1)) / torch.tensor(
        [0.2, 0.2, 0.1]).view(1, 3, 1, 1)
    assert torch.allclose(batches(x, train=False), expected)  # validation: never augmented


def test_flip_mirrors_about_half_the_images_exactly():
    torch.manual_seed(0)
    x = torch.arange(64 * 25, dtype=torch.float32).view(64, 1, 5, 5)
    out = ImageBatches([0.0], [1.0], scale=1.0, flip=True)(x, train=True)
    same = [(o == i).all().item() for o, i in zip(out, x)]
    mirrored = [(o == i.flip(-1)).all().item() for o, i in zip(out, x)]
    assert all(s or m for s, m in zip(same, mirrored))
    assert 20 < sum(mirrored) < 44


def test_random_crop_shifts_by_whole_pixels_and_fills_the_border():
    torch.manual_seed(1)
    x = torch.rand(32, 1, 10, 10) + 1  # values 1..2, so the fill (0) shows
    out = ImageBatches([0.0], [1.0], scale=1.0, random_crop=2)(x, train=True)
    for image, original in zip(out[:, 0], x[:, 0]):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if torch.equal(image[max(dy, 0):10 + min(dy, 0), max(dx, 0):10 + min(dx, 0)],
                                  original[max(-dy, 0):10 + min(-dy, 0),
                                           max(-dx, 0):10 + min(-dx, 0)])]
        assert matches, "each image is the original moved by whole pixels"
        dy, dx = matches[0]
        assert float(image.min()) == (0.0 if (dy, dx) != (0, 0) else float(original.min()))


def test_rotation_turns_images_and_repeats_with_the_seed():
    x = torch.zeros(8, 1, 21, 21)
    x[:, :, 10, :] = 1.0  # a horizontal bar
    batches = ImageBatches([0.0], [1.0], scale=1.0, rotation=90)
    torch.manual_seed(3)
    out = batches(x, train=True)
    torch.manual_seed(3)
    assert torch.equal(out, batches(x, train=True))
    assert not torch.allclose(out, x)
    assert out.shape == x.shape


def test_digits_take_augmentation_options_and_fill_with_blank_paper():
    plain = build("digits")
    assert plain.batch_transform is None
    augmented = build("digits", random_crop=4)
    torch.manual_seed(0)
    out = augmented.prepare(augmented.train_x[:64], True)
    blank = float(augmented.train_x.min())  # the normalised value of no ink
    assert not torch.equal(out, augmented.train_x[:64])
    assert float(out.min()) == pytest.approx(blank, abs=1e-5)
