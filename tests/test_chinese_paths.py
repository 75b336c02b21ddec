"""Chinese folder and file names work everywhere a user names one: an image folder whose
classes and files are named in Chinese, a runs folder under a Chinese path, the command
line's output, prediction on a Chinese-named file and an export to a Chinese path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from limits import HANG_S

REPO = Path(__file__).resolve().parents[1]
CLASSES = ("横线", "竖线")  # horizontal and vertical strokes


def _stroke(horizontal: bool, rng: np.random.Generator) -> Image.Image:
    pixels = np.zeros((16, 16), dtype=np.uint8)
    at = rng.integers(3, 13)
    if horizontal:
        pixels[at - 1:at + 1, 2:14] = 255
    else:
        pixels[2:14, at - 1:at + 1] = 255
    return Image.fromarray(pixels, mode="L")


def _image_folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for index, name in enumerate(CLASSES):
        folder = root / "图片" / name
        folder.mkdir(parents=True)
        for n in range(40):
            _stroke(index == 0, rng).save(folder / f"样本{n:02d}.png")
    return root / "图片"


def _traindesk(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRAINDESK_HOME": str(home), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=HANG_S)


def test_chinese_folders_and_files_train_predict_and_export(tmp_path):
    images = _image_folder(tmp_path)
    runs = tmp_path / "我的运行"
    run_file = tmp_path / "运行.toml"
    run_file.write_text(
        '[model]\nname = "mlp"\nhidden_sizes = [32]\n'
        f'[data]\nname = "image_folder"\nfolder = {json.dumps(str(images))}\n'
        "image_size = 16\nval_split = 0.25\n"
        "[training]\nepochs = 25\nbatch_size = 8\n[optimizer]\nname = \"adam\"\nlr = 0.01\n",
        encoding="utf-8")

    trained = _traindesk("train", str(run_file), "--runs-dir", str(runs), home=tmp_path)
    assert trained.returncode == 0, trained.stderr
    (run_dir,) = [p for p in runs.iterdir() if p.is_dir()]
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "completed"
    assert summary["best_val_accuracy"] >= 0.9  # the strokes are easy to tell apart

    sample = images / CLASSES[1] / "样本03.png"
    predicted = _traindesk("predict", str(run_dir), str(sample), "--json", home=tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    (answer,) = [json.loads(line) for line in predicted.stdout.splitlines() if line.strip()]
    assert answer["input"] == str(sample)
    assert answer["label"] == CLASSES[1]
    assert set(answer["probabilities"]) == set(CLASSES)

    out = tmp_path / "导出" / "模型.pt"
    out.parent.mkdir()
    exported = _traindesk("export", str(run_dir), "--format", "pt", "--out", str(out),
                          home=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert out.is_file()
    description = json.loads(out.with_name("模型.preprocessing.json").read_text(
        encoding="utf-8"))
    assert description["class_names"] == list(CLASSES)
