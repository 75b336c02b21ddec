"""Model catalogue. Each builder gets its checked parameters and, as `info`, the DataInfo of
the dataset: what the samples are (`kind`: images, a table, token ids with their
vocabulary), the input shape of one sample and `num_classes`, the number of outputs
(classes, or 1 for a regression or a two-class sigmoid). Builders append lines for the user
to `info.notes` (how the input was adapted, which weights were loaded).
`core.models.build.build_model` is how the rest of TrainDesk calls them."""

from __future__ import annotations

from functools import partial
from math import prod

from core.entries import Catalogue, Param
from core.data.memory import DataInfo
from core.errors import BadInput

MODELS = Catalogue("model")

DROPOUT = Param("dropout", "float", 0.0, "Share of activations zeroed while training "
                "(a cure for overfitting).", minimum=0.0, maximum=0.95)
SEQUENCE_MODELS = "rnn, lstm, gru or transformer"
# What a model reads (`reads` in its registration) and a dataset gives (`gives`): images,
# tables, texts as token ids, audio (a spectrogram, or a waveform for m5). The one rule of
# which model can take which data: core.models.build.input_problem, applied by
# build_model_for and by the window's model list.
SAMPLE_KINDS = {"image": "images", "table": "tables", "tokens": "texts", "audio": "audio",
                "instructions": "prompts and responses"}
IMAGE_LIKE = ("image", "audio")  # a spectrogram is a one-channel image
SEQUENCES = ("image", "tokens", "audio")  # read row by row, word by word, frame by frame


def describe_samples(info: DataInfo) -> str:
    """The samples in words, for messages: "images of 1x28x28", "a table of 4 columns"."""
    if info.kind == "tokens":
        return f"texts as {info.input_shape[0]} token ids"
    if info.kind == "instructions":  # not tokenized yet: only a language model's tokenizer can
        return SAMPLE_KINDS["instructions"]
    if info.kind == "table":
        return f"a table of {prod(info.input_shape)} columns"
    if info.kind == "audio":
        shape = info.input_shape
        return (f"spectrograms of {shape[1]} frames x {shape[2]} bands" if len(shape) == 3
                else f"waveforms of {shape[-1]} samples")
    return "images of " + "x".join(str(n) for n in info.input_shape)


def _require_image(name: str, info: DataInfo, minimum: int, instead: str) -> tuple[int, int, int]:
    shape = tuple(info.input_shape)
    if info.kind == "audio" and len(shape) != 3:
        raise BadInput(f"{name} reads spectrograms; this dataset gives {describe_samples(info)}"
                       "; pick m5, or set [data] features = \"log_mel\"")
    # a spectrogram is a one-channel image: frames down, bands across
    if info.kind not in ("image", "audio") or len(shape) != 3 or min(shape[1:]) < minimum:
        raise BadInput(f"{name} needs images (channels, height, width) of at least "
                       f"{minimum}x{minimum}; this dataset gives {describe_samples(info)}; "
                       f"pick {instead}")
    return shape


@MODELS.register(
    "simple_cnn",
    "The article's CNN: conv 32, conv 64 (3x3, ReLU, 2x2 max pool), fc 512, fc classes.",
    (DROPOUT,),
    reads=IMAGE_LIKE,
)
def simple_cnn(params: dict, info: DataInfo):
    from core.models.networks import SimpleCNN

    channels, height, width = _require_image(
        "simple_cnn", info, 4, "mlp for a table, " + SEQUENCE_MODELS + " for texts")
    return SimpleCNN(channels, height, width, info.num_classes, params["dropout"])


@MODELS.register(
    "mlp",
    "Fully connected network on the flattened input (images or tables).",
    (
        Param("hidden_sizes", "int_list", [256, 128], "Width of each hidden layer, in order.",
              minimum=1, maximum=65536, max_items=64),
        Param("activation", "choice", "relu", "Non-linearity after each hidden layer.",
              choices=("relu", "tanh", "sigmoid", "gelu")),
        DROPOUT,
    ),
    reads=("image", "table", "audio"),
)
def mlp(params: dict, info: DataInfo):
    from core.models.networks import MLP

    if info.kind == "tokens":
        raise BadInput(f"mlp reads numbers, not texts; this dataset gives "
                       f"{describe_samples(info)}; pick {SEQUENCE_MODELS}")
    return MLP(prod(info.input_shape), params["hidden_sizes"], params["activation"],
               params["dropout"], info.num_classes)


