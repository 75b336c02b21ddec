"""[training] best_metric ranking epochs by a classification's class scores (macro F1,
balanced accuracy, top-k accuracy): computed on the validation data every epoch, against
hand-computed values; recorded in metrics.csv and summary.json; deciding best.pt and early
stopping; read back by the curves; and the one top-k rule."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import core.train.validation
from core.data.memory import InMemoryData
from core.errors import BadInput
from core.events import EpochEnd
from core.metrics import top_k_hits
from core.runs.curves import read_curves
from core.train.loop import train
from core.train.validation import validate
from run_control import mlp_config, read_metrics


class Scores(torch.nn.Module):
    """A "model" whose outputs are its inputs: the validation inputs are the scores."""

    def __init__(self) -> None:
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x


def scored_run(scores, targets, classes):
    data = InMemoryData(scores, targets, scores, targets, classes)
    return SimpleNamespace(model=Scores(), data=data, loss_fn=torch.nn.CrossEntropyLoss(),
                           precision=SimpleNamespace(autocast=contextlib.nullcontext))


def test_validation_computes_the_class_scores_by_hand():
    # true 0 0 0 1 2 2, predicted 0 1 1 1 2 0: F1 0.4, 0.5, 2/3; recalls 1/3, 1, 1/2;
    # sample 2's true class is its least likely: top-2 5/6
    scores = torch.tensor([[3, 2, 1], [2, 3, 1], [1, 3, 2], [1, 3, 2], [1, 2, 3], [3, 1, 2]],
                          dtype=torch.float32)
    targets = torch.tensor([0, 0, 0, 1, 2, 2])
    run = scored_run(scores, targets, ["a", "b", "c"])
    loss, accuracy, mae, class_scores = validate(run, top_k=2)
    assert accuracy == pytest.approx(3 / 6) and mae is None
    assert loss == pytest.approx(float(torch.nn.functional.cross_entropy(scores, targets)))
    assert class_scores == pytest.approx({"macro_f1": (0.4 + 0.5 + 2 / 3) / 3,
                                          "balanced_accuracy": (1 / 3 + 1 + 1 / 2) / 3,
                                          "top_k_accuracy": 5 / 6})
    assert validate(run, top_k=3)[3]["top_k_accuracy"] is None  # every sample would count
    assert validate(run)[3] == {}  # not asked for


def test_top_k_hits_is_the_one_rule():
    scores = torch.tensor([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1]])
    assert top_k_hits(scores, torch.tensor([2, 2]), 2).tolist() == [True, False]
    assert top_k_hits(scores, torch.tensor([2, 2]), 1).tolist() == [False, False]
    assert top_k_hits(scores, torch.tensor([2, 2]), 3) is None


SCRIPT = [  # (loss, accuracy, macro F1) per epoch: each ranks a different epoch best
    (1.0, 0.50, 0.30), (0.6, 0.60, 0.35), (0.7, 0.80, 0.32), (0.8, 0.70, 0.50),
    (0.9, 0.75, 0.40),
]


def scripted(monkeypatch):
    """Validation gives SCRIPT epoch by epoch; restored weights give their epoch's back."""
    rows, seen = iter(SCRIPT), {}

    def fake_validate(run, *args, **kwargs):
        key = float(sum(p.detach().double().sum() for p in run.model.parameters()))
        if key not in seen:
            loss, accuracy, f1 = next(rows)
            seen[key] = (loss, accuracy, None, {"macro_f1": f1, "balanced_accuracy": accuracy,
                                                "top_k_accuracy": None})
        return seen[key]

    monkeypatch.setattr(core.train.validation, "validate", fake_validate)


@pytest.mark.parametrize("best_metric, best_epoch", [("val_loss", 2), ("val_metric", 3),
                                                    ("val_macro_f1", 4)])
def test_the_chosen_score_decides_best_pt_and_is_recorded(tmp_path, monkeypatch, best_metric,
                                                          best_epoch):
    scripted(monkeypatch)
    events: list = []
    summary = train(mlp_config("training.epochs=5", f"training.best_metric={best_metric!r}",
                               "training.checkpoint_every_s=0"),
                    runs_dir=tmp_path, listeners=[events.append])
    run_dir = Path(summary["run_dir"])
    assert summary["best_epoch"] == best_epoch
    assert [e.epoch for e in events if isinstance(e, EpochEnd) and e.is_best][-1] == best_epoch
    best = torch.load(run_dir / "checkpoints" / "best.pt", weights_only=True)
    assert best["progress"]["epoch"] == best_epoch + 1
    written = json.loads((run_dir / "summary.json").read_text("utf-8"))
    if best_metric == "val_macro_f1":
        assert written["best_val_macro_f1"] == 0.5
    else:
        assert "best_val_macro_f1" not in written
    val_rows = [r for r in read_metrics(run_dir) if r["split"] == "val"]
    assert [r["macro_f1"] for r in val_rows] == [f for _, _, f in SCRIPT]
    assert all(r["top_k_accuracy"] is None for r in val_rows)
    curves = read_curves(run_dir)
    assert curves.val_macro_f1.tolist() == [f for _, _, f in SCRIPT]
    flags = curves.best_epochs(best_metric)
    assert max(i + 1 for i, flag in enumerate(flags) if flag) == best_epoch


