"""Curves in core: TensorBoard's debiased smoothing, reading metrics.csv back, and the
plain-language hints drawn from the epoch history."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.runs.hints import curve_hints, is_overfitting, is_underfitting
from core.runs.curves import Smoother, epoch_positions, read_curves, smooth


def tensorboard_smooth(values, weight):
    """TensorBoard's own loop (vz_line_chart2 resmoothDataset), as the reference."""
    last, count, out = 0.0, 0, []
    for value in values:
        if not math.isfinite(value):
            out.append(value)
            continue
        last = last * weight + (1 - weight) * value
        count += 1
        out.append(last / (1 - weight ** count))
    return out


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.6, 0.9, 0.99])
def test_smoothing_matches_tensorboard(weight):
    values = list(np.random.default_rng(1).random(500) * 3)
    assert smooth(values, weight) == pytest.approx(tensorboard_smooth(values, weight))


def test_smoothing_is_debiased_so_a_constant_stays_constant():
    assert smooth([2.0] * 50, 0.95) == pytest.approx([2.0] * 50)


def test_smoothing_in_chunks_equals_smoothing_at_once():
    values = np.random.default_rng(2).random(1000)
    smoother = Smoother(0.8)
    pieces = [smoother.feed(values[a:b]) for a, b in ((0, 1), (1, 10), (10, 10), (10, 1000))]
    assert np.concatenate(pieces) == pytest.approx(smooth(values, 0.8))


def test_non_finite_values_pass_through_and_do_not_poison_the_average():
    out = smooth([1.0, float("nan"), 1.0, float("inf"), 1.0], 0.5)
    assert out[[0, 2, 4]] == pytest.approx([1.0, 1.0, 1.0])
    assert math.isnan(out[1]) and math.isinf(out[3])


def test_a_weight_of_one_or_more_is_refused():
    with pytest.raises(ValueError):
        Smoother(1.0)


def test_epoch_positions_spread_each_epochs_steps_up_to_the_epoch():
    steps = np.arange(1, 9)
    epochs = np.array([1, 1, 1, 1, 2, 2, 2, 2])
    assert epoch_positions(steps, epochs) == pytest.approx(
        [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0])


def test_read_curves_splits_steps_and_epochs_and_skips_a_torn_last_line(tmp_path):
    (tmp_path / "metrics.csv").write_text(
        "step,epoch,split,loss,accuracy,lr,elapsed_s\n"
        "1,1,train,2.3,0.1,0.001,0.1\n"
        "2,1,train,2.1,0.2,0.001,0.2\n"
        "2,1,val,2.0,0.3,0.001,0.3\n"
        "3,2,train,1.9,0.4,0.0005,0.4\n"
        "4,2,tr", encoding="utf-8")
    curves = read_curves(tmp_path)
    assert curves.step.tolist() == [1, 2, 3]
    assert curves.loss.tolist() == [2.3, 2.1, 1.9]
    assert curves.lr.tolist() == [0.001, 0.001, 0.0005]
    assert curves.val_epoch.tolist() == [1] and curves.val_loss.tolist() == [2.0]
    assert curves.val_step.tolist() == [2] and curves.val_metric.tolist() == [0.3]
    # written before epochs had a training row: the steps' mean stands in for it
    assert curves.epoch_train_loss.tolist() == pytest.approx([2.2])
    assert curves.epoch_train_metric.tolist() == pytest.approx([0.15])


def test_an_epochs_training_row_is_read_as_it_was_recorded(tmp_path):
    (tmp_path / "metrics.csv").write_text(
        "step,epoch,split,loss,accuracy,lr,elapsed_s\n"
        "1,1,train,2.3,0.1,0.001,0.1\n"
        "2,1,train,2.1,0.2,0.001,0.2\n"
        "2,1,train_epoch,2.25,0.125,0.001,0.2\n"
        "2,1,val,2.0,0.3,0.001,0.3\n", encoding="utf-8")
    curves = read_curves(tmp_path)
    assert curves.step.tolist() == [1, 2]  # not a step
    assert curves.epoch_train_loss.tolist() == [2.25]
    assert curves.epoch_train_metric.tolist() == [0.125]
    assert curves.elapsed_s.tolist() == [0.1, 0.2] and curves.val_elapsed_s.tolist() == [0.3]


def test_without_training_rows_the_steps_are_weighted_by_batch_size(tmp_path):
    # 5 samples in batches of 2: the third step of each epoch had one sample
    (tmp_path / "metrics.csv").write_text(
        "step,epoch,split,loss,accuracy,lr,elapsed_s\n"
        "1,1,train,1.0,0.5,0.1,0.1\n"
        "2,1,train,2.0,1.0,0.1,0.2\n"
        "3,1,train,6.0,0.0,0.1,0.3\n"
        "3,1,val,2.0,0.3,0.1,0.3\n", encoding="utf-8")
    curves = read_curves(tmp_path, batch_size=2, train_samples=5)
    assert curves.epoch_train_loss.tolist() == pytest.approx([(2 + 4 + 6) / 5])
    assert curves.epoch_train_metric.tolist() == pytest.approx([(1 + 2 + 0) / 5])


