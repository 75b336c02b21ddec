"""Predicting on new inputs with a loaded run (core.inference.evaluation.load_run): an image
file, a recording, a table row or a text, prepared exactly as the training data was, from
the run's preprocessing description (`LoadedRun.preprocessing`; a recording through the
run's own audio batch transform).

No Qt; torch, numpy and PIL are imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import BadInput
from core.inference.evaluation import LoadedRun


@dataclass
class Prediction:
    """Top classes with their probabilities (classification) or the predicted value
    (regression), and notes on how the input was prepared."""

    task: str
    top: list[tuple[str, float]] = field(default_factory=list)
    value: float | None = None
    notes: list[str] = field(default_factory=list)
    spectrogram: Any = None  # a recording: what the model heard, uint8 (bands, frames), to show
    model_input: Any = None  # an image: what the network got, uint8 (H, W) or (H, W, 3)
    drawing: bool | None = None  # an image: cleaned up as a drawing (None: the run has no such step)


def predict_image(loaded: LoadedRun, path: Path, k: int = 5,
                  drawing: bool | None = None) -> Prediction:
    """Predict on an image file, prepared like the run's training images; `drawing`: clean
    it up as a hand drawing first (see prepare_image; None decides from the picture)."""
    from PIL import Image

    if loaded.preprocessing.get("kind") != "image":
        raise BadInput(f"this run learned from {loaded.preprocessing.get('kind')} data, not "
                       "images; paste a row of values instead")
    try:
        with Image.open(path) as image:
            image.load()
            x, notes, drawn = prepare_image(image, loaded.preprocessing, drawing)
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read {Path(path).name} as an image ({exc})") from None
    prediction = _predict(loaded, x, k, notes)
    prediction.model_input = _as_picture(x[0], loaded.preprocessing)
    prediction.drawing = drawn
    return prediction


def predict_file(loaded: LoadedRun, path: Path, k: int = 5,
                 drawing: bool | None = None) -> Prediction:
    """Predict on a file of the run's kind of input: an image (`drawing` as in
    predict_image) or a recording."""
    if loaded.preprocessing.get("kind") == "audio":
        return predict_audio(loaded, path, k)
    return predict_image(loaded, path, k, drawing)


def takes_drawings(preprocessing: dict) -> bool:
    """Whether the run's images may be cleaned up as hand drawings (the digits: a drawing
    is cut to its ink and redrawn with thick strokes, as the scanned digits were written)."""
    return bool(preprocessing.get("crop_to_ink"))


def predict_audio(loaded: LoadedRun, path: Path, k: int = 5) -> Prediction:
    """Predict on a recording (WAV; FLAC/OGG with soundfile), prepared like the run's
    training recordings: mono, resampled, cut or padded, then the run's features."""
    import torch

    from core.data.audio import AudioUnreadable, load_waveform
    from core.data.preview import spectrogram_picture

    pre = loaded.preprocessing
    if pre.get("kind") != "audio":
        raise BadInput(f"this run learned from {pre.get('kind')} data, not recordings")
    settings = pre["audio"]
    try:
        samples, seconds = load_waveform(Path(path), settings)
    except AudioUnreadable as exc:
        raise BadInput(f"cannot read {Path(path).name} as a recording ({exc})") from None
    notes = []
    if seconds > settings["duration"] + 1e-6:
        notes.append(f"the recording lasts {seconds:.2f} s; the model heard its first "
                     f"{settings['duration']:g} s, as in training")
    x = loaded.data.prepare(torch.from_numpy(samples)[None], False)
    prediction = _predict(loaded, x, k, notes)
    prediction.spectrogram = spectrogram_picture(x[0]) if x.dim() == 4 else None
    return prediction


def predict_values(loaded: LoadedRun, text: str, k: int = 5) -> Prediction:
    """Predict on one table row typed as comma-separated values in the columns' order (see
    `input_columns`), or for a text model on the text itself."""
    pre = loaded.preprocessing
    if pre.get("kind") in ("tokens", "hf_tokens"):
        x, notes = prepare_text(text, pre)
    elif pre.get("kind") == "table":
        x, notes = prepare_row(text, pre)
    else:
        what = "a recording" if pre.get("kind") == "audio" else "an image file"
        raise BadInput(f"this run learned from {pre.get('kind')}s; drop or open {what} "
                       "instead")
    return _predict(loaded, x, k, notes)


def input_columns(preprocessing: dict) -> list[str]:
    """The columns a pasted table row must give, in order."""
    return [c["name"] for c in preprocessing.get("columns", [])]


