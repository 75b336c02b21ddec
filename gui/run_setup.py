"""The run setup panel: pickers for model, data, optimizer, schedule and loss with forms
generated from the catalogues, plus training and fine-tuning settings. It reads and
writes a RunConfig, the same description the command line and run folders use."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QComboBox, QGroupBox, QLabel, QVBoxLayout, QWidget

from core.catalog import Catalogue, load_all
from core.config import (COMPONENT_SECTIONS, FINETUNE_PARAMS, TRAINING_PARAMS, Component,
                         RunConfig)
from gui.param_form import ChoiceField, ParamForm

SECTION_TITLES = {
    "model": "Model", "data": "Data", "optimizer": "Optimizer",
    "scheduler": "Learning-rate schedule", "loss": "Loss",
}
# Offered before torch is loaded; the real list replaces it once torch is in.
INITIAL_DEVICES = ("auto", "cpu")


class ComponentPicker(QGroupBox):
    """Choose one catalogue entry (a model, a dataset, ...) and edit its parameters.

    Each entry keeps its own form, so switching away and back keeps what was typed.
    """

    def __init__(self, section: str, catalogue: Catalogue) -> None:
        super().__init__(SECTION_TITLES[section])
        self.section = section
        self.combo = QComboBox()
        self.help_label = QLabel()
        self.help_label.setWordWrap(True)
        self.help_label.setStyleSheet("QLabel { color: palette(placeholder-text); }"
                                      " QLabel:disabled { color: palette(mid); }")
        self.forms: dict[str, ParamForm] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(self.combo)
        layout.addWidget(self.help_label)
        for entry in catalogue.entries():
            self.combo.addItem(entry.name, entry.help)
            form = ParamForm(entry.params, section)
            form.setVisible(False)
            layout.addWidget(form)
            self.forms[entry.name] = form
        self.combo.currentIndexChanged.connect(self._show_current_entry)
        self._show_current_entry()

    def _show_current_entry(self) -> None:
        name = self.combo.currentText()
        for entry_name, form in self.forms.items():
            form.setVisible(entry_name == name)
        self.help_label.setText(self.combo.currentData())
        self.combo.setToolTip(self.combo.currentData())

    def component(self) -> dict[str, Any]:
        name = self.combo.currentText()
        return {"name": name, **self.forms[name].values()}

    def set_component(self, component: Component) -> None:
        self.forms[component.name].set_values(component.params)
        self.combo.setCurrentText(component.name)


class RunSetupPanel(QWidget):
    def __init__(self) -> None:
        super().__init__()
        catalogues = load_all()
        self.pickers = {section: ComponentPicker(section, catalogues[section])
                        for section in COMPONENT_SECTIONS}
        self.device_field = ChoiceField(INITIAL_DEVICES)
        self.training_form = ParamForm(TRAINING_PARAMS, "training",
                                       {"device": self.device_field})
        self.finetune_form = ParamForm(FINETUNE_PARAMS, "finetune")
        layout = QVBoxLayout(self)
        for section in ("model", "data"):
            layout.addWidget(self.pickers[section])
        layout.addWidget(_group("Training", self.training_form))
        for section in ("optimizer", "scheduler", "loss"):
            layout.addWidget(self.pickers[section])
        layout.addWidget(_group("Fine-tuning", self.finetune_form))
        layout.addStretch(1)
        self._align_labels()
        self.set_config(RunConfig.from_dict({}))  # every default filled in

    def _align_labels(self) -> None:
        """One label width for every form, so the fields line up from group to group."""
        forms = [form for picker in self.pickers.values() for form in picker.forms.values()]
        labels = [label for form in (*forms, self.training_form, self.finetune_form)
                  for label in form.labels]
        width = max(label.sizeHint().width() for label in labels)
        for label in labels:
            label.setMinimumWidth(width)

    def raw_config(self) -> dict[str, Any]:
        """The settings as a run file would hold them; BadInput for a list that cannot be read."""
        raw = {section: picker.component() for section, picker in self.pickers.items()}
        raw["training"] = self.training_form.values()
        raw["finetune"] = self.finetune_form.values()
        return raw

    def config(self) -> RunConfig:
        """The checked RunConfig; BadInput names the setting that is wrong."""
        return RunConfig.from_dict(self.raw_config())

    def set_config(self, config: RunConfig) -> None:
        for section, picker in self.pickers.items():
            picker.set_component(getattr(config, section))
        raw = config.to_dict()
        self.training_form.set_values(raw["training"])
        self.finetune_form.set_values(raw["finetune"])

    def set_devices(self, names: list[str]) -> None:
        """Offer these devices, keeping the current choice."""
        current = self.device_field.config_value()
        self.device_field.clear()
        self.device_field.addItems(names)
        self.device_field.show_value(current)


def _group(title: str, form: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    QVBoxLayout(box).addWidget(form)
    return box
