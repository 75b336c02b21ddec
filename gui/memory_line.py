"""The memory line under the training settings: "≈ X GB of Y GB free", before Start.

Whenever the settings change, the run's data and model are built in the background (as the
Layers tab builds them) and core.train.memory_estimate says what the run will need; the
line turns to a warning colour, with what to change in its tooltip, when that is more than
the device has free. Only once torch is loaded, as every other background build.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QLabel

from core.errors import BadInput
from gui.background import runner
from gui.i18n import translate_message

OVER_STYLE = "QLabel { color: #b3261e; font-weight: bold; }"  # the message bar's error red
FITS_STYLE = "QLabel { color: palette(placeholder-text); }"


class MemoryLine(QLabel):
    """What the run set up on the left will need in memory, against what is free."""

    def __init__(self, config_source) -> None:
        super().__init__()
        self._config_source = config_source
        self._torch_ready = False
        self.estimate = None  # the last MemoryEstimate shown
        self._key: str | None = None  # the settings it was made for
        self.setWordWrap(True)
        self.setStyleSheet(FITS_STYLE)
        self._timer = QTimer(self, singleShot=True, interval=400)  # one build per burst of edits
        self._timer.timeout.connect(self.refresh)
        self.hide()

    def settings_changed(self) -> None:
        self._timer.start()

    def set_torch_ready(self) -> None:
        self._torch_ready = True
        self.refresh()

    @property
    def busy(self) -> bool:
        return self._timer.isActive() or runner().is_busy(self, "memory")

    def refresh(self) -> None:
        self._timer.stop()
        # Not while a run trains (the form is disabled then): the estimate draws from the
        # one global generator, so it would only wait for the run's end (core/rng.py).
        if not self._torch_ready or not self.isEnabled():
            return
        try:
            config = self._config_source()
        except BadInput:  # a setting the form cannot read: Start says which
            self.hide()
            return
        # what changes the estimate: not epochs, seed, schedules or checkpoint timing
        training = config.training
        key = repr((config.model, config.data, config.optimizer.name, config.optimizer.params,
                    config.loss, config.finetune, training.batch_size, training.device,
                    training.precision, training.fast))
        if key == self._key:
            return
        self._key = key

        def estimate():
            from core.train.memory_estimate import estimate_memory

            return estimate_memory(config)

        runner().submit(self, estimate, self._show, self._failed, name="memory")

    def _show(self, estimate) -> None:
        from core.train.memory_estimate import format_gb

        self.estimate = estimate
        total = format_gb(estimate.total)
        if estimate.available is None:
            text = QCoreApplication.translate(
                "MemoryLine", "Memory: ≈ {0} ({1}; free memory unknown)").format(
                total, estimate.device)
        else:
            text = QCoreApplication.translate("MemoryLine", "Memory: ≈ {0} of {1} free ({2})") \
                .format(total, format_gb(estimate.available), estimate.device)
        if not estimate.fits:
            text += QCoreApplication.translate("MemoryLine", " · too much: see the tooltip")
        self.setText(text)
        self.setStyleSheet(FITS_STYLE if estimate.fits else OVER_STYLE)
        tip = QCoreApplication.translate(
            "MemoryLine", "An estimate: data {0}, weights {1}, gradients {2}, optimizer state "
            "{3}, activations {4} at batch size {5}. The activations are measured on one "
            "forward pass of two samples and scaled to the batch.").format(
            *(format_gb(size) for size in (estimate.data, estimate.weights, estimate.gradients,
                                           estimate.optimizer, estimate.activations)),
            estimate.batch_size)
        if not estimate.fits:
            tip += "\n" + QCoreApplication.translate("MemoryLine", "To fit: {0}").format(
                QCoreApplication.translate("MemoryLine", "; or ").join(
                    translate_message(line) for line in estimate.advice))
        self.setToolTip(tip)
        self.show()

    def _failed(self, message: str, _details: str) -> None:
        self.estimate, self._key = None, None
        self.setText(QCoreApplication.translate(
            "MemoryLine", "Memory: no estimate ({0})").format(message))
        self.setStyleSheet(FITS_STYLE)
        self.setToolTip("")
        self.show()
