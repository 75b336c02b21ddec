"""RunProgress: a progress bar and one line saying where the run stands: epoch, step,
speed and time left while it trains; paused; the outcome and final validation scores
after, and how to continue a run that stopped."""

from __future__ import annotations

import math

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from core.events import BatchEnd, EpochEnd, RunStarted
from core.metrics import format_metric, metric_label
from gui.i18n import translate_message
from gui.message_bar import MessageBar

LABEL_LINES = 2  # the line under the bar never grows: the tabs below it must not move


def format_duration(seconds: float) -> str:
    """0.4 s, 7.2 s, 0:12, 12:30 or 1:02:03: a run of a few seconds is not "0:00"."""
    if seconds < 9.95:
        return QCoreApplication.translate("RunProgress", "{0:.1f} s").format(seconds)
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_scores(metric: float | None, loss: float | None, metric_name: str = "accuracy") -> str:
    """"validation accuracy 97.5%" (a share shown as percent), or "validation R2 0.512"."""
    parts = []
    if metric is not None:
        parts.append(QCoreApplication.translate(
            "RunProgress", "validation {0} {1}").format(
            QCoreApplication.translate("Metrics", metric_label(metric_name)),
            format_metric(metric_name, metric)))
    if loss is not None:
        parts.append(QCoreApplication.translate(
            "RunProgress", "validation loss {0:.4g}").format(loss))
    return " · ".join(parts)


class RunProgress(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.label = QLabel(QCoreApplication.translate(
            "RunProgress", "Choose the settings on the left, then press Start."))
        self.label.setWordWrap(True)  # a long line wraps rather than widening the window
        self.label.setFixedHeight(self.label.fontMetrics().lineSpacing() * LABEL_LINES)
        # What the run left out of the data or changed to fit the model (RunStarted.data_notes),
        # said plainly in a bar of its own; the window lays it out below the tabs.
        self.notes_label = MessageBar("note")
        self.notes_label.setParent(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.label)
        self._epochs = 0
        self._metric = "accuracy"
        self._last_epoch: EpochEnd | None = None
        self._last_batch: BatchEnd | None = None
        self._paused = False  # steps reported as the run pauses keep the line saying so

    def text(self) -> str:
        return self.label.text()

    def show_preparing(self) -> None:
        self.bar.setRange(0, 0)  # busy: loading torch, the data and the model
        self.label.setText(QCoreApplication.translate(
            "RunProgress", "Preparing the run: loading the data and building the model…"))
        self._last_epoch = self._last_batch = None
        self._paused = False
        self.notes_label.clear()

    def show_started(self, event: RunStarted) -> None:
        self._epochs = event.epochs
        self._metric = event.metric_name
        if event.data_notes:
            self.notes_label.show_note("\n".join(
                QCoreApplication.translate("RunProgress", "Note: {0}").format(
                    translate_message(note)) for note in event.data_notes))
        else:
            self.notes_label.clear()
        self.bar.setRange(0, event.epochs * event.steps_per_epoch)
        self.bar.setValue(event.resumed_from_step)
        where = QCoreApplication.translate("RunProgress", "Epoch 1/{0}").format(event.epochs)
        if event.resumed_from_step:
            epoch = min(event.resumed_from_step // event.steps_per_epoch + 1, event.epochs)
            where = QCoreApplication.translate(
                "RunProgress", "Resumed after step {0:,} · epoch {1}/{2}").format(
                event.resumed_from_step, epoch, event.epochs)
        self.label.setText(QCoreApplication.translate(
            "RunProgress", "{0} · training on {1} · {2:,} training and {3:,} validation "
            "samples").format(where, event.device, event.train_samples, event.val_samples))

    def show_batch(self, event: BatchEnd) -> None:
        self._last_batch = event
        self.bar.setValue(event.step)
        if self._paused:
            self.show_paused()
            return
        seconds_left = event.elapsed_s * (event.total_steps - event.step) / event.step
        parts = [QCoreApplication.translate("RunProgress", "Epoch {0}/{1}").format(
                     event.epoch, self._epochs),
                 QCoreApplication.translate("RunProgress", "step {0:,}/{1:,}").format(
                     event.step, event.total_steps),
                 QCoreApplication.translate("RunProgress", "{0} left").format(
                     format_duration(seconds_left))]
        if math.isfinite(event.samples_per_s):  # a resumed run's history has no speed
            speed = QCoreApplication.translate("RunProgress", "{0:,.0f} samples/s").format(
                event.samples_per_s)
            if math.isfinite(event.tokens_per_s):  # a text model's: tokens, padding left out
                speed += QCoreApplication.translate("RunProgress", " ({0:,.0f} tokens/s)").format(
                    event.tokens_per_s)
            parts.insert(2, speed)
        if self._last_epoch is not None:
            parts.append(format_scores(self._last_epoch.val_metric, None, self._metric))
        self.label.setText(" · ".join(parts))

    def show_epoch(self, event: EpochEnd) -> None:
        self._last_epoch = event

    def show_stopping(self) -> None:
        self._paused = False
        self.label.setText(QCoreApplication.translate(
            "RunProgress", "Stopping after this batch and saving a checkpoint…"))

    def show_paused(self) -> None:
        self._paused = True
        where = QCoreApplication.translate("RunProgress", "the current batch")
        if self._last_batch is not None:
            where = QCoreApplication.translate(
                "RunProgress", "step {0:,}/{1:,} (epoch {2}/{3})").format(
                self._last_batch.step, self._last_batch.total_steps, self._last_batch.epoch,
                self._epochs)
        self.label.setText(QCoreApplication.translate(
            "RunProgress", "Paused after {0} · Continue goes on; Stop saves and ends").format(
            where))

    def show_continuing(self) -> None:
        self._paused = False
        self.label.setText(QCoreApplication.translate("RunProgress", "Continuing…"))

    def show_finished(self, summary: dict) -> None:
        status = summary["status"]
        if summary.get("run_dir", "") is None:  # stopped before its first step (core.train.loop)
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
            self.label.setText(QCoreApplication.translate(
                "RunProgress", "Stopped before training began; no run folder was kept."))
            return
        if status == "completed":
            self.bar.setValue(self.bar.maximum())
        done = summary.get("epochs_completed", 0)
        scores = format_scores(summary.get("final_val_metric"), summary.get("final_val_loss"),
                               summary.get("metric", "accuracy"))
        outcome = {"completed": QCoreApplication.translate("RunProgress", "Completed"),
                   "stopped": QCoreApplication.translate("RunProgress", "Stopped"),
                   "interrupted": QCoreApplication.translate("RunProgress", "Interrupted"),
                   }.get(status, status.capitalize())
        text = QCoreApplication.translate(
            "RunProgress", "{0} after {1} of {2} epochs in {3}").format(
            outcome, done, self._epochs, format_duration(summary.get("duration_s") or 0))
        if summary.get("stopped_early"):
            text += QCoreApplication.translate(
                "RunProgress", " · stopped early: no better {0} lately; the weights of epoch {1} "
                "kept").format(summary.get("best_metric", "val_loss"), summary.get("best_epoch"))
        if scores:
            text += f" · {scores}"
        if status in ("stopped", "interrupted"):
            text += QCoreApplication.translate("RunProgress",
                                               " · File > Resume run… continues it")
        self.label.setText(text)

    def show_failed(self) -> None:
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.label.setText(QCoreApplication.translate(
            "RunProgress", "The run did not finish; see the message below."))

    def show_refused(self) -> None:
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.label.setText(QCoreApplication.translate(
            "RunProgress", "The run did not start; see the message below."))