@MODELS.register(
    "lenet5",
    "LeCun's LeNet-5: conv 6 and conv 16 (5x5, 2x2 pooling), fc 120, fc 84, fc classes; "
    "small and quick, for digit-sized images.",
    (
        Param("activation", "choice", "relu", "relu trains faster; tanh is the original's.",
              choices=("relu", "tanh")),
        DROPOUT,
    ),
    reads=IMAGE_LIKE,
)
def lenet5(params: dict, info: DataInfo):
    from core.models.networks import LeNet5

    channels, height, width = _require_image("lenet5", info, 12, "small_cnn, mlp or "
                                             + SEQUENCE_MODELS)
    return LeNet5(channels, height, width, info.num_classes, params["activation"],
                  params["dropout"])


@MODELS.register(
    "small_cnn",
    "A plain CNN you size yourself: per entry of channels a 3x3 conv (+ batch norm), ReLU and "
    "2x2 pooling; then global average pooling and a linear head. Any image size.",
    (
        Param("channels", "int_list", [32, 64, 128], "Output channels of each block; the "
              "number of entries is the depth.", minimum=1, maximum=4096),
        DROPOUT,
        Param("batch_norm", "bool", True, "Batch normalisation after each convolution (faster, "
              "steadier training)."),
    ),
    reads=IMAGE_LIKE,
)
def small_cnn(params: dict, info: DataInfo):
    from core.models.networks import SmallCNN

    channels, height, width = _require_image("small_cnn", info, 1, "mlp for a table, "
                                             + SEQUENCE_MODELS + " for texts")
    if not params["channels"]:
        raise BadInput("[model] channels is empty: give at least one block, e.g. [32, 64]")
    spectrogram = info.kind == "audio"
    if spectrogram:
        info.notes.append("small_cnn: spectrograms are averaged over time only; the head reads "
                          "each band")
    return SmallCNN(channels, height, width, params["channels"], info.num_classes,
                    params["dropout"], params["batch_norm"], average_rows_only=spectrogram)


RECURRENT_PARAMS = (
    Param("hidden_size", "int", 128, "Units in each recurrent layer.", minimum=1,
          maximum=16384),
    Param("layers", "int", 1, "Stacked recurrent layers.", minimum=1, maximum=16),
    Param("bidirectional", "bool", True, "Read each sequence both ways (an image top-down "
          "and bottom-up), which usually learns faster."),
    Param("embedding_dim", "int", 64, "Texts only: size of each word's learned vector.",
          minimum=1, maximum=16384),
    DROPOUT,
)
RECURRENT_HELP = {
    "rnn": "A plain (Elman) recurrent network",
    "lstm": "An LSTM (long short-term memory) network",
    "gru": "A GRU (gated recurrent unit) network",
}


def recurrent(cell: str, params: dict, info: DataInfo):
    from core.models.networks import RecurrentClassifier

    _require_sequence(cell, info)
    return RecurrentClassifier(cell, info.kind, tuple(info.input_shape), info.vocab_size,
                               params["embedding_dim"], params["hidden_size"], params["layers"],
                               params["bidirectional"], params["dropout"], info.num_classes)


def _require_sequence(name: str, info: DataInfo) -> None:
    if info.kind == "tokens" and info.vocab_size < 2:
        raise BadInput(f"{name}: the dataset gives token ids but no vocabulary size")
    if info.kind not in ("image", "tokens", "audio") or (info.kind in ("image", "audio")
                                                         and len(info.input_shape) != 3):
        raise BadInput(f"{name} reads images row by row, spectrograms frame by frame or texts "
                       f"as token sequences; this dataset gives {describe_samples(info)}; "
                       f"pick {'m5' if info.kind == 'audio' else 'mlp'}")


for _cell, _help in RECURRENT_HELP.items():
    MODELS.register(
        _cell,
        f"{_help}: reads images row by row (one step per row), spectrograms frame by frame "
        "and texts word by word, then a linear head.",
        RECURRENT_PARAMS,
        reads=SEQUENCES,
    )(partial(recurrent, _cell))


