"""The rest of the window in Chinese: the curve hints (written in core, in English), the
curve controls' x-axis choice and axis labels, and Qt's standard buttons in the dialogs
TrainDesk builds."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

from core.runs.hints import curve_hints, divergence
from gui.i18n import install_translators, translate_message
from limits import HANG_MS


@pytest.fixture
def chinese(qapp):
    app = qapp
    assert install_translators(app, "zh_CN") == "zh_CN"
    yield
    install_translators(app, "en")


def has_latin_words(text: str) -> bool:
    import re

    return bool(re.search(r"[A-Za-z]{3,}", re.sub(r"NaN|Dropout|<[^>]+>", "", text)))


def test_every_curve_hint_reads_in_chinese(chinese):
    overfit = curve_hints([1.0, 0.8, 0.6, 0.4, 0.3], [1.0, 0.7, 0.8, 0.9, 1.0])
    underfit = curve_hints([1.0, 0.99, 0.99, 0.99, 0.99], [1.0, 1.0, 1.0, 1.0, 1.0])
    non_finite = curve_hints([1.0, float("nan")], [1.0, 1.0])
    exploded = curve_hints([1.0, 5e6], [1.0, 5e6])
    exploded_no_start = divergence([float("inf"), 5e6], [5e6, 5e6])
    chance = curve_hints([1.0, 1.0, 1.0], [1.0, 1.0, 1.0], val_metric=[0.5, 0.5, 0.5],
                         classes=2)
    hints = [*overfit, *underfit, *non_finite, *exploded, exploded_no_start, *chance]
    assert [h.kind for h in hints] == ["overfitting", "underfitting", "non_finite", "exploded",
                                       "exploded", "chance"]
    for hint in hints:
        for text in (hint.title, hint.text):
            shown = translate_message(text)
            assert shown != text and not has_latin_words(shown), shown
    # the numbers core filled in survive the translation
    assert "第 2 轮" in translate_message(overfit[0].text)
    assert "50%" in translate_message(chance[0].text)
    assert "5e+06" in translate_message(exploded[0].text)


def test_the_live_plots_show_the_hints_in_chinese(chinese, qtbot):
    from core.events import EpochEnd
    from gui.plots import LivePlots

    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.show()
    for epoch, (train, val) in enumerate(zip([1.0, 0.8, 0.6, 0.4, 0.3],
                                             [1.0, 0.7, 0.8, 0.9, 1.0]), 1):
        plots.add_epoch(EpochEnd(epoch=epoch, epochs=10, step=epoch * 10, train_loss=train,
                                 train_metric=0.5, val_loss=val, val_metric=0.5, lr=0.01,
                                 elapsed_s=epoch, samples_per_s=100.0, is_best=epoch == 2))
    text = plots.hint_text()
    assert text.startswith("<b>过拟合：") and "第 2 轮" in text and not has_latin_words(text)


def test_a_diverged_run_is_explained_in_chinese_in_the_runs_tab(chinese, tmp_path):
    from core.runs.history import RunRecord
    from gui.runs_panel import STATUS, _row

    hint = divergence([1.0, 5e6], [1.0, 5e6])
    record = RunRecord(path=tmp_path / "run", display_name="run", status="diverged",
                       error=hint.text)
    tip = _row(record)[STATUS].toolTip()
    assert tip.startswith("损失从 1 升到 5e+06") and not has_latin_words(tip)


def test_the_x_axis_choice_is_chinese_and_keeps_its_values(chinese, qtbot):
    from gui.plots import LivePlots

    plots = LivePlots()
    qtbot.addWidget(plots)
    combo = plots.x_axis_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["步", "轮次", "时间（秒）"]
    assert [combo.itemData(i) for i in range(combo.count())] == ["step", "epoch", "time"]

    def bottom(key):
        return plots.plots[key].getPlotItem().getAxis("bottom").labelText

    assert bottom("steps") == "步" and bottom("epoch_loss") == "步（每轮结束时）"
    combo.setCurrentIndex(1)
    assert plots.x_by == "epoch"
    assert {bottom(key) for key in plots.plots} == {"轮次"}
    plots.set_x_axis("step")
    assert combo.currentData() == "step" and bottom("epoch_metric") == "步（每轮结束时）"


def test_the_english_x_axis_labels_say_what_they_plot(qtbot):
    from gui.plots import LivePlots

    plots = LivePlots()
    qtbot.addWidget(plots)
    assert plots.plots["epoch_loss"].getPlotItem().getAxis("bottom").labelText == \
        "step (end of each epoch)"
    plots.set_x_axis("epoch")
    assert plots.plots["epoch_loss"].getPlotItem().getAxis("bottom").labelText == "epoch"


def test_qt_standard_buttons_in_our_dialogs_are_chinese(chinese, qtbot):
    from core.catalog import CATALOGUES
    from gui.dataset_preview import DataPreviewDialog

    entry = CATALOGUES["data"].get("digits")
    dialog = DataPreviewDialog("digits", {p.name: p.default for p in entry.params})
    qtbot.addWidget(dialog)
    box = dialog.findChild(QDialogButtonBox)
    assert [b.text() for b in box.buttons()] == ["关闭"]
    qtbot.waitUntil(lambda: not dialog.is_loading(), timeout=HANG_MS)

    # a QMessageBox with standard buttons, as the message bar's details and the Runs tab's
    # delete question build them, read while it is open
    seen = []

    def read_and_close():
        shown = QApplication.activeModalWidget()
        seen.extend(b.text() for b in shown.buttons())
        shown.reject()

    QTimer.singleShot(0, read_and_close)
    QMessageBox.question(None, "TrainDesk", "?", QMessageBox.StandardButton.Yes
                         | QMessageBox.StandardButton.Cancel)
    assert sorted(seen) == sorted(["是(&Y)", "取消"])