def test_early_stopping_follows_the_chosen_score(tmp_path, monkeypatch):
    scripted(monkeypatch)
    summary = train(mlp_config("training.epochs=5", "training.best_metric='val_macro_f1'",
                               "training.early_stopping_patience=2"), runs_dir=tmp_path)
    # F1 rises at epochs 2 and 4 only: never two epochs without a gain before epoch 5
    assert summary["stopped_early"] is False and summary["best_epoch"] == 4
    scripted(monkeypatch)
    summary = train(mlp_config("training.epochs=5", "training.best_metric='val_macro_f1'",
                               "training.early_stopping_patience=1"), runs_dir=tmp_path)
    assert summary["stopped_early"] is True and summary["epochs_completed"] == 3
    assert summary["best_epoch"] == 2 and summary["best_val_macro_f1"] == 0.35


def test_a_real_run_ranks_by_balanced_accuracy(tmp_path):
    summary = train(mlp_config("training.epochs=2", "training.best_metric='val_balanced_accuracy'",
                               "training.top_k=3"), runs_dir=tmp_path)
    run_dir = Path(summary["run_dir"])
    val_rows = [r for r in read_metrics(run_dir) if r["split"] == "val"]
    values = [r["balanced_accuracy"] for r in val_rows]
    assert all(0 < v <= 1 for v in values) and all(0 < r["macro_f1"] <= 1 for r in val_rows)
    assert all(r["top_k_accuracy"] >= r["accuracy"] for r in val_rows)
    best = values.index(max(values)) + 1
    assert summary["best_epoch"] == best
    assert summary["best_val_balanced_accuracy"] == pytest.approx(max(values), abs=1e-6)
    # the final model's report agrees with its last epoch's row
    assert summary["final_val_balanced_accuracy"] == pytest.approx(values[-1], abs=1e-6)


def test_a_class_score_the_data_cannot_have_is_refused_before_a_run_folder(tmp_path):
    with pytest.raises(BadInput, match="ranks a classification, and this data is a regression"):
        train(mlp_config("data.name='diabetes'", "training.best_metric='val_macro_f1'"),
              runs_dir=tmp_path / "runs")
    with pytest.raises(BadInput, match=r"needs more classes than \[training\] top_k = 10, and "
                                       "the data has 10; lower top_k"):
        train(mlp_config("training.best_metric='val_top_k_accuracy'", "training.top_k=10"),
              runs_dir=tmp_path / "runs")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_the_live_metric_plot_draws_and_names_the_ranked_score(qtbot):
    from core.events import RunStarted
    from gui.plots.live_plots import LivePlots

    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.start_run(RunStarted("/runs/x", "cpu", 3, 10, 100, 20, 10, 10, ["a", "b"],
                               best_metric="val_macro_f1"))
    for epoch, f1 in ((1, 0.4), (2, 0.6)):
        plots.add_epoch(EpochEnd(epoch, 3, epoch * 10, 1.0, 0.5, 0.9, 0.7, 0.01, 1.0, 1.0,
                                 epoch == 2, val_scores={"macro_f1": f1}))
    plots.redraw_all()
    axis = plots.metric_plot.getPlotItem().getAxis("left").labelText
    assert axis == "accuracy, macro F1 (%)"
    assert plots._curves["val_score"].getData()[1].tolist() == [40.0, 60.0]
    legend = [label.text for _, label in plots.legends[1].items]
    assert "validation macro F1" in legend
    plots.start_run(RunStarted("/runs/y", "cpu", 3, 10, 100, 20, 10, 10, ["a", "b"]))
    plots.model.clear()
    plots.redraw_all()
    assert plots.metric_plot.getPlotItem().getAxis("left").labelText == "accuracy (%)"
    assert "validation macro F1" not in [
        label.text for _, label in plots.legends[1].items]
    assert plots._curves["val_score"].getData()[1] is None or not len(
        plots._curves["val_score"].getData()[1])