@MODELS.register(
    "transformer",
    "A small transformer encoder: images cut into patches, texts as words; learned "
    "positions, mean pooling, a linear head.",
    (
        Param("width", "int", 64, "Size of each token's vector.", minimum=4, maximum=8192),
        Param("depth", "int", 2, "Encoder layers.", minimum=1, maximum=48),
        Param("heads", "int", 4, "Attention heads per layer (width must divide by it).",
              minimum=1, maximum=64),
        Param("patch_size", "int", 0, "Images only: patch side in pixels, each patch one "
              "token (0: a quarter of the image side, 16 patches; 7 on 28x28).", minimum=0,
              maximum=256, unit="px"),
        DROPOUT,
    ),
    reads=SEQUENCES,
)
def transformer(params: dict, info: DataInfo):
    from core.models.networks import TransformerClassifier

    _require_sequence("transformer", info)
    if params["width"] % params["heads"]:
        raise BadInput(f"[model] width = {params['width']} does not divide into heads = "
                       f"{params['heads']}; pick a width that is a multiple of heads")
    patch = params["patch_size"]
    if info.kind in ("image", "audio"):
        patch = patch or max(1, min(info.input_shape[1:]) // 4)
        if min(info.input_shape[1:]) < patch:
            raise BadInput(f"[model] patch_size = {patch} is larger than the "
                           f"{describe_samples(info)}; pick a smaller patch_size")
    return TransformerClassifier(info.kind, tuple(info.input_shape), info.vocab_size,
                                 params["width"], params["depth"], params["heads"], patch,
                                 params["dropout"], info.num_classes)


@MODELS.register(
    "m5",
    "M5 (Dai et al. 2017): a 1-D CNN on the raw waveform (set [data] features = "
    "\"waveform\"): a wide strided first convolution, then 3-sample convolutions with "
    "batch norm and 4x pooling, global average pooling, a linear head.",
    (
        Param("channels", "int", 64, "Channels of the first blocks (the last two have "
              "twice as many).", minimum=4, maximum=1024),
        Param("first_kernel", "int", 80, "Samples seen by the first convolution (80 is 10 "
              "ms at 8 kHz).", minimum=3, maximum=4096, unit="samples"),
        Param("first_stride", "int", 4, "Step of the first convolution, in samples.",
              minimum=1, maximum=256, unit="samples"),
        DROPOUT,
    ),
    reads=("audio",),
)
def m5(params: dict, info: DataInfo):
    from core.models.networks import M5

    shape = tuple(info.input_shape)
    if info.kind != "audio" or len(shape) != 2:
        raise BadInput(f"m5 reads raw waveforms (set [data] features = \"waveform\" on an "
                       f"audio dataset); this dataset gives {describe_samples(info)}; pick "
                       "small_cnn")
    needed = M5.shortest_input(params["first_kernel"], params["first_stride"])
    if shape[1] < needed:
        raise BadInput(f"m5 needs waveforms of at least {needed} samples with these settings; "
                       f"this dataset gives {shape[1]}; raise [data] duration or lower "
                       "first_kernel / first_stride")
    return M5(shape[0], params["channels"], params["first_kernel"], params["first_stride"],
              info.num_classes, params["dropout"])


# ---------------------------------------------------------------- torchvision's models

# name: (help, the classifier layer replaced to fit the dataset, smallest input side)
TORCHVISION_MODELS = {
    "resnet18": ("ResNet-18 (torchvision, 11.7 M parameters).", "fc", 32),
    "resnet34": ("ResNet-34 (torchvision, 21.8 M parameters).", "fc", 32),
    "resnet50": ("ResNet-50 (torchvision, 25.6 M parameters).", "fc", 32),
    "mobilenet_v3_small": ("MobileNetV3-Small (torchvision, 2.5 M parameters): fast, for "
                           "small machines.", "classifier.3", 32),
    "mobilenet_v3_large": ("MobileNetV3-Large (torchvision, 5.5 M parameters).",
                           "classifier.3", 32),
    "efficientnet_b0": ("EfficientNet-B0 (torchvision, 5.3 M parameters).", "classifier.1", 32),
    "convnext_tiny": ("ConvNeXt-Tiny (torchvision, 28.6 M parameters).", "classifier.2", 32),
    "vit_b_16": ("Vision Transformer B/16 (torchvision, 86 M parameters); images are resized "
                 "to 224x224.", "heads.head", 224),
}
TORCHVISION_PARAMS = (
    Param("weights", "choice", "none", "none: start from random weights; pretrained: "
          "torchvision's ImageNet weights (downloaded once into the torch hub cache), with "
          "their own normalisation and image size; file: the weights file below.",
          choices=("none", "pretrained", "file")),
    Param("weights_file", "path", "", "With weights = file: a torchvision state_dict (.pth) "
          "of this model, e.g. downloaded by hand."),
    Param("image_size", "int", 0, "Resize images to this square size (0: the size "
          "pretrained weights were trained at, 224; else as they are, or enlarged to the "
          "model's smallest size).", minimum=0, maximum=1024, unit="px"),
)


def torchvision_model(name: str, params: dict, info: DataInfo):
    import torchvision
    from torch import nn

    from core.models.networks import InputAdapter

    help_text, head, smallest = TORCHVISION_MODELS[name]
    channels, height, width = _require_image(name, info, 1, "mlp for a table, "
                                             + SEQUENCE_MODELS + " for texts")
    if channels not in (1, 3):
        raise BadInput(f"{name} reads grey or colour images; this dataset gives {channels} "
                       "channels; pick small_cnn")
    pretrained = weights_preprocessing(name, params)
    size = _torchvision_input_size(name, params, height, width, smallest,
                                   pretrained["size"] if pretrained else None)
    constructor = getattr(torchvision.models, name)
    options = {"image_size": size} if name == "vit_b_16" else {}
    notes = []
    if params["weights"] == "none":
        model = constructor(weights=None, num_classes=info.num_classes, **options)
    else:
        state, origin = (_pretrained_state(name) if params["weights"] == "pretrained"
                         else _weights_file_state(name, params["weights_file"]))
        if f"{head}.weight" not in state:
            raise BadInput(f"{origin} is not a {name} state_dict (it has no {head}.weight); "
                           f"pick a weights file saved from torchvision's {name}")
        file_classes = state[f"{head}.weight"].shape[0]
        model = constructor(weights=None, num_classes=file_classes, **options)
        _load_exactly(model, state, name, origin)
        notes.append(f"{name}: weights loaded from {origin}")
        if file_classes != info.num_classes:
            old = model.get_submodule(head)
            parent, _, attribute = head.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, attribute,
                    nn.Linear(old.in_features, info.num_classes))
            notes.append(f"{name}: new head {head} = Linear({old.in_features} -> "
                         f"{info.num_classes}) in place of the file's {file_classes} outputs, "
                         "trained from scratch")
    adapt = [f"{name}:"]
    if channels == 1:
        adapt.append("grey images repeated to 3 channels;")
    if size is not None and (size, size) != (height, width):
        adapt.append(f"{height}x{width} images resized to {size}x{size};")
    if len(adapt) > 1:
        notes.append(" ".join(adapt).rstrip(";"))
    if channels == 1 or size is not None:
        model.register_forward_pre_hook(InputAdapter(channels == 1, size))
    info.notes.extend(notes)
    return model


