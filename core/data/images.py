"""Image datasets: MNIST, Fashion-MNIST, KMNIST, CIFAR-10 and CIFAR-100 read from their
real on-disk formats in a data folder (torchvision's layout, so a folder torchvision filled
works here too), and `image_folder`, a folder with one subfolder of images per class.

Images are kept as uint8 tensors (a quarter of the memory of floats) and become
normalised floats batch by batch on the device (core/data/image_batches.py), where training
batches also get the augmentation chosen here.
"""

from __future__ import annotations

import gzip
import math
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path

from core.entries import Catalogue, Param
from core.data.memory import (AUGMENT, VAL_SPLIT, InMemoryData, data_dir, image_batches,
                           stratified_split)
from core.errors import BadInput
from core.files import printable

DATASETS = Catalogue("dataset")

DATA_DIR = Param("data_dir", "dir", "", "Folder holding the dataset's files (empty: the "
                 "TrainDesk data folder, TRAINDESK_HOME/data or the user data folder).")
DOWNLOAD = Param("download", "bool", True, "Download the files when they are missing "
                 "(needs internet; otherwise the error says which files to fetch and where).")
MAX_TRAIN = Param("max_train_samples", "int", 0, "Train on a random subset of this many "
                  "images (0: all), for a quick trial.", minimum=0, maximum=10_000_000)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm",
                  ".pgm"}


# ---------------------------------------------------------------- torchvision's datasets


@dataclass(frozen=True)
class Source:
    """Where a torchvision dataset's files live and come from."""

    name: str  # the catalogue name
    folder: str  # under the data folder, as torchvision lays it out
    files: tuple[str, ...]  # names that must be there (MNIST's may also be unzipped)
    url: str  # where the files (or their archive) are downloaded from
    torchvision_class: str


def _mnist_source(name: str, folder: str, url: str) -> Source:
    files = tuple(f"{prefix}-{part}-idx{dims}-ubyte.gz" for prefix in ("train", "t10k")
                  for part, dims in (("images", 3), ("labels", 1)))
    return Source(name, f"{folder}/raw", files, url, folder)