def test_the_best_epochs_follow_the_chosen_metric_and_curves_cut_at_a_step(tmp_path):
    rows = "".join(f"{e * 2},{e},val,{loss},{metric},0.1,{e}\n" for e, loss, metric in
                   [(1, 1.0, 0.5), (2, 0.8, 0.4), (3, 0.9, 0.7)])
    (tmp_path / "metrics.csv").write_text("step,epoch,split,loss,accuracy,lr,elapsed_s\n" + rows,
                                          encoding="utf-8")
    curves = read_curves(tmp_path)
    assert curves.best_epochs("val_loss").tolist() == [True, True, False]
    assert curves.best_epochs("val_metric").tolist() == [True, False, True]
    assert curves.up_to_step(4).val_epoch.tolist() == [1, 2]


def test_read_curves_of_an_empty_file_gives_empty_arrays(tmp_path):
    (tmp_path / "metrics.csv").write_text("step,epoch,split,loss,accuracy,lr,elapsed_s\n",
                                          encoding="utf-8")
    curves = read_curves(tmp_path)
    assert len(curves.step) == 0 and len(curves.val_loss) == 0


# ---------------------------------------------------------------- hints

FALLING = [1.0, 0.7, 0.5, 0.4, 0.3, 0.25, 0.2]


def test_overfitting_is_named_with_its_epoch_and_remedies():
    val = [1.0, 0.8, 0.7, 0.72, 0.78, 0.85, 0.9]
    [hint] = curve_hints(FALLING, val, initial_loss=2.3)
    assert hint.kind == "overfitting"
    assert "since epoch 3" in hint.text
    for remedy in ("Stop earlier", "weight decay", "augmentation", "fewer epochs"):
        assert remedy in hint.text


def test_a_one_epoch_blip_in_validation_loss_is_not_overfitting():
    assert not is_overfitting(FALLING, [1.0, 0.8, 0.7, 0.6, 0.5, 0.45, 0.47])
    assert not is_overfitting(FALLING[:3], [1.0, 1.1, 1.2])  # too few epochs to say


def test_validation_loss_back_near_its_best_is_not_overfitting_any_more():
    assert is_overfitting(FALLING, [1.0, 0.8, 0.7, 0.75, 0.8, 0.79, 0.78])  # a dip: still
    assert not is_overfitting(FALLING, [1.0, 0.8, 0.7, 0.75, 0.8, 0.79, 0.72])


def test_flat_and_high_losses_are_underfitting():
    train = [2.2, 2.1, 2.09, 2.08, 2.08]
    val = [2.2, 2.15, 2.14, 2.14, 2.13]
    [hint] = curve_hints(train, val, initial_loss=2.3)
    assert hint.kind == "underfitting"
    for remedy in ("bigger model", "more epochs", "higher learning rate"):
        assert remedy in hint.text


def test_flat_but_low_losses_are_a_finished_run_not_underfitting():
    train = [0.3, 0.1, 0.05, 0.05, 0.05]
    assert not is_underfitting(train, train, initial_loss=2.3)
    assert curve_hints(train, train, initial_loss=2.3) == []


def test_a_learning_run_gets_no_hint():
    assert curve_hints(FALLING, [v + 0.05 for v in FALLING], initial_loss=2.3) == []
    assert curve_hints([], []) == []


def test_a_non_finite_loss_says_to_lower_the_learning_rate():
    [hint] = curve_hints([1.0, float("nan")], [1.0, float("nan")])
    assert hint.kind == "non_finite" and "learning rate" in hint.text
    [hint] = curve_hints([], [], error="the loss became inf at step 3 (epoch 1); training "
                         "stopped. Lower [optimizer] lr (now 10.0) and start again")
    assert hint.kind == "non_finite"


def test_the_trainers_own_divergence_message_is_recognised(tmp_path):
    from core.config import RunConfig
    from core.errors import TrainingFailed
    from core.train.loop import train

    config = RunConfig().with_overrides([
        "model.name=mlp", "optimizer.name=sgd", "optimizer.lr=10.0",
        "training.epochs=2", "training.device=cpu"])
    with pytest.raises(TrainingFailed) as failure:
        train(config, runs_dir=tmp_path)
    assert [h.kind for h in curve_hints([], [], error=str(failure.value))] == ["non_finite"]