def weights_preprocessing(name: str, params: dict) -> dict | None:
    """How the pretrained weights that `params` choose for torchvision model `name` expect
    their images, from the weights' own metadata (`weights.transforms()`; nothing is
    downloaded): {"weights", "mean", "std" (per RGB channel, on the 0..1 scale), "size"
    (the square side they were trained at), "resize_size"}. None for other models and
    weights (a weights file's origin is unknown: its run keeps the dataset's statistics).

    torchvision resizes the shorter side to resize_size, then crops the centre's size; a
    TrainDesk run resizes the whole image to size, so nothing of it is cut away."""
    if name not in TORCHVISION_MODELS or params.get("weights") != "pretrained":
        return None
    import torchvision

    weights = torchvision.models.get_model_weights(name).DEFAULT
    transforms = weights.transforms()
    return {"weights": f"{type(weights).__name__}.{weights.name}",
            "mean": [float(v) for v in transforms.mean], "std": [float(v) for v in transforms.std],
            "size": int(transforms.crop_size[0]), "resize_size": int(transforms.resize_size[0])}


def without_start_weights(name: str, params: dict) -> dict:
    """`params` for rebuilding a trained model whose checkpoint replaces its start weights
    (evaluation, Predict, export): torchvision weights not fetched again, the images still
    sized as pretrained weights had them sized."""
    params = dict(params)
    if params.get("weights") in ("pretrained", "file"):
        pretrained = weights_preprocessing(name, params)
        if pretrained:
            params["image_size"] = params["image_size"] or pretrained["size"]
        params["weights"] = "none"  # nothing to download
    return params