def _predict(loaded: LoadedRun, x, k: int, notes: list[str]) -> Prediction:
    from core.inference.outputs import batched_outputs, class_probabilities

    if loaded.task == "language_modeling":  # its outputs are next-token scores, not classes
        raise BadInput("this run is a language model: it answers prompts with a generated "
                       "response (core.inference.generation), not classes")

    outputs = batched_outputs(loaded.model, x).cpu()
    if loaded.task == "regression":
        pre = loaded.preprocessing
        value = outputs[0, 0].item() * pre["target_std"] + pre["target_mean"]
        return Prediction("regression", value=value, notes=notes)
    probabilities = class_probabilities(outputs)[0]
    order = probabilities.argsort(descending=True)[:k].tolist()
    return Prediction("classification", [(loaded.class_names[i], probabilities[i].item())
                                         for i in order], notes=notes)


def prepare_image(image, pre: dict, drawing: bool | None = None):
    """A PIL image as a model input batch of one (1, C, H, W), exactly as the training
    images were made, following `pre`: colour mode; for a grey image whose background is
    the opposite of the training images' (dark ink on white paper, where the training
    digits are light on dark) inverted; shrunk by area averaging to `source_size` when the
    training images were enlarged from such small scans (the digits' 8x8), else resized;
    enlarged to `size` bilinearly as the dataset did; scaled to 0..1 and normalised with
    the training mean and std.

    `drawing` (runs whose images take it, see takes_drawings): first cut the picture to
    its ink and redraw it as a `scan_size` bitmap with thick strokes, which a thin-pen
    drawing on a big canvas needs to look like a scan. None applies it only to a picture
    that does not already look like a scan (looks_like_scan). Returns (tensor, notes,
    drawing applied: True/False, or None when the run has no such step)."""
    import numpy as np
    import torch
    from PIL import Image
    from torch.nn import functional as F

    notes = []
    channels = int(pre.get("channels", 1))
    pixels = np.asarray(image.convert("L" if channels == 1 else "RGB"),
                        dtype=np.float32) / 255.0  # (H, W) or (H, W, 3), 0..1
    height, width = pre["size"]
    first = pre.get("source_size") or [height, width]
    background = pre.get("background")
    drawn = None
    if channels == 1 and background is not None:
        border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
        if (border.mean() > 0.5) != (background > 0.5):
            pixels = 1.0 - pixels
            notes.append("the image was inverted to match the training images ("
                         + ("light on dark" if background <= 0.5 else "dark on light") + ")")
        if takes_drawings(pre):
            dark_ground = background <= 0.5
            drawn = (not looks_like_scan(pixels, first, dark_ground) if drawing is None
                     else drawing)
            if drawn:
                pixels = _crop_to_ink(pixels, dark_ground)
                if pre.get("scan_size"):
                    pixels = _as_scan(pixels, pre["scan_size"], dark_ground)
                notes.append("the image was cleaned up as a drawing (cut to its ink, strokes "
                             "thickened)")
    picture = Image.fromarray(np.round(pixels * 255).clip(0, 255).astype(np.uint8))
    shrinking = picture.width >= first[1] and picture.height >= first[0]
    picture = picture.resize((first[1], first[0]), Image.Resampling.BOX if shrinking
                             else Image.Resampling.BILINEAR)
    array = np.asarray(picture, dtype=np.float32) / 255.0
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    x = torch.from_numpy(np.ascontiguousarray(array)).unsqueeze(0)
    if list(first) != [height, width]:
        x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False)
    mean = torch.tensor(pre["mean"], dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(pre["std"], dtype=torch.float32).view(1, -1, 1, 1)
    return (x - mean) / std, notes, drawn


def looks_like_scan(pixels, source_size, dark_ground: bool) -> bool:
    """Whether a grey picture (H, W, 0..1) already looks like the training scans: no bigger
    than them, or its strokes fill the frame and stay strong when averaged down to the
    scans' size (a scan, enlarged or not). A thin-pen drawing on a big canvas fades to
    faint grey when averaged, and a small drawing leaves most of the frame empty."""
    import numpy as np
    from PIL import Image

    if pixels.shape[0] <= source_size[0] and pixels.shape[1] <= source_size[1]:
        return True
    ink = pixels if dark_ground else 1.0 - pixels
    strokes = ink > 0.3
    rows, cols = np.flatnonzero(strokes.any(1)), np.flatnonzero(strokes.any(0))
    if not len(rows):
        return True  # nothing to cut to
    extent = max((rows[-1] - rows[0] + 1) / ink.shape[0], (cols[-1] - cols[0] + 1) / ink.shape[1])
    small = Image.fromarray(np.round(ink * 255).astype(np.uint8)).resize(
        (source_size[1], source_size[0]), Image.Resampling.BOX)
    return extent >= 0.6 and np.asarray(small).max() >= 128


def _as_picture(x, pre: dict):
    """A normalised model input (C, H, W) back on the 0..255 pixel scale, to show."""
    import torch

    from core.data.preview import display_image

    mean = torch.tensor(pre["mean"], dtype=torch.float32).view(-1, 1, 1)
    std = torch.tensor(pre["std"], dtype=torch.float32).view(-1, 1, 1)
    pixels = (x.detach().cpu().float() * std + mean).clamp(0.0, 1.0)
    return display_image((pixels * 255).round().to(torch.uint8))


def _as_scan(pixels, size: int, dark_ground: bool):
    """A grey image (0..1) redrawn as the digits' scanner saw it: a `size` x `size` bitmap
    of ink or paper, strokes at least three bitmap pixels wide (a thin pen or mouse stroke
    would otherwise fade out when the 8x8 blocks are counted, where the scanned digits,
    written with pens, are thick)."""
    import numpy as np
    from PIL import Image, ImageFilter

    ink = pixels if dark_ground else 1.0 - pixels
    small = Image.fromarray(np.round(ink * 255).astype(np.uint8)).resize(
        (size, size), Image.Resampling.BOX)
    bitmap = Image.fromarray(np.where(np.asarray(small) > 64, 255, 0).astype(np.uint8))
    thick = np.asarray(bitmap.filter(ImageFilter.MaxFilter(3)), dtype=np.float32) / 255.0
    return thick if dark_ground else 1.0 - thick


def _crop_to_ink(pixels, dark_ground: bool):
    """A grey image (H, W, 0..1) cut to the box around its strokes and padded to a square
    with the ground's value, so a small digit in a big picture fills the frame as the
    training scans do. An image without strokes is returned as it is."""
    import numpy as np

    ink = pixels > 0.3 if dark_ground else pixels < 0.7
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    if not len(rows):
        return pixels
    cropped = pixels[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    side = max(cropped.shape)
    square = np.full((side, side), 0.0 if dark_ground else 1.0, dtype=pixels.dtype)
    top, left = (side - cropped.shape[0]) // 2, (side - cropped.shape[1]) // 2
    square[top:top + cropped.shape[0], left:left + cropped.shape[1]] = cropped
    return square


def prepare_row(text: str, pre: dict):
    """One comma-separated table row (in `input_columns` order) as a model input (1, F):
    numbers standardised and categories one-hot as in training; an empty cell takes the
    training mean or most common value (noted). Returns (tensor, notes)."""
    import csv
    import io

    import torch

    columns = pre.get("columns", [])
    try:
        cells = next(csv.reader(io.StringIO(text.strip())), [])
    except csv.Error as exc:
        raise BadInput(f"cannot read the row ({exc})") from None
    cells = [c.strip() for c in cells]
    if len(cells) != len(columns):
        raise BadInput(f"the row has {len(cells)} values but this model reads {len(columns)}: "
                       f"{', '.join(input_columns(pre))}")
    features, notes = [], []
    for column, cell in zip(columns, cells):
        if column["kind"] == "number":
            if cell == "":
                value = column["mean"]
                notes.append(f"{column['name']} was empty; the training mean {value:.4g} was used")
            else:
                try:
                    value = float(cell)
                except ValueError:
                    raise BadInput(f"{column['name']}: {cell!r} is not a number") from None
            features.append((value - column["mean"]) / column["std"])
        else:
            categories = column["categories"]
            if cell == "":
                cell = column["fill"]
                notes.append(f"{column['name']} was empty; the most common value {cell!r} "
                             "was used")
            if cell not in categories:
                raise BadInput(f"{column['name']}: {cell!r} was not seen in training; use one "
                               f"of {', '.join(categories[:10])}")
            features += [1.0 if cell == k else 0.0 for k in categories]
    return torch.tensor([features], dtype=torch.float32), notes


def prepare_text(text: str, pre: dict):
    """A text as token ids (1, L) with the run's vocabulary, or for a pretrained language
    model with its own tokenizer. Returns (tensor, notes)."""
    import torch

    from core.data.text import encode, tokenize

    if "hf_source" in pre:
        return _prepare_text_for_model(text, pre)

    # Runs from before the tokenizer setting tokenized by words.
    tokens = tokenize(text, pre.get("lowercase", True), pre.get("tokenizer", "words"))
    if not tokens:
        raise BadInput("the text is empty; type or paste a text")
    vocabulary = pre.get("vocabulary", {})
    ids = encode(tokens, vocabulary, pre["max_length"])
    unknown = sum(1 for t in tokens[:pre["max_length"]] if t not in vocabulary)
    notes = [f"{unknown} of {min(len(tokens), pre['max_length'])} tokens are not in the "
             "vocabulary"] if unknown else []
    return torch.tensor([ids], dtype=torch.int64), notes


def _prepare_text_for_model(text: str, pre: dict):
    """A text as a pretrained model's token ids (1, L), cut at the run's max_length as its
    training texts were."""
    import torch

    from core.models.hf import load_tokenizer, model_folder

    if not text.strip():
        raise BadInput("the text is empty; type or paste a text")
    tokenizer = load_tokenizer(model_folder(pre["hf_source"]))
    length = pre["max_length"]
    full = tokenizer(text, truncation=False)["input_ids"]
    notes = [f"the text has {len(full)} tokens; the model read the first {length}, as in "
             "training"] if len(full) > length else []
    ids = tokenizer(text, truncation=True, max_length=length)["input_ids"]
    return torch.tensor([ids], dtype=torch.int64), notes
