"""A warning at the epochs field for a run far longer than meant (issue 13: 99999 epochs
showed "152:15:04 left" once started, with no word before): 10,000 epochs or more, or an
estimated time over LONG_RUN_S at the pace of the newest run of the same model and data
(core.runs.history.epoch_pace, read off the GUI thread)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QTimer

from gui.background import runner
from gui.run_progress import format_duration

MANY_EPOCHS = 10_000
LONG_RUN_S = 4 * 3600


def epochs_warning(epochs: int, pace: tuple[float, object] | None) -> str:
    """The warning for `epochs` at `pace` ((seconds per epoch, RunRecord) or None); ""
    when the run is not unusually long."""
    total = None if pace is None else pace[0] * epochs
    if epochs < MANY_EPOCHS and (total is None or total <= LONG_RUN_S):
        return ""
    if total is None:
        return QCoreApplication.translate(
            "EpochsCheck", "{0:,} epochs is a very long run (most need 10 to 100). Is that "
            "what you meant?").format(epochs)
    seconds, record = pace
    return QCoreApplication.translate(
        "EpochsCheck", "{0:,} epochs would take about {1} at the pace of {2} ({3} an epoch). "
        "Is that what you meant?").format(epochs, format_duration(total),
                                          record.display_name, format_duration(seconds))


class EpochsCheck(QObject):
    """Watches the setup panel's epochs, model and data; shows epochs_warning under the
    epochs field."""

    def __init__(self, setup_panel, runs_dir: Path) -> None:
        super().__init__(setup_panel)
        self.setup_panel, self.runs_dir = setup_panel, Path(runs_dir)
        self.warning = ""
        self._timer = QTimer(self, singleShot=True, interval=300)  # once typing stops
        self._timer.timeout.connect(self.check)
        setup_panel.training_form.fields["epochs"].valueChanged.connect(self._restart)
        for section in ("model", "data"):
            setup_panel.pickers[section].combo.currentIndexChanged.connect(self._restart)

    def _restart(self, *_) -> None:
        self._timer.start()  # not start(the signal's value), which would set the interval

    def check(self) -> None:
        panel = self.setup_panel
        epochs = panel.training_form.fields["epochs"].value()
        model = panel.pickers["model"].combo.currentText()
        data = panel.pickers["data"].combo.currentText()
        from core.runs.history import epoch_pace

        runner().submit(self, lambda: epoch_pace(self.runs_dir, model, data),
                        lambda pace: self._show(epochs_warning(epochs, pace)),
                        lambda message, details: self._show(epochs_warning(epochs, None)),
                        name="pace")

    def _show(self, text: str) -> None:
        self.warning = text
        self.setup_panel.training_form.show_notice("epochs", text)