def use_weights_preprocessing(data, preprocessing: dict | None) -> None:
    """Normalise `data`'s images as the pretrained weights were trained
    (`weights_preprocessing`), in place of the dataset's own statistics, and record it in
    data.preprocessing (preprocessing.json, the export's JSON, Predict). Grey images are
    normalised with each RGB channel's figures as they are repeated to 3 channels. Data
    whose pixels are not stored as 8-bit values (digits, stored standardised) keeps its
    normalisation, with a note."""
    if preprocessing is None or data.kind != "image":
        return
    transform = data.batch_transform
    if getattr(transform, "scale", None) != 255.0 or not hasattr(transform, "mean"):
        data.notes.append(f"these images are stored normalised, not as 8-bit pixels: they "
                          f"keep their own statistics rather than {preprocessing['weights']}'s")
        return
    # (N, 1, H, W) minus a (1, 3, 1, 1) mean broadcasts to the 3 channels the model reads
    transform.mean, transform.std = list(preprocessing["mean"]), list(preprocessing["std"])
    transform._stats = {}  # the per-device copies of the old figures
    data.preprocessing.update(mean=list(preprocessing["mean"]), std=list(preprocessing["std"]),
                              pretrained_weights=preprocessing)
    data.notes.append(f"images normalised as {preprocessing['weights']} was trained (mean "
                      f"{_rounded(preprocessing['mean'])}, std {_rounded(preprocessing['std'])}), "
                      "not with this dataset's own statistics")


def _rounded(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in values) + "]"


def _torchvision_input_size(name: str, params: dict, height: int, width: int,
                            smallest: int, pretrained_size: int | None = None) -> int | None:
    """The square side images are resized to, or None to keep them as they are: the
    setting, else the size pretrained weights were trained at, else the model's smallest."""
    size = params["image_size"] or pretrained_size or 0
    if name == "vit_b_16":
        size = size or 224
        if size != 224 and params["weights"] != "none":
            raise BadInput(f"vit_b_16's pretrained weights are for 224x224 images; set "
                           f"[model] image_size = 0 or 224 (now {size})")
        if size % 16:
            raise BadInput(f"[model] image_size = {size}: vit_b_16 cuts images into 16x16 "
                           "patches; pick a multiple of 16, e.g. 224")
        return size
    if size:
        if size < smallest:
            raise BadInput(f"[model] image_size = {size} is below {name}'s smallest input "
                           f"({smallest}); pick at least {smallest}, or 0")
        return size
    return smallest if min(height, width) < smallest else None


def _download_weights(url: str, path) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.hub.download_url_to_file(url, str(path), progress=False)


def _pretrained_state(name: str):
    """torchvision's default ImageNet weights for `name`, from the torch hub cache, downloaded
    there first when missing; BadInput saying which file to fetch and where when offline."""
    from pathlib import Path

    import torch
    import torchvision

    from core.finetune.weights import load_weights_file

    weights = torchvision.models.get_model_weights(name).DEFAULT
    path = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    if not path.is_file():
        try:
            _download_weights(weights.url, path)
        except Exception as exc:  # offline or a proxy: say how to do it by hand
            raise BadInput(f"{name}'s pretrained weights ({weights}) are not on this computer "
                           f"and downloading failed ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0][:120] if str(exc) else ''}); download "
                           f"{weights.url} and save it as {path}, or set [model] weights = "
                           "\"file\" with weights_file pointing at a copy") from None
    return load_weights_file(path), str(path)


def _weights_file_state(name: str, path_text: str):
    from pathlib import Path

    from core.finetune.weights import load_weights_file

    if not path_text:
        raise BadInput(f"[model] weights = \"file\" but weights_file is empty: choose a {name} "
                       "weights file (.pth), or set weights to none or pretrained")
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise BadInput(f"[model] weights_file {path} does not exist; check the path")
    return load_weights_file(path), str(path)


def _load_exactly(model, state: dict, name: str, origin: str) -> None:
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    mismatched = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
                  for k in own if k in state and state[k].shape != own[k].shape]
    problems = [f"{label} {', '.join(keys[:3])}" for label, keys in
                (("missing", missing), ("unexpected", unexpected),
                 ("shape differs:", mismatched)) if keys]
    if problems:
        raise BadInput(f"{origin} does not fit torchvision's {name} ({'; '.join(problems)}); "
                       f"pick weights saved from {name}")
    model.load_state_dict(state)


for _name, (_help, _head, _smallest) in TORCHVISION_MODELS.items():
    MODELS.register(_name, _help, TORCHVISION_PARAMS, reads=IMAGE_LIKE)(
        partial(torchvision_model, _name))