SOURCES = {
    "mnist": _mnist_source("mnist", "MNIST", "https://ossci-datasets.s3.amazonaws.com/mnist/"),
    "fashion_mnist": _mnist_source("fashion_mnist", "FashionMNIST",
                                   "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
    "kmnist": _mnist_source("kmnist", "KMNIST", "http://codh.rois.ac.jp/kmnist/dataset/kmnist/"),
    "cifar10": Source("cifar10", "cifar-10-batches-py",
                      (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta"),
                      "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", "CIFAR10"),
    "cifar100": Source("cifar100", "cifar-100-python", ("train", "test", "meta"),
                       "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz", "CIFAR100"),
}


def _present(folder: Path, name: str) -> Path | None:
    """The file, or for a .gz name its unzipped twin (torchvision keeps both)."""
    for candidate in (folder / name, folder / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def _download(source: Source, root: Path) -> None:
    """Fetch the files with torchvision's own downloader (checksums included)."""
    import torchvision

    getattr(torchvision.datasets, source.torchvision_class)(str(root), train=True, download=True)


def locate_files(source: Source, params: dict) -> dict[str, Path]:
    """The source's files in the data folder, downloading them first when allowed.

    BadInput when they are missing: which files, from where, into which folder.
    """
    root = data_dir(params)
    folder = root / source.folder
    found = {name: _present(folder, name) for name in source.files}
    reason = ""
    if None in found.values() and params["download"]:
        try:
            _download(source, root)
        except Exception as exc:  # offline, a proxy, a full disk: say so and how to do it by hand
            first_line = (str(exc).splitlines() or [""])[0][:120]
            reason = f"downloading failed ({type(exc).__name__}: {first_line}); "
        found = {name: _present(folder, name) for name in source.files}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        archive = source.url.endswith(".tar.gz")
        where = (f"download {source.url} and unpack it in {root} (it makes {source.folder}/)"
                 if archive else f"download them from {source.url} into {folder}")
        hint = "" if params["download"] else "; or set download = true to fetch them"
        raise BadInput(f"{source.name}: {', '.join(missing)} not found in {folder}; {reason}"
                       f"{where}{hint}")
    return found


def read_idx(path: Path):
    """An IDX file (MNIST's format: big-endian header, then the array), gzipped or not."""
    import numpy as np

    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise BadInput(f"cannot read {path} ({exc}); delete it and fetch it again") from None
    dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in dtypes:
        raise BadInput(f"{path} is not an IDX file (MNIST's format); delete it and fetch it again")
    ndim = raw[3]
    if not 1 <= ndim <= 4:  # MNIST's files have 1 (labels) or 3 (images)
        raise BadInput(f"{path} says it holds an array of {ndim} dimensions, which no MNIST "
                       "file does; the file is damaged; delete it and fetch it again")
    if len(raw) < 4 + 4 * ndim:
        raise BadInput(f"{path} is cut short in its header ({len(raw)} bytes); delete it and "
                       "fetch it again")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    dtype = np.dtype(dtypes[raw[2]])
    expected = math.prod(dims) * dtype.itemsize  # Python ints: a doctored header cannot overflow
    if len(raw) - 4 - 4 * ndim != expected:
        raise BadInput(f"{path} is cut short or padded ({len(raw)} bytes for an array of shape "
                       f"{dims}); delete it and fetch it again")
    # a copy: arrays over the file's bytes are read-only, which torch warns about
    return np.frombuffer(raw, dtype, offset=4 + 4 * ndim).reshape(dims).copy()


class _ArraysOnly(pickle.Unpickler):
    """CIFAR's batches are pickles of dicts of numpy arrays and lists; anything else a file
    asks to construct is refused, so a doctored file cannot run code."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"),
               ("numpy._core.multiarray", "_reconstruct"), ("numpy", "ndarray"),
               ("numpy", "dtype"), ("_codecs", "encode"),
               ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def read_cifar_batch(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            batch = _ArraysOnly(f, encoding="latin1").load()
    except Exception as exc:
        raise BadInput(f"cannot read {path} as a CIFAR batch ({type(exc).__name__}: {exc}); "
                       "delete it and fetch it again") from None
    if not isinstance(batch, dict):
        raise BadInput(f"{path} is not a CIFAR batch (no dict inside); fetch it again")
    return batch


def _cifar_images(batch: dict, path: Path, label_key: str, classes: int):
    import numpy as np

    try:
        data = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[label_key], dtype=np.int64)
    except (KeyError, ValueError, TypeError, OverflowError) as exc:
        raise BadInput(f"{path} does not hold CIFAR images and {label_key} ({exc}); fetch it "
                       "again") from None
    if len(data) != len(labels):
        raise BadInput(f"{path} holds {len(data)} images but {len(labels)} labels; fetch it again")
    _check_images_and_labels(data, labels, path, path, classes, (32, 32))
    return data, labels


def _check_images_and_labels(images, labels, images_path: Path, labels_path: Path,
                             classes: int, size: tuple[int, int]) -> None:
    """BadInput, saying what in the data is wrong, for a file that holds no images, images
    of another size, or labels outside the dataset's classes (a doctored label would
    otherwise make a model with one output per possible label)."""
    if len(images) == 0:
        raise BadInput(f"{images_path} holds no images; delete it and fetch it again")
    if tuple(images.shape[-2:]) != size:
        raise BadInput(f"{images_path} holds images of {images.shape[-2]}x{images.shape[-1]} "
                       f"pixels, where this dataset's are {size[0]}x{size[1]}; the file is "
                       "damaged or of another dataset; delete it and fetch it again")
    outside = labels[(labels < 0) | (labels >= classes)]
    if len(outside):
        raise BadInput(f"{labels_path} holds the label {int(outside[0])}, where this dataset's "
                       f"classes are 0 to {classes - 1}; the file is damaged; delete it and "
                       "fetch it again")


def _load_source(name: str, params: dict):
    """(train images, train labels, test images, test labels, class names) as numpy uint8
    (N, C, H, W) and int64 arrays."""
    import numpy as np

    source = SOURCES[name]
    files = locate_files(source, params)
    if name in ("cifar10", "cifar100"):
        label_key = "labels" if name == "cifar10" else f"{params.get('labels', 'fine')}_labels"
        train_files = [files[f] for f in source.files if f.startswith(("data_batch", "train"))]
        test_file = files["test_batch" if name == "cifar10" else "test"]
        classes = 10 if name == "cifar10" else 20 if label_key == "coarse_labels" else 100
        parts = [_cifar_images(read_cifar_batch(p), p, label_key, classes) for p in train_files]
        train_x = np.concatenate([p[0] for p in parts])
        train_y = np.concatenate([p[1] for p in parts])
        test_x, test_y = _cifar_images(read_cifar_batch(test_file), test_file, label_key,
                                       classes)
        meta_file = files["batches.meta" if name == "cifar10" else "meta"]
        names_key = "label_names" if name == "cifar10" else label_key.replace("labels",
                                                                              "label_names")
        class_names = [str(n) for n in read_cifar_batch(meta_file).get(names_key, [])]
        return train_x, train_y, test_x, test_y, class_names
    arrays = []
    for prefix in ("train", "t10k"):
        images_path = files[f"{prefix}-images-idx3-ubyte.gz"]
        labels_path = files[f"{prefix}-labels-idx1-ubyte.gz"]
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise BadInput(f"{images_path} and {labels_path} do not match (images of shape "
                           f"{images.shape}, labels of shape {labels.shape}); fetch them again")
        labels = labels.astype(np.int64)
        _check_images_and_labels(images, labels, images_path, labels_path,
                                 len(CLASS_NAMES[name]), (28, 28))
        arrays += [np.ascontiguousarray(images[:, None], dtype=np.uint8), labels.astype(np.int64)]
    return (*arrays, list(CLASS_NAMES[name]))


CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"],
    "kmnist": ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"],
}


def build_torchvision_set(name: str, params: dict, seed: int) -> InMemoryData:
    """A torchvision dataset as InMemoryData: training images (optionally a subset) and the
    official test images as validation, normalised with the training images' statistics."""
    import numpy as np
    import torch

    from core.data.image_batches import channel_stats

    train_x, train_y, test_x, test_y, class_names = _load_source(name, params)
    num_classes = int(max(train_y.max(), test_y.max())) + 1  # labels were checked in range
    if len(class_names) != num_classes:
        class_names = [str(i) for i in range(num_classes)]
    notes = []
    limit = params["max_train_samples"]
    if limit and limit < len(train_y):
        keep = np.sort(np.random.default_rng(seed).permutation(len(train_y))[:limit])
        train_x, train_y = train_x[keep], train_y[keep]
        notes.append(f"{name}: training on a random {limit:,} of the training images "
                     "(max_train_samples)")
    mean, std = channel_stats(train_x)
    return InMemoryData(torch.from_numpy(np.ascontiguousarray(train_x)),
                        torch.from_numpy(train_y), torch.from_numpy(test_x),
                        torch.from_numpy(test_y), class_names, kind="image",
                        batch_transform=image_batches(params, mean, std), notes=notes)


def _register_torchvision_set(name: str, help_text: str, extra_params=()) -> None:
    params = (DATA_DIR, DOWNLOAD, MAX_TRAIN, *extra_params, *AUGMENT)

    def build(params: dict, seed: int) -> InMemoryData:
        return build_torchvision_set(name, params, seed)

    DATASETS.register(name, help_text, params, task="classification", gives="image")(build)


_register_torchvision_set(
    "mnist", "MNIST: 70,000 handwritten digits, 28x28 grey (60,000 to train, the 10,000 test "
    "images to validate). Read from the data folder; downloaded when missing.")
_register_torchvision_set(
    "fashion_mnist", "Fashion-MNIST: 70,000 28x28 grey photos of 10 kinds of clothing "
    "(60,000 to train, 10,000 to validate).")
_register_torchvision_set(
    "kmnist", "Kuzushiji-MNIST: 70,000 28x28 grey handwritten Japanese characters, 10 classes "
    "(60,000 to train, 10,000 to validate).")
_register_torchvision_set(
    "cifar10", "CIFAR-10: 60,000 32x32 colour photos of 10 classes (50,000 to train, 10,000 "
    "to validate).")
_register_torchvision_set(
    "cifar100", "CIFAR-100: 60,000 32x32 colour photos of 100 classes (50,000 to train, "
    "10,000 to validate).",
    (Param("labels", "choice", "fine", "fine: the 100 classes; coarse: their 20 superclasses.",
           choices=("fine", "coarse")),))


# ---------------------------------------------------------------- a folder of class folders


@DATASETS.register(
    "image_folder",
    "Your own images: a folder with one subfolder per class (its name is the class), any "
    "common format and size, resized to image_size.",
    (
        Param("folder", "dir", "", "The folder holding one subfolder of images per class."),
        Param("val_folder", "dir", "", "A separate folder of validation images, laid out the "
              "same way (empty: hold out val_split of the images)."),
        VAL_SPLIT,
        Param("image_size", "int", 64, "Images are resized to this many pixels square.",
              minimum=4, maximum=1024, unit="px"),
        Param("color", "choice", "rgb", "rgb keeps colour; grey makes one channel.",
              choices=("rgb", "grey")),
        *AUGMENT,
        Param("storage", "choice", "auto", "auto: hold the decoded images in memory when "
              "they fit memory_budget_mb, else read them from disk batch by batch; memory or "
              "stream: always that way. Both give the same results.",
              choices=("auto", "memory", "stream")),
        Param("memory_budget_mb", "int", 0, "The most memory, in MB, the decoded images may "
              "take before the folder is read from disk batch by batch (storage = auto; 0: a "
              "quarter of this computer's memory).", minimum=0, maximum=10_000_000,
              zero_means="auto"),
        Param("workers", "int", 2, "Processes that decode images while the model trains, "
              "when the folder is read from disk (0: the training process decodes them "
              "itself, between steps).", minimum=0, maximum=64),
        Param("cache", "choice", "none", "disk: when the folder is read from disk batch by "
              "batch, keep each image decoded at image_size in a file in TrainDesk's cache "
              "folder, so later epochs and runs read it instead of decoding it again (the "
              "same results; the file takes image_size x image_size x 3 bytes an image). "
              "none: decode every epoch.", choices=("none", "disk")),
    ),
    task="classification", gives="image",
)
def image_folder(params: dict, seed: int) -> InMemoryData:
    if not params["folder"]:
        raise BadInput("[data] folder is empty: choose the folder that holds one subfolder of "
                       "images per class")
    root = Path(params["folder"]).expanduser()
    size, mode = params["image_size"], "RGB" if params["color"] == "rgb" else "L"
    classes = _class_folders(root, "[data] folder")
    listed = [_list_class_images(root, classes, classes)]
    if params["val_folder"]:
        val_root = Path(params["val_folder"]).expanduser()
        val_classes = _class_folders(val_root, "[data] val_folder")
        unknown = [c for c in val_classes if c not in classes]
        if unknown:
            raise BadInput(f"[data] val_folder {val_root} has class folders that {root} lacks: "
                           f"{', '.join(unknown)}; use the same class names in both")
        listed.append(_list_class_images(val_root, val_classes, classes))
    from core.data.streaming import storage_of

    images = sum(len(part.paths) for part in listed)
    storage, note = storage_of(params, images, 1 if mode == "L" else 3, size)
    if storage == "stream":
        return _streamed_folder(listed, classes, params, seed,
                                [note, *(part.ignored_note() for part in listed)])
    return _folder_in_memory(listed, classes, params, seed)


# Training images whose channel statistics normalise an image folder, evenly spaced: the
# same ones whether the folder is held in memory or streamed (which decodes them first).
STATS_IMAGES = 2000


def _folder_in_memory(listed: list[Listed], classes: list[str], params: dict,
                      seed: int) -> InMemoryData:
    """Every image decoded and resized once, held as uint8 tensors."""
    import numpy as np
    import torch

    from core.data.image_batches import channel_stats

    size, mode = params["image_size"], "RGB" if params["color"] == "rgb" else "L"
    notes: list[str] = []
    decoded = [_decode_class_images(part, classes, size, mode, notes) for part in listed]
    if len(decoded) == 2:
        (train_images, train_labels), (val_images, val_labels) = decoded
    else:
        images, labels = decoded[0]
        train_idx, val_idx = stratified_split(labels, params["val_split"], seed, classes)
        train_images, train_labels = images[train_idx], labels[train_idx]
        val_images, val_labels = images[val_idx], labels[val_idx]
    mean, std = channel_stats(train_images, STATS_IMAGES)
    return InMemoryData(torch.from_numpy(np.ascontiguousarray(train_images)),
                        torch.from_numpy(train_labels),
                        torch.from_numpy(np.ascontiguousarray(val_images)),
                        torch.from_numpy(val_labels), classes, kind="image",
                        batch_transform=image_batches(params, mean, std), notes=notes)


def _streamed_folder(listed: list[Listed], classes: list[str], params: dict, seed: int,
                     notes: list[str]) -> InMemoryData:
    """The files listed, split as the in-memory path splits them and read batch by batch
    when used (core.data.streaming); only the images of the channel statistics are decoded
    now. Unreadable files are found, skipped and reported as the run meets them."""
    import numpy as np
    import torch

    from core.data.image_batches import ChannelSums
    from core.data.streaming import folder_splits, read_images

    size, mode = params["image_size"], "RGB" if params["color"] == "rgb" else "L"
    root = listed[0].root
    paths = np.asarray(listed[0].paths, dtype=object)
    labels = np.asarray(listed[0].labels, dtype=np.int64)
    if len(listed) == 2:
        train_paths, train_labels = paths, labels
        val_root, val_paths = listed[1].root, list(listed[1].paths)
        val_labels = np.asarray(listed[1].labels, dtype=np.int64)
    else:
        train_idx, val_idx = stratified_split(labels, params["val_split"], seed, classes)
        train_paths, train_labels = paths[train_idx], labels[train_idx]
        val_root, val_paths, val_labels = root, list(paths[val_idx]), labels[val_idx]
    all_paths, cache = [*train_paths, *val_paths], None
    if params["cache"] == "disk":
        from core.data.image_cache import prepare

        cache, no_cache_note = prepare(all_paths, size, mode, (root, val_root))
        notes = [*notes, no_cache_note]
    cached = cache.open() if cache is not None else None
    step = max(1, len(train_paths) // STATS_IMAGES)  # the images channel_stats takes
    sample, sums = list(range(0, len(train_paths), step)), ChannelSums()
    for start in range(0, len(sample), ChannelSums.CHUNK):  # decoded a chunk at a time
        decoded = read_images(all_paths, sample[start:start + ChannelSums.CHUNK], size, mode,
                              cached)
        readable = [image for image in decoded if image is not None]
        if readable:
            sums.add(np.stack(readable))
    if not sums.count:
        raise BadInput(f"none of the {len(sample)} images of {root} read to measure their "
                       "colours could be opened; check the folder's images")
    mean, std = sums.stats()
    if cache is not None:
        notes = [*notes, cache.note()]  # how full, the statistics' images included
    train_files, val_files = folder_splits(list(train_paths), val_paths, size, mode,
                                           params["workers"], (root, val_root), cache)
    notes = [note for note in notes if note]
    return InMemoryData(train_files, torch.from_numpy(train_labels),
                        val_files, torch.from_numpy(val_labels), classes, kind="image",
                        batch_transform=image_batches(params, mean, std), notes=notes)


def _class_folders(root: Path, setting: str) -> list[str]:
    if not root.is_dir():
        raise BadInput(f"{setting} {root} is not a folder; choose the folder that holds one "
                       "subfolder of images per class")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise BadInput(f"{setting} {root} has no subfolders; put the images of each class in "
                       "a subfolder named after the class")
    if len(classes) < 2 and setting == "[data] folder":
        raise BadInput(f"{setting} {root} has one class folder ({classes[0]}); a classifier "
                       "needs at least two")
    return classes


@dataclass
class Listed:
    """The image files found under root/<class>/ (not decoded yet), their labels, and the
    files beside them that are not images."""

    root: Path
    paths: list[Path]
    labels: list[int]
    ignored: list[Path]

    def ignored_note(self) -> str:
        """The note for the files that are not images ("" for none)."""
        if not self.ignored:
            return ""
        names = ", ".join(printable(p.relative_to(self.root)) for p in self.ignored[:3])
        return (f"{len(self.ignored)} file(s) in {printable(self.root)} that are not images "
                f"ignored ({names}{', ...' if len(self.ignored) > 3 else ''})")


def _list_class_images(root: Path, folders: list[str], classes: list[str]) -> Listed:
    """The image files under root/<class>/ for each of `folders`; BadInput for a class
    folder with no image files."""
    paths, labels, ignored = [], [], []
    for folder in folders:
        files = sorted(p for p in (root / folder).rglob("*")
                       if p.is_file() and not p.name.startswith("."))
        ignored += [p for p in files if p.suffix.lower() not in IMAGE_SUFFIXES]
        found = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
        if not found:
            raise BadInput(f"class folder {root / folder} holds no images (png, jpg, bmp, gif, "
                           "tif, webp); add images or remove the folder")
        paths += found
        labels += [classes.index(folder)] * len(found)
    return Listed(root, paths, labels, ignored)


def _decode_class_images(listed: Listed, classes: list[str], size: int, mode: str,
                         notes: list[str]):
    """The listed images decoded and resized (uint8 (N, C, size, size)) with their labels,
    skipping and noting files that cannot be read (and noting those that are not images);
    BadInput for a class folder left with no images."""
    import numpy as np

    from core.data.streaming import decode_images, unreadable_note

    root, paths = listed.root, listed.paths
    decoded = decode_images(paths, size, mode)
    unreadable = [p for p, image in zip(paths, decoded) if image is None]
    keep = [i for i, image in enumerate(decoded) if image is not None]
    labels = np.asarray(listed.labels, dtype=np.int64)
    for label in np.unique(labels):
        if not np.any(labels[keep] == label):
            raise BadInput(f"class folder {root / classes[label]} holds no readable images (all "
                           f"{int(np.sum(labels == label))} failed to open); "
                           "replace them or remove the folder")
    if unreadable:
        notes.append(unreadable_note(root, unreadable))
    if listed.ignored:
        notes.append(listed.ignored_note())
    images = np.stack([decoded[i] for i in keep])
    return images, labels[keep]
