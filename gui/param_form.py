"""Forms generated from catalogue parameters: one field per Param, its help as tooltip.

A new model, dataset or optimizer needs no change here: its Params choose the widgets.
Every field has `config_value()` (the value for the run file) and `show_value(value)`.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QWidget)

from core.entries import Param
from core.errors import BadInput
from gui.i18n import translate_help, translate_message

INT32_MAX = 2**31 - 1
# Floats without a bound get this one, far beyond any sensible setting.
FLOAT_LIMIT = 1e12


class IntField(QSpinBox):
    def __init__(self, param: Param) -> None:
        super().__init__()
        self.setRange(int(_bound(param.minimum, -INT32_MAX)), int(_bound(param.maximum, INT32_MAX)))
        if param.zero_means and param.minimum == 0:
            self.setSpecialValueText(param.zero_means)  # the box reads "auto", not "0"

    def config_value(self) -> int:
        return self.value()

    def show_value(self, value: int) -> None:
        self.setValue(value)


class WideIntField(QDoubleSpinBox):
    """A whole number beyond QSpinBox's 32-bit range (seeds go up to 2**32 - 1); doubles hold
    such integers exactly."""

    def __init__(self, param: Param) -> None:
        super().__init__()
        self.setDecimals(0)
        self.setRange(_bound(param.minimum, -2.0**53), _bound(param.maximum, 2.0**53))

    def config_value(self) -> int:
        return int(self.value())

    def show_value(self, value: int) -> None:
        self.setValue(value)


class FloatField(QDoubleSpinBox):
    """A number shown as a run file writes it (0.001, 1e-08) that also accepts scientific
    notation, so small learning rates are neither rounded away nor hard to type."""

    def __init__(self, param: Param) -> None:
        super().__init__()
        self.setDecimals(12)
        self.setRange(_bound(param.minimum, -FLOAT_LIMIT), _bound(param.maximum, FLOAT_LIMIT))
        # Arrows change the value's second digit (0.001 -> 0.0011), or 0.01 from zero.
        default = abs(param.default)
        self.setSingleStep(10 ** (math.floor(math.log10(default)) - 1) if default else 0.01)

    def textFromValue(self, value: float) -> str:
        return f"{value:.12g}"

    def valueFromText(self, text: str) -> float:
        return float(text)

    def validate(self, text: str, pos: int) -> QValidator.State:
        try:
            value = float(text)
        except ValueError:
            # Half-typed numbers such as "1e-" or "-" may still become valid.
            partial = all(c in "0123456789.eE+-" for c in text)
            return QValidator.State.Intermediate if partial else QValidator.State.Invalid
        in_range = self.minimum() <= value <= self.maximum()
        return QValidator.State.Acceptable if in_range else QValidator.State.Intermediate

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
    if kind == "float_map":
        return MapField(param, section)
    return TextField()


def label_text(param: Param) -> str:
    """The setting's name as a label, in the window's language (resources/i18n marks every
    catalogue name and help text under the contexts "Settings" and "Catalogue")."""
    return QCoreApplication.translate("Settings", param.name.replace("_", " "))


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
        self.labels: list[QLabel] = []
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

    def values(self) -> dict[str, Any]:
        """The fields' values as a run file holds them; BadInput for a list that cannot be read."""
        return {name: field.config_value() for name, field in self.fields.items()}

    def set_values(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            self.fields[name].show_value(value)


def _bound(value: float | None, fallback: float) -> float:
    return fallback if value is None else value
