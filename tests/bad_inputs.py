"""Bad inputs a user can give, as run files: each case is what docs/reliability.md lists,
met on the command line (tests/test_reliability_cli.py) and in the window
(tests/test_reliability_gui.py). Files are made small, so every case is quick."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

MLP_RUN = """\
[model]
name = "mlp"
hidden_sizes = [8]

[training]
epochs = 1
batch_size = 4
device = "cpu"
"""


@dataclass
class Case:
    run_file: Path
    parts: list[str]  # what the one error line (or the window's message) must contain
    # "config": refused when the run file is read (File > Open in the window);
    # "start": refused when the run starts (Start in the window)
    stage: str = "start"
    notes: list[str] = field(default_factory=list)  # an accepted case: the notes it shows


class Opaque:
    """Pickled inside a weights file, it needs code to load."""

    def __init__(self):
        self.weights = [1.0]


def _image(path: Path, value: int = 128, size: tuple[int, int] = (12, 10)) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (value, value // 2, 255 - value)).save(path)


def _class_folders(root: Path) -> Path:
    for i in range(6):
        _image(root / "cats" / f"c{i}.png", 200 - i)
        _image(root / "dogs" / f"d{i}.jpg", 40 + i)
    return root


def _data(kind: str, **params) -> str:
    lines = [f'\n[data]\nname = "{kind}"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in params.items()]
    return "\n".join(lines) + "\n"


def _numbers(rows: int, row) -> str:
    return "".join(row(i) for i in range(rows))


def make_cases(tmp: Path) -> dict[str, Case]:
    """Build every case's files under `tmp`; the names are docs/reliability.md's rows."""
    import torch

    from core.models.networks import SimpleCNN

    def run(name: str, text: str) -> Path:
        path = tmp / f"{name.replace(' ', '_')}.toml"
        path.write_text(text, encoding="utf-8")
        return path

    def csv_file(name: str, text: str) -> Path:
        path = tmp / name
        path.write_text(text, encoding="utf-8")
        return path

    def init_from(path: Path) -> str:
        return f"\n[finetune]\ninit_from = {json.dumps(str(path))}\n"

    stray = csv_file("stray.csv", "age,y\n" + _numbers(30, lambda i: f"{i},{i % 2}\n")
                     .replace("\n12,0\n", "\ntwelve,0\n"))
    constant = csv_file("constant.csv", "same,y\n" + _numbers(20, lambda i: f"3,{i % 2}\n"))
    gaps = csv_file("gaps.csv", "a,b,y\n" + _numbers(
        20, lambda i: f"{'' if i % 2 else i},{i if i % 2 else ''},{i % 2}\n"))
    empty_csv = csv_file("empty.csv", "")
    (tmp / "a_folder.csv").mkdir()
    empty_class = _class_folders(tmp / "empty_class")
    (empty_class / "birds").mkdir()
    corrupt_class = _class_folders(tmp / "corrupt_class")
    (corrupt_class / "fish").mkdir()
    (corrupt_class / "fish" / "f.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (corrupt_class / "fish" / "g.jpg").write_bytes(b"")  # zero bytes
    messy = _class_folders(tmp / "messy")
    (messy / "cats" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (messy / "dogs" / "cut.jpg").write_bytes((messy / "dogs" / "d0.jpg").read_bytes()[:60])
    (messy / "dogs" / "notes.txt").write_text("not an image")
    zero = tmp / "zero.pt"
    zero.write_bytes(b"")
    opaque = tmp / "opaque.pt"
    torch.save({"model": Opaque()}, opaque)
    other = tmp / "simple_cnn_weights.pt"
    torch.save(SimpleCNN(1, 28, 28, 10).state_dict(), other)

    digits = MLP_RUN
    return {
        "mistyped key": Case(run("mistyped key", digits.replace("batch_size", "batchsize")),
                             ["[training] unknown key 'batchsize'", "batch_size"], "config"),
        "invalid toml": Case(run("invalid toml", digits.replace("[training]", "[training")),
                             ["invalid_toml.toml is not valid TOML", "line 5"], "config"),
        "unknown section": Case(run("unknown section", digits + "\n[trainer]\nepochs = 2\n"),
                                ["unknown section [trainer]", "training"], "config"),
        "out of range": Case(run("out of range", digits + "grad_clip = -1.0\n"),
                             ["[training] grad_clip = -1.0", "between 0 and"], "config"),
        "not a choice": Case(run("not a choice", digits + 'best_metric = "accuracy"\n'),
                             ["[training] best_metric = 'accuracy'", "val_loss, val_metric"],
                             "config"),
        "mixed precision on the cpu": Case(
            run("bf16", digits + 'precision = "bf16"\n'),
            ["precision = 'bf16' needs a CUDA GPU", "use precision = \"fp32\""]),
        "batch larger than the data": Case(
            run("batch", digits.replace("batch_size = 4", "batch_size = 5000")),
            ["[training] batch_size = 5000 is larger than the 1438 training samples"]),
        "missing csv": Case(run("missing csv", digits + _data("csv", path=str(tmp / "no.csv"))),
                            ["no.csv does not exist; check the path"]),
        "unreadable csv (a folder)": Case(
            run("folder csv", digits + _data("csv", path=str(tmp / "a_folder.csv"))),
            ["a_folder.csv", "folder"]),
        "zero-byte csv": Case(run("zero csv", digits + _data("csv", path=str(empty_csv))),
                              ["empty.csv is empty; a CSV file needs a header row"]),
        "non-numeric csv column": Case(
            run("stray", digits + _data("csv", path=str(stray))),
            ["stray.csv line 14, column 'age': 'twelve' is not a number"]),
        "constant csv columns": Case(
            run("constant", digits + _data("csv", path=str(constant))),
            ["no column besides 'y' varies"]),
        "csv with a missing cell in every row": Case(
            run("gaps", digits + _data("csv", path=str(gaps))),
            ["every row has an empty cell", 'missing = "fill"']),
        "missing image folder": Case(
            run("no folder", digits + _data("image_folder", folder=str(tmp / "nowhere"))),
            ["nowhere is not a folder"]),
        "empty class folder": Case(
            run("empty class", digits + _data("image_folder", folder=str(empty_class),
                                              image_size=8)),
            ["birds holds no images"]),
        "class of corrupt or zero-byte images": Case(
            run("corrupt class", digits + _data("image_folder", folder=str(corrupt_class),
                                                image_size=8)),
            ["fish holds no readable images"]),
        "corrupt, truncated and non-image files among good ones": Case(
            run("messy", digits + _data("image_folder", folder=str(messy), image_size=8)),
            [], notes=[f"2 unreadable image file(s) in {messy} skipped (cats/broken.png, "
                       "dogs/cut.jpg)",
                       f"1 file(s) in {messy} that are not images ignored (dogs/notes.txt)"]),
        "zero-byte start weights": Case(run("zero weights", digits + init_from(zero)),
                                        ["zero.pt", "empty (0 bytes)"]),
        "start weights that need unpickling code": Case(
            run("opaque", digits + init_from(opaque)),
            ["opaque.pt", "needs code to load (it holds a bad_inputs.Opaque object)"]),
        "start weights of another architecture": Case(
            run("other arch", digits + init_from(other)),
            ["do not fit", "missing layers.1.weight", "unexpected conv1.weight"]),
    }
