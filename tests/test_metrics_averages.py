"""The classification averages people expect (macro and weighted F1, balanced accuracy) from
a confusion matrix, against values worked out by hand, and top-k accuracy in evaluation."""

from __future__ import annotations

import pytest
from sklearn.metrics import top_k_accuracy_score

from core.inference.evaluation import evaluate_run, load_run
from core.inference.outputs import batched_outputs, class_probabilities
from core.metrics import class_averages, class_scores
from finished_runs import make_runs

# confusion[t][p]: 3 classes of 4, 4 and 2 samples, and a fourth that never occurs
CONFUSION = [[3, 1, 0, 0],
             [1, 2, 1, 0],
             [0, 0, 2, 0],
             [0, 0, 0, 0]]


def test_per_class_scores_by_hand():
    # precision 3/4, 2/3, 2/3; recall 3/4, 2/4, 2/2; F1 = 2pr/(p+r): 3/4, 4/7, 4/5
    scores = class_scores(CONFUSION)
    assert scores[0] == pytest.approx((0.75, 0.75, 0.75, 4))
    assert scores[1] == pytest.approx((2 / 3, 0.5, 4 / 7, 4))
    assert scores[2] == pytest.approx((2 / 3, 1.0, 0.8, 2))
    assert scores[3] == (None, None, None, 0)  # never true, never predicted


def test_averages_by_hand():
    averages = class_averages(CONFUSION)
    assert averages["macro_f1"] == pytest.approx((0.75 + 4 / 7 + 0.8) / 3)  # 0.7071
    assert averages["weighted_f1"] == pytest.approx((0.75 * 4 + 4 / 7 * 4 + 0.8 * 2) / 10)
    assert averages["balanced_accuracy"] == pytest.approx((0.75 + 0.5 + 1.0) / 3)


def test_a_class_never_predicted_counts_as_f1_zero():
    # class 1's one sample is predicted as 0: its precision is undefined and its F1 is 0
    # (scikit-learn's zero_division=0); class 0: precision 2/3, recall 1, F1 0.8
    averages = class_averages([[2, 0], [1, 0]])
    assert class_scores([[2, 0], [1, 0]])[1] == (None, 0.0, 0.0, 1)
    assert averages["macro_f1"] == pytest.approx(0.4)
    assert averages["weighted_f1"] == pytest.approx(0.8 * 2 / 3)
    assert averages["balanced_accuracy"] == pytest.approx(0.5)


def test_no_samples_has_no_averages():
    assert class_averages([[0, 0], [0, 0]]) == {
        "macro_f1": None, "weighted_f1": None, "balanced_accuracy": None}


def test_evaluation_reports_the_averages_and_top_k_accuracy(tmp_path):
    loaded = load_run(make_runs(tmp_path, ["mlp"])["mlp"])
    top1, top3 = evaluate_run(loaded, top_k=1), evaluate_run(loaded, top_k=3)
    assert top1.top_k_accuracy == pytest.approx(top1.accuracy)  # top-1 is accuracy
    assert top3.top_k_accuracy >= top1.accuracy
    probabilities = class_probabilities(batched_outputs(loaded.model, loaded.data.val_x,
                                                        loaded.data.prepare).cpu())
    assert top3.top_k_accuracy == pytest.approx(top_k_accuracy_score(
        loaded.data.val_y.numpy(), probabilities.numpy(), k=3, labels=list(range(10))))
    assert top3.macro_f1 == pytest.approx(class_averages(top3.confusion)["macro_f1"])
    assert 0 < top3.balanced_accuracy <= 1 and 0 < top3.weighted_f1 <= 1
    assert evaluate_run(loaded, top_k=10).top_k_accuracy is None  # 10 classes: always right
