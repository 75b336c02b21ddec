"""The run setup panel: pickers for model, data, optimizer, schedule and loss with forms
generated from the catalogues, plus training and fine-tuning settings. It reads and
writes a RunConfig, the same description the command line and run folders use.

Which layers train is chosen in the Layers panel: the freeze and train_only fields here
are read-only mirrors of the run file's lists, written through `set_frozen_layers`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QMessageBox, QPushButton, QVBoxLayout, QWidget)

from core.catalog import CATALOGUES
from core.entries import Catalogue
from core.config import (COMPONENT_SECTIONS, FINETUNE_PARAMS, TRAINING_PARAMS, Component,
                         RunConfig)
from core.errors import BadInput
from core.models.build import input_problem
from core.runs.folder import default_runs_dir
from core.train.losses import loss_for_task
from gui.dataset_preview import DataPreviewDialog
from gui.epochs_check import EpochsCheck
from gui.param_form import ChoiceField, ParamForm, section_title, speak_form_labels, tooltip_text
from gui.processes import ProcessesField
from gui.i18n import translate_help, translate_message
from gui.memory_line import MemoryLine
from gui.start_weights import StartWeightsField

if TYPE_CHECKING:
    from gui.lr_find_dialog import LrFindDialog

# Offered before torch is loaded; the real list replaces it once torch is in.
INITIAL_DEVICES = ("auto", "cpu")
LAYER_LISTS = ("freeze", "train_only")  # owned by the Layers panel, mirrored here
FINETUNE_SHOWN_IN_LAYERS = (*LAYER_LISTS, "unfreeze_every", "lora_targets")
# Settings most runs leave alone, shown under "Show advanced settings" (or when a run file
# set them to something other than the default: nothing is set out of sight).
ADVANCED = {
    "training": ("threads", "top_k", "accumulate_steps", "grad_clip", "early_stopping_min_delta",
                 "checkpoint_every_s", "precision", "fast", "tensorboard"),
    "finetune": ("load_matching_only", "lr_multipliers", "unfreeze_every", "lora_targets",
                 "lora_rank", "lora_alpha", "lora_dropout", "lora_rslora", "qlora"),
    "optimizer": ("beta1", "beta2", "alpha", "nesterov", "eps"),
    "data": ("mixup_alpha", "cutmix_alpha", "mix_prob", "crop_scale_min", "crop_scale_max",
             "brightness", "contrast", "saturation", "hue", "trivial_augment", "erasing"),
}
# The signal each kind of field sends when edited, in the order they are looked for.
EDIT_SIGNALS = ("currentTextChanged", "valueChanged", "textChanged", "toggled")


class ComponentPicker(QGroupBox):
    """Choose one catalogue entry (a model, a dataset, ...) and edit its parameters.

    Each entry keeps its own form, so switching away and back keeps what was typed.
    """

    def __init__(self, section: str, catalogue: Catalogue) -> None:
        super().__init__(section_title(section))
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
        self.help_label.setText(translate_help(self.combo.currentData() or ""))
        self.combo.setToolTip(translate_help(self.combo.currentData() or ""))

    def component(self) -> dict[str, Any]:
        name = self.combo.currentText()
        return {"name": name, **self.forms[name].values()}

    def set_component(self, component: Component) -> None:
        self.forms[component.name].set_values(component.params)
        self.combo.setCurrentText(component.name)


class RunSetupPanel(QWidget):
    # The model, the data, the loss or the fine-tuning settings changed (the Layers panel
    # follows).
    layers_settings_changed = Signal()
    layers_requested = Signal()  # "Choose layers…" was clicked

    def __init__(self, runs_dir: Path | None = None) -> None:
        super().__init__()
        catalogues = CATALOGUES
        self.pickers = {section: ComponentPicker(section, catalogues[section])
                        for section in COMPONENT_SECTIONS}
        self.device_field = ChoiceField(INITIAL_DEVICES)
        # how many processes train the run (torchrun): beside the device, not in the run file
        self.processes_field = ProcessesField(self.config, runs_dir or default_runs_dir())
        self.training_form = ParamForm(TRAINING_PARAMS, "training",
                                       {"device": self.device_field})
        self._cuda_found: bool | None = None  # None until the device probe has run
        self.init_from_field = StartWeightsField(runs_dir or default_runs_dir())
        self.finetune_form = ParamForm(FINETUNE_PARAMS, "finetune",
                                       {"init_from": self.init_from_field})
        for name in LAYER_LISTS:
            field = self.finetune_form.fields[name]
            field.setReadOnly(True)
            field.setStyleSheet("QLineEdit { background: palette(window); }")
            field.setPlaceholderText(QCoreApplication.translate(
                "RunSetupPanel", "tick layers in the Layers tab"))
        self.layers_button = QPushButton(QCoreApplication.translate(
            "RunSetupPanel", "Choose layers…"))
        self.layers_button.setToolTip(QCoreApplication.translate(
            "RunSetupPanel", "Tick the layers that train in the Layers tab."))
        self.layers_button.clicked.connect(self.layers_requested)
        self.preview_button = QPushButton(QCoreApplication.translate(
            "RunSetupPanel", "Preview data…"))
        self.preview_button.setToolTip(QCoreApplication.translate(
            "RunSetupPanel", "Show sample images with their labels, the samples per class, or "
            "the first rows of the chosen dataset."))
        self.preview_button.clicked.connect(self.show_data_preview)
        self.preview_dialog: DataPreviewDialog | None = None
        preview_row = QHBoxLayout()
        preview_row.addStretch(1)
        preview_row.addWidget(self.preview_button)
        self.pickers["data"].layout().addLayout(preview_row)
        self.pickers["data"].combo.currentIndexChanged.connect(self._match_loss_to_data)
        self.pickers["data"].combo.currentIndexChanged.connect(self._mark_models_for_data)
        self.lr_find_button = QPushButton(QCoreApplication.translate(
            "RunSetupPanel", "Find lr…"))
        self.lr_find_button.setToolTip(QCoreApplication.translate(
            "RunSetupPanel", "Learning-rate range test: train a copy of this model briefly "
            "while the lr grows, plot the loss against it and suggest an lr. Nothing is "
            "saved."))
        self.lr_find_button.clicked.connect(self.show_lr_finder)
        self.lr_find_dialog: LrFindDialog | None = None
        lr_row = QHBoxLayout()
        lr_row.addStretch(1)
        lr_row.addWidget(self.lr_find_button)
        self.pickers["optimizer"].layout().addLayout(lr_row)
        self.advanced_box = QCheckBox(QCoreApplication.translate(
            "RunSetupPanel", "Show advanced settings"))
        self.advanced_box.setToolTip(QCoreApplication.translate(
            "RunSetupPanel", "Also show the settings most runs leave alone: precision, "
            "checkpoint timing, gradient clipping, LoRA, lr multipliers and more."))
        self.advanced_box.toggled.connect(self._show_advanced)
        layout = QVBoxLayout(self)
        layout.addWidget(self.advanced_box)
        for section in ("model", "data"):
            layout.addWidget(self.pickers[section])
        training = _group(section_title("training"), self.training_form)
        processes_row = QFormLayout()
        self.processes_label = QLabel(QCoreApplication.translate("RunSetupPanel", "processes"))
        processes_row.addRow(self.processes_label, self.processes_field)
        training.layout().addLayout(processes_row)
        self.memory_line = MemoryLine(self.config)  # ≈ what the run needs, of what is free
        training.layout().addWidget(self.memory_line)
        layout.addWidget(training)
        for section in ("optimizer", "scheduler", "loss"):
            layout.addWidget(self.pickers[section])
        finetune = _group(section_title("finetune"),
                          self.finetune_form)
        layers_row = QHBoxLayout()
        layers_row.addStretch(1)
        layers_row.addWidget(self.layers_button)
        finetune.layout().addLayout(layers_row)
        layout.addWidget(finetune)
        layout.addStretch(1)
        self._align_labels()
        self._watch_layers_settings()
        self._watch_memory_settings()
        self.set_config(RunConfig())  # every default filled in
        self._mark_models_for_data()
        self.device_field.currentTextChanged.connect(self._offer_qlora)
        self.finetune_form.fields["qlora"].toggled.connect(self._offer_qlora)
        self._offer_qlora()
        self.epochs_check = EpochsCheck(self, runs_dir or default_runs_dir())

    def _forms(self) -> list[tuple[str, ParamForm]]:
        forms = [(section, form) for section, picker in self.pickers.items()
                 for form in picker.forms.values()]
        return [*forms, ("training", self.training_form), ("finetune", self.finetune_form)]

    def _show_advanced(self) -> None:
        """Advanced rows shown with the box ticked, or when they hold other than the default."""
        shown = self.advanced_box.isChecked()
        for section, form in self._forms():
            for name in ADVANCED.get(section, ()):
                if name in form.fields:
                    form.set_row_visible(name, shown or not form.is_default(name))

    def _watch_layers_settings(self) -> None:
        """Emit layers_settings_changed on any edit of what the Layers panel shows."""
        # The loss counts too: one that wants a single output (bce_with_logits) resizes the head.
        fields = [self.pickers[section].combo for section in ("model", "data", "loss")]
        fields += [field for section in ("model", "data")
                   for form in self.pickers[section].forms.values()
                   for field in form.fields.values()]
        fields += [self.finetune_form.fields[name] for name in FINETUNE_SHOWN_IN_LAYERS]
        for field in fields:
            widget = getattr(field, "line_edit", field)  # a path field edits in its line edit
            names = [name for name in EDIT_SIGNALS if hasattr(widget, name)]
            if not names:
                raise TypeError(f"{type(field).__name__} has none of the edit signals "
                                f"{', '.join(EDIT_SIGNALS)} for the Layers panel to follow")
            getattr(widget, names[0]).connect(self.layers_settings_changed)

    def _watch_memory_settings(self) -> None:
        """Estimate the memory again after any edit: every setting may change it."""
        widgets = [picker.combo for picker in self.pickers.values()]
        widgets += [getattr(field, "line_edit", field) for _, form in self._forms()
                    for field in form.fields.values()]
        for widget in widgets:
            name = next((name for name in EDIT_SIGNALS if hasattr(widget, name)), None)
            if name is not None:
                getattr(widget, name).connect(self.memory_line.settings_changed)

    def _match_loss_to_data(self) -> None:
        """Picking a regression dataset with a classification loss (or the reverse) switches
        the loss to the usual one for the dataset's task (core.train.losses.loss_for_task).
        A csv table's task is known only once its file is read; its loss is left as it is."""
        task = CATALOGUES["data"].get(self.pickers["data"].combo.currentText()).extra.get("task")
        loss = self.pickers["loss"].combo
        loss.setCurrentText(loss_for_task(loss.currentText(), task))

    def _mark_models_for_data(self) -> None:
        """Grey the models that cannot read the chosen data, their tooltip saying why, by the
        trainer's own rule (core.models.build.input_problem). They stay choosable: a
        user may pick the model first and the data after."""
        data = CATALOGUES["data"].get(self.pickers["data"].combo.currentText())
        kind = data.extra.get("gives", "")
        combo = self.pickers["model"].combo
        grey = combo.palette().brush(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        for index in range(combo.count()):
            name = combo.itemText(index)
            tip = translate_help(combo.itemData(index) or "")
            problem = input_problem(name, kind)
            if problem:
                reads = CATALOGUES["model"].get(name).extra.get("reads", ())
                tip = QCoreApplication.translate(
                    "RunSetupPanel", "{0} cannot read {1}, which {2} gives; it takes {3}."
                ).format(name, _kind_words(kind), data.name, QCoreApplication.translate(
                    "RunSetupPanel", " or ").join(_kind_words(k) for k in reads))
            combo.setItemData(index, grey if problem else None, Qt.ItemDataRole.ForegroundRole)
            combo.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)

    def model_fits_data(self, name: str) -> bool:
        """Whether the model list shows model `name` as able to read the chosen data."""
        combo = self.pickers["model"].combo
        return combo.itemData(combo.findText(name), Qt.ItemDataRole.ForegroundRole) is None

    def show_data_preview(self) -> None:
        """Open a preview of the chosen dataset with its current settings (one at a time)."""
        try:
            data = self.pickers["data"].component()
        except BadInput as exc:
            QMessageBox.warning(self, QCoreApplication.translate(
                "RunSetupPanel", "Data preview"), str(exc))
            return
        self.close_data_preview()
        name = data.pop("name")
        self.preview_dialog = DataPreviewDialog(name, data, self.training_form.values()["seed"],
                                                self)
        self.preview_dialog.show()

    def show_lr_finder(self) -> None:
        """Run the range test on the settings on screen; its suggestion goes into lr."""
        from gui.lr_find_dialog import LrFindDialog  # draws with pyqtgraph: not at start-up

        try:
            config = self.config()
        except BadInput as exc:
            QMessageBox.warning(self, QCoreApplication.translate(
                "RunSetupPanel", "Find lr"), str(exc))
            return
        self.close_lr_finder()
        self.lr_find_dialog = LrFindDialog(config, self.set_lr, self)
        self.lr_find_dialog.show()

    def set_lr(self, lr: float) -> None:
        """Put `lr` into the chosen optimizer's lr field."""
        picker = self.pickers["optimizer"]
        picker.forms[picker.combo.currentText()].set_values({"lr": lr})

    def close_lr_finder(self) -> None:
        if self.lr_find_dialog is not None:
            self.lr_find_dialog.close()
            self.lr_find_dialog.deleteLater()
            self.lr_find_dialog = None

    def close_data_preview(self) -> None:
        """Close the preview window, waiting for its loading to end."""
        if self.preview_dialog is not None:
            self.preview_dialog.close()
            self.preview_dialog.deleteLater()
            self.preview_dialog = None

    def set_frozen_layers(self, freeze: list[str]) -> None:
        """Write the Layers panel's choice: [finetune] freeze, and train_only emptied."""
        self.finetune_form.set_values({"freeze": freeze, "train_only": []})

    def set_lora_targets(self, targets: list[str]) -> None:
        """Write the Layers panel's LoRA ticks: [finetune] lora_targets, its row shown."""
        self.finetune_form.set_values({"lora_targets": targets})
        self._show_advanced()

    def _align_labels(self) -> None:
        """One label width for every form, so the fields line up from group to group."""
        forms = [form for picker in self.pickers.values() for form in picker.forms.values()]
        labels = [label for form in (*forms, self.training_form, self.finetune_form)
                  for label in form.labels] + [self.processes_label]
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
        self._show_advanced()

    def set_devices(self, names: list[str]) -> None:
        """Offer these devices, keeping the current choice."""
        current = self.device_field.config_value()
        self.device_field.clear()
        self.device_field.addItems(names)
        self.device_field.show_value(current)
        self.processes_field.set_gpus(sum(name.startswith("cuda:") for name in names))
        self._cuda_found = any(name.startswith("cuda") for name in names)
        self._offer_qlora()

    def qlora_problem(self) -> str:
        """Why the QLoRA box is greyed, in the window's words, or "" when it is offered:
        bitsandbytes missing (told without importing it) or no CUDA GPU for the chosen
        device, by the trainer's own rule (core.finetune.qlora.qlora_problem)."""
        from core.finetune.qlora import bitsandbytes_installed, qlora_problem

        device = self.device_field.config_value()
        if self._cuda_found is None and bitsandbytes_installed() and device not in ("cpu", "mps"):
            return QCoreApplication.translate("RunSetupPanel", "Looking for a CUDA GPU…")
        return speak_form_labels(translate_message(qlora_problem(device, bool(self._cuda_found))))

    def _offer_qlora(self) -> None:
        """Grey the QLoRA box where it cannot train, its tooltip saying what is missing. A
        run file's qlora = true stays ticked and can be unticked (a greyed tick could not
        be): its tooltip says why it cannot run, and so does Start."""
        problem = self.qlora_problem()
        field = self.finetune_form.fields["qlora"]
        field.setEnabled(not problem or field.isChecked())
        tip = problem or tooltip_text(self.finetune_form.params["qlora"])
        field.setToolTip(tip)
        label = self.finetune_form.layout().labelForField(field)
        label.setEnabled(field.isEnabled())
        label.setToolTip(tip)


# What a dataset gives and a model reads, in the model list's tooltips
# (core.models.builders.SAMPLE_KINDS)
KIND_WORDS = {"image": QT_TRANSLATE_NOOP("RunSetupPanel", "images"),
              "table": QT_TRANSLATE_NOOP("RunSetupPanel", "tables"),
              "tokens": QT_TRANSLATE_NOOP("RunSetupPanel", "texts"),
              "audio": QT_TRANSLATE_NOOP("RunSetupPanel", "audio"),
              "instructions": QT_TRANSLATE_NOOP("RunSetupPanel", "prompts and responses")}


def _kind_words(kind: str) -> str:
    return QCoreApplication.translate("RunSetupPanel", KIND_WORDS.get(kind, kind))


def _group(title: str, form: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    QVBoxLayout(box).addWidget(form)
    return box
