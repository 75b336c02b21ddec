"""Progress a user reads: tokens per second beside samples per second for models that read
texts (counted without padding), in the events, the window's line and summary.json."""

from __future__ import annotations

import json
import math

import torch

from core.config import RunConfig
from core.events import BatchEnd
from core.train.loop import train
from tests.run_control import mlp_config, run_dirs


def _texts_csv(path, n: int = 40):
    # every text five words long, so an epoch's tokens are known whatever the split
    words = ["good", "fine", "great", "bad", "poor", "awful", "film", "plot"]
    lines = ["text,label"]
    for i in range(n):
        picked = [words[(i + k) % len(words)] for k in range(5)]
        lines.append(f"{' '.join(picked)},{'pos' if i % 2 else 'neg'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_text_model_counts_its_tokens_without_padding(tmp_path):
    config = RunConfig().with_overrides([
        "model.name=lstm", "data.name=text_csv",
        f"data.path={str(_texts_csv(tmp_path / 'texts.csv'))!r}", "data.val_split=0.25",
        "data.max_length=16", "data.tokenizer=words", "training.epochs=2",
        "training.batch_size=8", "training.device=cpu"])
    events: list = []
    summary = train(config, runs_dir=tmp_path / "runs", listeners=[events.append])
    (run_dir,) = run_dirs(tmp_path / "runs")
    progress = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["progress"]
    assert progress["tokens_seen"] == 2 * 30 * 5  # 2 epochs of 30 texts of 5 tokens, not 16
    assert summary["tokens_per_s"] == round(300 / progress["train_seconds"], 1)
    batches = [e for e in events if isinstance(e, BatchEnd)]
    assert all(math.isclose(e.tokens_per_s, 5 * e.samples_per_s, rel_tol=1e-9) for e in batches)
    assert json.loads((run_dir / "summary.json").read_text())["tokens_per_s"] > 0


def test_a_model_of_images_has_no_tokens_per_second(tmp_path):
    events: list = []
    summary = train(mlp_config("training.epochs=1"), runs_dir=tmp_path, listeners=[events.append])
    assert summary["tokens_per_s"] is None
    assert all(math.isnan(e.tokens_per_s) for e in events if isinstance(e, BatchEnd))


def test_the_window_shows_tokens_per_second_beside_samples_per_second(qtbot):
    from gui.run_progress import RunProgress

    progress = RunProgress()
    qtbot.addWidget(progress)
    progress._epochs = 3
    progress.show_batch(BatchEnd(10, 1, 30, 0.5, 0.8, 0.001, 20.0, 64.0, 2048.0))
    assert progress.text() == ("Epoch 1/3 · step 10/30 · 64 samples/s (2,048 tokens/s) · "
                               "0:40 left")
    progress.show_batch(BatchEnd(10, 1, 30, 0.5, 0.8, 0.001, 20.0, 64.0))
    assert progress.text() == "Epoch 1/3 · step 10/30 · 64 samples/s · 0:40 left"
