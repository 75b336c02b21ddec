"""Forms generated from catalogue parameters: one field per Param, its help as tooltip.

A new model, dataset or optimizer needs no change here: its Params choose the widgets.
Every field has `config_value()` (the value for the run file) and `show_value(value)`.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QTimer, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QWidget)

from core.data.tables import csv_header
from core.entries import Param
from core.errors import BadInput
from gui.background import runner
from gui.i18n import translate_help, translate_message

INT32_MAX = 2**31 - 1
# Floats without a bound get this one, far beyond any sensible setting.
FLOAT_LIMIT = 1e12


class NumberCheck:
    """What a number box does with a typed value it cannot take (out of range, not a
    number): Qt puts the last good value back without a word (issue 13: lr "1e9" became 1,
    batch size 0 became 64); this says, at the field, what was typed, what is accepted and
    what was kept. The box lets any number be typed, so it can be told about."""

    rejected = Signal(str)  # the sentence to show at the field; "" when a good value is typed

    def _watch_typing(self, param: Param) -> None:
        self._param = param
        self._typed: str | None = None
        self._before_typing = self.value()  # kept when what is typed cannot be used
        self.valueChanged.connect(self._note_value)
        self.lineEdit().textEdited.connect(self._remember_typed)
        self.editingFinished.connect(self._check_typed)

    def _note_value(self) -> None:
        if self._typed is None:  # set by arrows or by the program, not half typed
            self._before_typing = self.value()

    def _remember_typed(self, text: str) -> None:
        self._typed = text

    def _check_typed(self) -> None:
        typed, self._typed = self._typed, None
        if typed is None:
            return
        if _state(self.validate(typed, len(typed))) == QValidator.State.Acceptable:
            self._before_typing = self.value()
            self.rejected.emit("")
            return
        # Qt falls back to the last good value on the way ("1" of "1e9"): the one from
        # before the typing is what is kept.
        self.setValue(self._before_typing)
        self.rejected.emit(QCoreApplication.translate(
            "ParamForm", "“{0}” cannot be used: must be {1}. Kept {2}.").format(
            typed.strip(), translate_message(self._param.describe_range()), self.text()))

    def _number_state(self, text: str, number: float | None) -> QValidator.State:
        """Acceptable in range; Intermediate for any other number or a number half typed
        ("1e-", "-"), so that it can be typed and then reported; Invalid for other text."""
        if number is None:
            partial = all(c in "0123456789.eE+-" for c in text.strip())
            return QValidator.State.Intermediate if partial else QValidator.State.Invalid
        in_range = self.minimum() <= number <= self.maximum()
        return QValidator.State.Acceptable if in_range else QValidator.State.Intermediate


class IntField(NumberCheck, QSpinBox):
    def __init__(self, param: Param) -> None:
        super().__init__()
        self.setRange(int(_bound(param.minimum, -INT32_MAX)), int(_bound(param.maximum, INT32_MAX)))
        if param.zero_means and param.minimum == 0:
            self.setSpecialValueText(param.zero_means)  # the box reads "auto", not "0"
        self._watch_typing(param)

    def validate(self, text: str, pos: int) -> QValidator.State:
        if self.specialValueText() and text == self.specialValueText():
            return QValidator.State.Acceptable
        try:
            number = int(text)
        except ValueError:
            number = None
        return self._number_state(text, number)

    def config_value(self) -> int:
        return self.value()

    def show_value(self, value: int) -> None:
        self.setValue(value)


class WideIntField(NumberCheck, QDoubleSpinBox):
    """A whole number beyond QSpinBox's 32-bit range (seeds go up to 2**32 - 1); doubles hold
    such integers exactly."""

    def __init__(self, param: Param) -> None:
        super().__init__()
        self.setDecimals(0)
        self.setRange(_bound(param.minimum, -2.0**53), _bound(param.maximum, 2.0**53))
        self._watch_typing(param)

    def validate(self, text: str, pos: int) -> QValidator.State:
        try:
            number = int(text)
        except ValueError:
            number = None
        return self._number_state(text, number)

    def config_value(self) -> int:
        return int(self.value())

    def show_value(self, value: int) -> None:
        self.setValue(value)


class FloatField(NumberCheck, QDoubleSpinBox):
    """A number shown as a run file writes it (0.001, 1e-08) that also accepts scientific
    notation, so small learning rates are neither rounded away nor hard to type."""

    def __init__(self, param: Param) -> None:
        super().__init__()
        self.setDecimals(12)
        self.setRange(_bound(param.minimum, -FLOAT_LIMIT), _bound(param.maximum, FLOAT_LIMIT))
        # Arrows change the value's second digit (0.001 -> 0.0011), or 0.01 from zero.
        default = abs(param.default)
        self.setSingleStep(10 ** (math.floor(math.log10(default)) - 1) if default else 0.01)
        self._watch_typing(param)

    def textFromValue(self, value: float) -> str:
        return f"{value:.12g}"

    def valueFromText(self, text: str) -> float:
        return float(text)

    def validate(self, text: str, pos: int) -> QValidator.State:
        try:
            number = float(text)
        except ValueError:
            number = None
        return self._number_state(text, number)

    def config_value(self) -> float:
        return self.value()

    def show_value(self, value: float) -> None:
        self.setValue(value)


class BoolField(QCheckBox):
    def config_value(self) -> bool:
        return self.isChecked()

    def show_value(self, value: bool) -> None:
        self.setChecked(value)


class ChoiceField(QComboBox):
    def __init__(self, choices: tuple[str, ...] | list[str]) -> None:
        super().__init__()
        self.addItems(list(choices))

    def config_value(self) -> str:
        return self.currentText()

    def show_value(self, value: str) -> None:
        # A name not offered here (a device from another machine's run file) is kept, so the
        # trainer can say why it cannot be used rather than the form silently changing it.
        if self.findText(value) < 0:
            self.addItem(value)
        self.setCurrentIndex(self.findText(value))


class ColumnField(QComboBox):
    """A column of a CSV file (a Param with `column_of`): a list of the file's columns once
    its header is read (ParamForm reads it off the GUI thread), typed by hand while the file
    cannot be read. A name the list lacks (from a run file) is kept and shown, never
    replaced."""

    def __init__(self, param: Param) -> None:
        super().__init__()
        self.param = param
        self.columns: list[str] | None = None
        self.set_columns(None)

    def set_columns(self, columns: list[str] | None, problem: str = "") -> None:
        """Offer `columns`; None: the file cannot be read (`problem` says why), so the name
        is typed."""
        value = self.config_value() if self.count() or self.isEditable() else self.param.default
        self.blockSignals(True)
        self.columns = columns
        self.clear()
        self.setEditable(columns is None)
        if columns is None:
            self.lineEdit().setPlaceholderText(QCoreApplication.translate(
                "ColumnField", "type the column's name"))
        else:
            if self.param.default == "":  # the setting's own meaning of empty
                self.addItem(QCoreApplication.translate("ColumnField", "(the last column)"), "")
            for column in columns:
                self.addItem(column, column)
        self.blockSignals(False)
        self.setToolTip(tooltip_text(self.param) + (f"\n{problem}" if problem else ""))
        self.show_value(value)

    def config_value(self) -> str:
        if self.isEditable():
            return self.currentText().strip()
        data = self.currentData()
        return data if isinstance(data, str) else self.currentText()

    def show_value(self, value: str) -> None:
        if self.isEditable():
            self.setEditText(value)
            return
        if self.findData(value) < 0:
            self.addItem(value, value)
        self.setCurrentIndex(self.findData(value))


class TextField(QLineEdit):
    def config_value(self) -> str:
        return self.text().strip()

    def show_value(self, value: str) -> None:
        self.setText(value)


class ListField(QLineEdit):
    """A list typed as "256, 128"; brackets and quotes as in a run file are accepted too."""

    def __init__(self, param: Param, section: str) -> None:
        super().__init__()
        self.param, self.section = param, section
        self.setPlaceholderText(
            QCoreApplication.translate("ListField", "numbers, comma-separated")
            if param.kind == "int_list"
            else QCoreApplication.translate("ListField", "names, comma-separated"))

    def config_value(self) -> list:
        items = [item.strip().strip("\"'") for item in self.text().strip().strip("[]").split(",")]
        items = [item for item in items if item]
        if self.param.kind == "str_list":
            return items
        try:
            return [int(item) for item in items]
        except ValueError:
            raise BadInput(QCoreApplication.translate(
                "ListField", "[{0}] {1} = {2!r}: expected whole numbers separated by commas, "
                "e.g. 256, 128").format(self.section, self.param.name, self.text())) from None

    def show_value(self, value: list) -> None:
        self.setText(", ".join(str(item) for item in value))


class MapField(QLineEdit):
    """Names and numbers typed as "conv1=0.1, conv2=0.1" (a run file's { conv1 = 0.1 })."""

    def __init__(self, param: Param, section: str) -> None:
        super().__init__()
        self.param, self.section = param, section
        self.setPlaceholderText(QCoreApplication.translate(
            "MapField", "name=number, comma-separated"))

    def config_value(self) -> dict:
        values = {}
        for item in self.text().strip().strip("{}").split(","):
            if not item.strip():
                continue
            name, sep, number = item.partition("=")
            try:
                values[name.strip().strip("\"'")] = float(number)
            except ValueError:
                raise BadInput(QCoreApplication.translate(
                    "MapField", "[{0}] {1} = {2!r}: write name=number pairs separated by "
                    "commas, e.g. conv1=0.1, conv2=0.1").format(
                    self.section, self.param.name, self.text())) from None
        return values

    def show_value(self, value: dict) -> None:
        self.setText(", ".join(f"{name}={number:g}" for name, number in value.items()))


class PathField(QWidget):
    """A file path (or with `folder`, a folder path) with a Browse button."""

    def __init__(self, param: Param, folder: bool = False) -> None:
        super().__init__()
        self.param, self.folder = param, folder
        self.line_edit = QLineEdit()
        browse = QPushButton(QCoreApplication.translate("PathField", "Browse…"))
        browse.clicked.connect(self._browse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.line_edit, 1)
        layout.addWidget(browse)

    def _browse(self) -> None:
        title = QCoreApplication.translate("PathField", "Choose {0}").format(
            label_text(self.param))
        if self.folder:
            path = QFileDialog.getExistingDirectory(self, title, self.line_edit.text())
        else:
            path, _ = QFileDialog.getOpenFileName(self, title, self.line_edit.text())
        if path:
            self.line_edit.setText(path)

    def config_value(self) -> str:
        return self.line_edit.text().strip()

    def show_value(self, value: str) -> None:
        self.line_edit.setText(value)


def make_field(param: Param, section: str) -> QWidget:
    """The widget that edits one parameter of `section`, chosen by its kind."""
    kind = param.kind
    if kind == "int":
        wide = max(abs(param.minimum or 0), abs(param.maximum or 0)) > INT32_MAX
        return WideIntField(param) if wide else IntField(param)
    if kind == "float":
        return FloatField(param)
    if kind == "bool":
        return BoolField()
    if kind == "choice":
        return ChoiceField(param.choices)
    if kind in ("path", "dir"):
        return PathField(param, folder=kind == "dir")
    if kind in ("int_list", "str_list"):
        return ListField(param, section)
    if param.column_of:
        return ColumnField(param)
    if kind == "float_map":
        return MapField(param, section)
    return TextField()


def label_text(param: Param) -> str:
    """A field's label in the window's language, with its unit when it has one: "checkpoint
    every (s)", "image size (px)" (resources/i18n marks every catalogue label, help text and
    unit under the contexts "Settings", "Catalogue" and "Units")."""
    words = QCoreApplication.translate("Settings", param.label_words())
    if not param.unit:
        return words
    return QCoreApplication.translate("ParamForm", "{0} ({1})").format(
        words, QCoreApplication.translate("Units", param.unit))


def setting_label(name: str) -> str:
    """A setting named as a run file names it ("checkpoint_every_s"), as the form labels it."""
    param = _params_by_name().get(name)
    return label_text(param) if param is not None \
        else QCoreApplication.translate("Settings", name.replace("_", " "))


@functools.cache
def _params_by_name() -> dict[str, Param]:
    from core.catalog import CATALOGUES
    from core.config import FINETUNE_PARAMS, TRAINING_PARAMS

    params = [*TRAINING_PARAMS, *FINETUNE_PARAMS]
    params += [p for catalogue in CATALOGUES.values() for entry in catalogue.entries()
               for p in entry.params]
    found: dict[str, Param] = {}
    for param in params:
        found.setdefault(param.name, param)
    return found


# The form's group titles for the run file's sections (the window's setup panel uses them).
SECTION_TITLES = {
    "model": QT_TRANSLATE_NOOP("RunSetupPanel", "Model"),
    "data": QT_TRANSLATE_NOOP("RunSetupPanel", "Data"),
    "optimizer": QT_TRANSLATE_NOOP("RunSetupPanel", "Optimizer"),
    "scheduler": QT_TRANSLATE_NOOP("RunSetupPanel", "Learning-rate schedule"),
    "loss": QT_TRANSLATE_NOOP("RunSetupPanel", "Loss"),
    "training": QT_TRANSLATE_NOOP("RunSetupPanel", "Training"),
    "finetune": QT_TRANSLATE_NOOP("RunSetupPanel", "Fine-tuning"),
}
_RUN_FILE_NAME = re.compile(r"`?\[(%s)\](?:\s+([A-Za-z_]\w*))?`?" % "|".join(SECTION_TITLES))


def section_title(section: str) -> str:
    return QCoreApplication.translate("RunSetupPanel", SECTION_TITLES[section])


def speak_form_labels(message: str) -> str:
    """A message written with run-file names (core's errors name "[finetune]
    load_matching_only", which the command line keeps) as the window says them: "Fine-tuning
    › load matching only", the group and the label the user sees on the form."""
    def label(match: re.Match) -> str:
        section, name = match.group(1), match.group(2)
        if name is None:
            return section_title(section)
        return f"{section_title(section)} › {setting_label(name)}"

    return _RUN_FILE_NAME.sub(label, message)


def tooltip_text(param: Param) -> str:
    help_text = translate_help(param.help)
    if param.kind in ("int", "float") and (param.minimum is not None or param.maximum is not None):
        return QCoreApplication.translate("ParamForm", "{0}\nAccepted: {1}.").format(
            help_text, translate_message(param.describe_range()))
    if param.kind == "int_list":
        return QCoreApplication.translate("ParamForm", "{0}\nWhole numbers separated by "
                                                       "commas.").format(help_text)
    if param.kind == "str_list":
        return QCoreApplication.translate("ParamForm", "{0}\nNames separated by commas.").format(
            help_text)
    return help_text


class ParamForm(QWidget):
    """One labelled field per Param of a catalogue entry or settings section."""

    def __init__(self, params: tuple[Param, ...], section: str,
                 custom_fields: dict[str, QWidget] | None = None) -> None:
        super().__init__()
        self.fields: dict[str, QWidget] = {}
        self.section = section
        self.params = {param.name: param for param in params}
        self.labels: list[QLabel] = []
        self.notices: dict[str, QLabel] = {}  # under a number field: what was typed and kept
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        custom_fields = custom_fields or {}
        for param in params:
            field = custom_fields[param.name] if param.name in custom_fields \
                else make_field(param, section)
            field.show_value(param.default)
            field.setToolTip(tooltip_text(param))
            label = QLabel(label_text(param))
            label.setToolTip(tooltip_text(param))
            layout.addRow(label, field)
            self.fields[param.name] = field
            self.labels.append(label)
            if isinstance(field, NumberCheck):
                self.notices[param.name] = notice = _notice_label()
                layout.addRow(notice)
                layout.setRowVisible(notice, False)
                field.rejected.connect(lambda text, notice=notice: self._show_notice(notice, text))
        self._column_timer = QTimer(self, singleShot=True, interval=300)  # once typing stops
        self._column_timer.timeout.connect(self.read_columns)
        for field in self.fields.values():
            if isinstance(field, ColumnField):
                self.fields[field.param.column_of].line_edit.textChanged.connect(
                    self._read_columns_soon)
                if "encoding" in self.fields:
                    self.fields["encoding"].currentIndexChanged.connect(self._read_columns_soon)

    def _read_columns_soon(self, *_) -> None:
        self._column_timer.start()  # not start(the signal's value), which would set the interval

    def read_columns(self) -> None:
        """List the columns of the CSV file the form names in its ColumnFields: its header
        is read off the GUI thread; a file that cannot be read leaves them typed by hand."""
        fields = [f for f in self.fields.values() if isinstance(f, ColumnField)]
        if not fields:
            return
        path_setting = fields[0].param.column_of
        path = self.fields[path_setting].config_value()
        encoding = self.fields["encoding"].config_value() if "encoding" in self.fields \
            else "auto"
        if not path:
            self._show_columns(None, "")
            return
        setting = f"[{self.section}] {path_setting}"
        runner().submit(self, lambda: csv_header(path, setting, encoding), self._show_columns,
                        lambda message, details: self._show_columns(None, message),
                        name="columns")

    def _show_columns(self, columns: list[str] | None, problem: str = "") -> None:
        for field in self.fields.values():
            if isinstance(field, ColumnField):
                field.set_columns(columns, speak_form_labels(translate_message(problem)))

    def _show_notice(self, notice: QLabel, text: str) -> None:
        notice.setText(text)
        self.layout().setRowVisible(notice, bool(text))

    def show_notice(self, name: str, text: str) -> None:
        """A sentence under number field `name` ("" hides it): what was typed and kept, or a
        warning about the value (gui.epochs_check)."""
        self._show_notice(self.notices[name], text)

    def notice_text(self, name: str) -> str:
        notice = self.notices[name]
        return notice.text() if self.layout().isRowVisible(notice) else ""

    def set_row_visible(self, name: str, visible: bool) -> None:
        self.layout().setRowVisible(self.fields[name], visible)

    def is_default(self, name: str) -> bool:
        """Whether field `name` holds its default (a list that cannot be read does not)."""
        try:
            return self.fields[name].config_value() == self.params[name].default
        except BadInput:
            return False

    def values(self) -> dict[str, Any]:
        """The fields' values as a run file holds them; BadInput for a list that cannot be read."""
        return {name: field.config_value() for name, field in self.fields.items()}

    def set_values(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            self.fields[name].show_value(value)


def _notice_label() -> QLabel:
    notice = QLabel()
    notice.setWordWrap(True)
    notice.setObjectName("fieldNotice")
    notice.setStyleSheet("#fieldNotice { color: #8a4b00; }")
    return notice


def _state(validated) -> QValidator.State:
    """The state of a validate() result (PySide returns the state alone or with the text)."""
    return validated[0] if isinstance(validated, tuple) else validated


def _bound(value: float | None, fallback: float) -> float:
    return fallback if value is None else value
