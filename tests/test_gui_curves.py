"""The curves: smoothing, log scale, the x axis by step or epoch, the hover readout, the
best-epoch marker, hints, export, overlaying runs, and one plot redrawn per tick."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from core.runs.curves import RunCurves, smooth
from core.events import BatchEnd, EpochEnd, RunStarted
from gui.plots import ComparePlots, LivePlots, run_colors
from limits import HANG_MS

STEPS_PER_EPOCH = 20


def _lines(plot) -> list:
    """The curves of a plot that hold data (the hover marker and empty curves left out)."""
    return [item for item in plot.getPlotItem().listDataItems()
            if item.opts["pen"] is not None and item.getOriginalDataset()[0] is not None
            and len(item.getOriginalDataset()[0])]


def _drawn(plot) -> list[tuple[list, list]]:
    """The data of every curve in a plot, as drawn."""
    return [tuple(list(v) for v in item.getOriginalDataset()) for item in _lines(plot)]


def _steps(first: int, last: int, epoch: int) -> list[BatchEnd]:
    rng = np.random.default_rng(first)
    return [BatchEnd(s, epoch, 100, 2.0 / (1 + s / 20) + 0.3 * rng.random(), 0.5, 0.01, 0.0, 0.0)
            for s in range(first, last + 1)]


def _epoch(epoch: int, train: float, val: float, best: bool) -> EpochEnd:
    return EpochEnd(epoch, 5, epoch * STEPS_PER_EPOCH, train, 0.8, val, 0.7, 0.01, 1.0, 100.0,
                    best)


@pytest.fixture
def plots(qtbot):
    widget = LivePlots()
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitExposed(widget)
    widget.start_run(RunStarted("/runs/x", "cpu", 5, STEPS_PER_EPOCH, 1280, 320, 10, 10))
    return widget


def test_smoothing_draws_the_average_over_a_faint_raw_curve(plots):
    batches = _steps(1, 60, 1)
    plots.add_steps(batches[:25])
    plots.add_steps(batches[25:])
    plots.stop_live()
    raw = [b.loss for b in batches]
    curves = _drawn(plots.loss_plot)
    assert len(curves) == 2
    faint, smoothed = curves
    assert faint[1] == pytest.approx(raw)
    assert smoothed[1] == pytest.approx(list(smooth(raw, 0.6)))
    assert _lines(plots.loss_plot)[0].opts["pen"].color().alpha() < 100

    plots.smoothing_slider.setValue(95)  # as a user drags it
    assert plots.smoothing == pytest.approx(0.95)
    assert plots.smoothing_value.text() == "0.95"
    assert _drawn(plots.loss_plot)[1][1] == pytest.approx(list(smooth(raw, 0.95)))

    plots.smoothing_slider.setValue(0)
    [only] = _drawn(plots.loss_plot)
    assert only[1] == pytest.approx(raw)


def test_log_scale_applies_to_losses_and_learning_rate_not_to_accuracy(plots):
    plots.add_steps(_steps(1, 20, 1))
    plots.add_epoch(_epoch(1, 1.0, 0.9, True))
    plots.stop_live()
    plots.log_checkbox.setChecked(True)
    for plot in (plots.loss_plot, plots.val_loss_plot, plots.lr_plot):
        item = plot.getPlotItem()
        assert item.ctrl.logYCheck.isChecked()
        assert _lines(plot)[0].opts["logMode"] == [False, True]
    assert not plots.metric_plot.getPlotItem().ctrl.logYCheck.isChecked()
    plots.log_checkbox.setChecked(False)
    assert not plots.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()


def test_x_axis_by_epoch_places_steps_within_their_epoch(plots):
    plots.add_steps(_steps(1, 40, 1)[:20] + [b.__class__(**{**b.__dict__, "epoch": 2})
                                             for b in _steps(21, 40, 2)])
    plots.add_epoch(_epoch(1, 1.0, 0.9, True))
    plots.add_epoch(_epoch(2, 0.8, 0.85, True))
    plots.stop_live()
    plots.x_axis_combo.setCurrentText("epoch")
    steps_x = _drawn(plots.loss_plot)[0][0]
    assert steps_x[0] == pytest.approx(1 / STEPS_PER_EPOCH) and steps_x[-1] == pytest.approx(2.0)
    assert _drawn(plots.val_loss_plot)[0][0] == [1.0, 2.0]
    assert plots.loss_plot.getPlotItem().getAxis("bottom").labelText == "epoch"
    plots.set_x_axis("step")
    assert _drawn(plots.val_loss_plot)[0][0] == [20.0, 40.0]
    assert _drawn(plots.loss_plot)[0][0][-1] == 40.0


def test_the_best_epoch_is_marked(plots):
    for epoch, val, best in ((1, 0.9, True), (2, 0.7, True), (3, 0.8, False)):
        plots.add_epoch(_epoch(epoch, 1.0 - epoch / 10, val, best))
    plots.stop_live()
    assert plots.best_epoch == 2
    for line in plots._best_lines:
        assert line.isVisible() and line.value() == 40.0  # x by step: epoch 2 ends at step 40
    for plot in (plots.val_loss_plot, plots.metric_plot):
        legend = plot.getPlotItem().legend
        assert "best: epoch 2" in [label.text for _, label in legend.items]
    plots.clear()
    assert not any(line.isVisible() for line in plots._best_lines)


def test_hovering_reads_out_step_epoch_and_value(plots, qtbot):
    batches = _steps(1, 40, 1)
    plots.add_steps(batches)
    plots.stop_live()
    plots.smoothing_slider.setValue(0)
    view = plots.loss_plot.getPlotItem().vb
    qtbot.waitUntil(lambda: view.viewRange()[0][1] >= 40)  # the view fits the data lazily
    qtbot.wait(50)  # and settles after its first paint
    position = view.mapViewToScene(QPointF(10.1, batches[9].loss))
    with qtbot.waitSignal(plots.hover_changed, timeout=HANG_MS) as signal:
        plots.loss_plot.scene().sigMouseMoved.emit(position)
    assert signal.args[0] == f"step 10 · epoch 1 · loss {batches[9].loss:.4g}"
    assert plots.readout.text() == signal.args[0]


def test_overfitting_shows_a_hint_in_plain_words(plots):
    plots.add_steps(_steps(1, 5, 1))
    for epoch, (train, val) in enumerate([(1.0, 1.0), (0.7, 0.8), (0.5, 0.7), (0.4, 0.72),
                                          (0.3, 0.8), (0.2, 0.9)], start=1):
        plots.add_epoch(_epoch(epoch, train, val, epoch == 3))
    assert "Overfitting" in plots.hint_text()
    assert "weight decay" in plots.hint_text()
    plots.clear()
    assert plots.hint_text() == ""


def test_a_diverged_run_says_to_lower_the_learning_rate(plots):
    plots.show_failure("the loss became nan at step 3 (epoch 1); training stopped. Lower "
                       "[optimizer] lr (now 10.0) and start again")
    assert "learning rate" in plots.hint_text()


def test_a_refresh_tick_redraws_one_plot_the_training_loss_first(plots):
    plots.add_steps(_steps(1, 20, 1))
    plots.add_epoch(_epoch(1, 1.0, 0.9, True))
    plots.refresh()
    assert len(_drawn(plots.loss_plot)) == 2
    assert _drawn(plots.val_loss_plot) == [] and _drawn(plots.metric_plot) == []
    plots.add_steps(_steps(21, 22, 2))  # new steps keep coming, yet the epochs get their turn
    plots.refresh()
    assert len(_drawn(plots.val_loss_plot)) == 2 and _drawn(plots.metric_plot) == []
    plots.refresh()
    assert len(_drawn(plots.loss_plot)[0][0]) == 22
    plots.refresh()
    assert len(_drawn(plots.metric_plot)) == 2


@pytest.mark.parametrize("suffix", ["png", "svg", "csv"])
def test_a_plot_exports_as_image_or_data(plots, tmp_path, suffix):
    batches = _steps(1, 30, 1)
    plots.add_steps(batches)
    plots.add_epoch(_epoch(1, 1.0, 0.9, True))
    path = tmp_path / f"loss.{suffix}"
    plots.export_plot("steps", path)
    data = path.read_bytes()
    if suffix == "png":
        assert data.startswith(b"\x89PNG")
    elif suffix == "svg":
        assert b"<svg" in data and b"polyline" in data or b"path" in data
    else:
        rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
        assert rows[0] == ["run", "step", "epoch", "loss", "smoothed_loss (0.60)"]
        assert len(rows) == 31 and rows[1][:3] == ["x", "1", "1"]
        assert float(rows[5][3]) == pytest.approx(batches[4].loss, rel=1e-5)
        plots.export_plot("epoch_metric", path)
        assert path.read_text(encoding="utf-8").splitlines() == [
            "run,epoch,step,train_accuracy,val_accuracy", "x,1,20,0.8,0.7"]


def test_an_unknown_export_format_is_refused(plots, tmp_path):
    with pytest.raises(ValueError, match="png, .svg or .csv"):
        plots.export_plot("steps", tmp_path / "loss.jpg")


def _curves(scale: float) -> RunCurves:
    steps = np.arange(1, 41, dtype=float)
    return RunCurves(step=steps, epoch=np.ceil(steps / 20), loss=scale / (1 + steps / 10),
                     metric=np.full(40, 0.5), lr=np.full(40, 0.001), elapsed_s=steps * 0.05,
                     val_epoch=np.array([1.0, 2.0]), val_step=np.array([20.0, 40.0]),
                     val_elapsed_s=np.array([1.0, 2.0]),
                     val_loss=np.array([scale * 0.5, scale * 0.4]),
                     val_metric=np.array([0.8, 0.9]), val_lr=np.array([0.001, 0.001]),
                     epoch_train_loss=np.array([scale * 0.6, scale * 0.45]),
                     epoch_train_metric=np.array([0.75, 0.85]))


def test_two_runs_overlay_with_a_legend_and_their_own_colours(qtbot):
    compare = ComparePlots()
    qtbot.addWidget(compare)
    compare.resize(1000, 700)
    compare.show()
    compare.set_runs([("20260101-120000-mlp-digits", "mlp fast", _curves(2.0), "accuracy"),
                      ("20260101-130000-simple_cnn-digits", "cnn", _curves(1.0), "accuracy")])
    assert compare.legend_labels() == ["mlp fast", "cnn"]
    colors = compare.run_colors()
    assert colors["20260101-120000-mlp-digits"] != colors["20260101-130000-simple_cnn-digits"]
    assert run_colors(["20260101-130000-simple_cnn-digits", "20260101-120000-mlp-digits"]) \
        == colors  # the same whichever order they were selected in
    validation = _drawn(compare.val_loss_plot)
    assert [curve[1] for curve in validation] == [[1.0, 0.8], [0.5, 0.4]]
    pens = [item.opts["pen"].color().name() for item in _lines(compare.val_loss_plot)]
    assert pens == [colors["20260101-120000-mlp-digits"],
                    colors["20260101-130000-simple_cnn-digits"]]
    assert [curve[1] for curve in _drawn(compare.metric_plot)] == [[80.0, 90.0]] * 2

    compare.set_runs([("20260101-130000-simple_cnn-digits", "cnn", _curves(1.0), "accuracy")])
    assert compare.legend_labels() == ["cnn"]
    assert len(_drawn(compare.val_loss_plot)) == 1



def test_long_runs_draw_epoch_curves_without_dots(plots):
    for epoch in range(1, 202):
        plots.add_epoch(_epoch(epoch, 1.0 / epoch, 1.0 / epoch, True))
    plots.stop_live()
    assert all(item.opts["symbol"] is None for item in _lines(plots.val_loss_plot))
    plots.clear()
    plots.add_epoch(_epoch(1, 1.0, 1.0, True))
    plots.stop_live()
    assert all(item.opts["symbol"] == "o" for item in _lines(plots.val_loss_plot))


def test_run_colours_come_from_the_name_and_never_repeat_among_the_shown():
    names = [f"2026010{i}-120000-mlp-digits" for i in range(1, 9)]
    colors = run_colors(names)
    assert len(set(colors.values())) == 8
    alone = {name: run_colors([name])[name] for name in names}
    first = sorted(names)[0]
    assert colors[first] == alone[first]  # the first folder never yields its colour
    assert run_colors(names) == colors  # stable


def test_live_and_compared_plots_export_the_same_columns(plots, qtbot, tmp_path):
    """Both views read out and export from the same curve model: one run live and the same
    run read back from its folder give the same CSV, whichever plot."""
    batches = _steps(1, 40, 1)[:20] + [b.__class__(**{**b.__dict__, "epoch": 2})
                                       for b in _steps(21, 40, 2)]
    plots.add_steps(batches)
    plots.add_epoch(_epoch(1, 1.0, 0.9, True))
    plots.add_epoch(_epoch(2, 0.8, 0.85, True))
    compare = ComparePlots()
    qtbot.addWidget(compare)
    curves = RunCurves(step=np.array([float(b.step) for b in batches]),
                       epoch=np.array([float(b.epoch) for b in batches]),
                       loss=np.array([b.loss for b in batches]),
                       metric=np.array([b.metric for b in batches]),
                       lr=np.array([b.lr for b in batches]),
                       elapsed_s=np.array([b.elapsed_s for b in batches]),
                       val_epoch=np.array([1.0, 2.0]), val_step=np.array([20.0, 40.0]),
                       val_elapsed_s=np.array([1.0, 2.0]),
                       val_loss=np.array([0.9, 0.85]), val_metric=np.array([0.7, 0.7]),
                       val_lr=np.array([0.01, 0.01]), epoch_train_loss=np.array([1.0, 0.8]),
                       epoch_train_metric=np.array([0.8, 0.8]))
    compare.set_runs([("x", "x", curves, "accuracy")])
    for key in ("steps", "lr", "epoch_loss", "epoch_metric"):
        live_header, live_rows = plots.plot_data(key)
        compared_header, compared_rows = compare.plot_data(key)
        assert live_header == compared_header
        assert live_header[0] == "run"
        assert [r[0] for r in live_rows] == [r[0] for r in compared_rows]
        assert np.allclose(np.array([r[1:] for r in live_rows], dtype=float),
                           np.array([r[1:] for r in compared_rows], dtype=float))
    for key in ("steps", "lr"):
        [(live_label, live_x, live_y, _)] = plots.hover_series(key)
        [(compared_label, compared_x, compared_y, _)] = compare.hover_series(key)
        assert compared_label == f"x: {live_label}"
        assert np.allclose(live_x, compared_x) and np.allclose(live_y, compared_y)


def test_the_compared_plots_read_out_the_run_under_the_mouse(qtbot):
    compare = ComparePlots()
    qtbot.addWidget(compare)
    compare.resize(1000, 700)
    compare.show()
    qtbot.waitExposed(compare)
    compare.set_runs([("20260101-120000-mlp-digits", "mlp", _curves(2.0), "accuracy"),
                      ("20260101-130000-simple_cnn-digits", "cnn", _curves(1.0), "accuracy")])
    view = compare.val_loss_plot.getPlotItem().vb
    qtbot.waitUntil(lambda: view.viewRange()[0][1] >= 40)
    qtbot.wait(50)
    position = view.mapViewToScene(QPointF(40, 0.4))
    with qtbot.waitSignal(compare.hover_changed, timeout=HANG_MS) as signal:
        compare.val_loss_plot.scene().sigMouseMoved.emit(position)
    assert signal.args[0] == "step 40 · epoch 2 · cnn: validation loss 0.4"
