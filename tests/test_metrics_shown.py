"""The classification averages where people read them: summary.json at the end of a run
([training] top_k), and the Evaluation tab's line with its top-k setting."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from core.data.memory import InMemoryData
from core.inference.evaluation import evaluate_run, load_run
from core.train.loop import train
from core.train.validation import class_report
from gui.evaluation_view import EvaluationView
from limits import HANG_MS
from run_control import mlp_config


class Scores(torch.nn.Module):
    """A "model" whose outputs are its inputs: the validation inputs are the scores."""

    def __init__(self) -> None:
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x


def test_class_report_against_hand_computed_values():
    # true 0 0 0 1 2 2, predicted 0 1 1 1 2 0 (the largest score); confusion rows
    # [1 2 0] [0 1 0] [1 0 1]. F1: class 0 P 1/2 R 1/3 -> 0.4; class 1 P 1/3 R 1 -> 0.5;
    # class 2 P 1 R 1/2 -> 2/3. Second likeliest: sample 2's true class 0 is last -> top-2 5/6.
    scores = torch.tensor([[3, 2, 1], [2, 3, 1], [1, 3, 2], [1, 3, 2], [1, 2, 3], [3, 1, 2]],
                          dtype=torch.float32)
    targets = torch.tensor([0, 0, 0, 1, 2, 2])
    data = InMemoryData(scores, targets, scores, targets, ["a", "b", "c"])
    run = SimpleNamespace(model=Scores(), data=data,
                          precision=SimpleNamespace(autocast=contextlib.nullcontext))
    report = class_report(run, top_k=2)
    assert report["top_k"] == 2
    assert report["final_val_macro_f1"] == pytest.approx((0.4 + 0.5 + 2 / 3) / 3)
    assert report["final_val_weighted_f1"] == pytest.approx((3 * 0.4 + 0.5 + 2 * 2 / 3) / 6)
    assert report["final_val_balanced_accuracy"] == pytest.approx((1 / 3 + 1 + 1 / 2) / 3)
    assert report["final_val_top_k_accuracy"] == pytest.approx(5 / 6)
    assert class_report(run, top_k=3)["final_val_top_k_accuracy"] is None  # all would count


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return train(mlp_config("training.epochs=1", "training.top_k=3"),
                 runs_dir=tmp_path_factory.mktemp("runs"))


def test_summary_json_holds_the_final_models_averages(finished):
    written = json.loads((Path(finished["run_dir"]) / "summary.json").read_text("utf-8"))
    evaluation = evaluate_run(load_run(Path(finished["run_dir"]), "last"), top_k=3)
    assert written["top_k"] == 3
    for name in ("macro_f1", "weighted_f1", "balanced_accuracy", "top_k_accuracy"):
        assert written[f"final_val_{name}"] == pytest.approx(getattr(evaluation, name),
                                                             abs=1e-9), name
    assert written["final_val_top_k_accuracy"] >= written["final_val_accuracy"]


def test_the_evaluation_tab_shows_the_averages_with_its_top_k(qtbot, finished):
    run_dir = Path(finished["run_dir"])
    view = EvaluationView(run_dir.parent)
    qtbot.addWidget(view)
    view.top_k_box.setValue(2)
    with qtbot.waitSignal(view.evaluated, timeout=HANG_MS):
        view.show_run(run_dir)
    result = view.result
    assert result.top_k == 2
    assert view.averages.text() == (
        f"Macro F1 {result.macro_f1:.3f} · weighted F1 {result.weighted_f1:.3f} · balanced "
        f"accuracy {result.balanced_accuracy:.1%} · top-2 accuracy {result.top_k_accuracy:.1%}")
