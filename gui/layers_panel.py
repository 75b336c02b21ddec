"""The Layers panel: the model's modules as a tree, ticked when they train.

A summary of the model (core.models.summary) is built off the GUI thread whenever the
model or the data changes and the panel is on screen, never before torch is loaded. The
panel's state is the set of trainable parameter names: it is derived from the run's
[finetune] freeze / train_only by the engine's own rule, and a click writes it back as
the shortest `freeze` list (train_only cleared), through `freeze_chosen`.

The LoRA column offers a tick box on every layer LoRA can adapt (the model's plain Linear
and Conv2d layers, core.finetune.lora.lora_candidates); a click writes the ticked layers
back as `[finetune] lora_targets`, through `lora_chosen`.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from core.config import FinetuneSettings, RunConfig
from core.errors import BadInput
from core.models.summary import (Layer, ModelSummary, format_flops, freeze_prefixes, head_layer,
                                parameters_up_to, summarize_model, trainable_parameters)
from gui.background import describe_error, runner

NAME, TYPE, SHAPE, PARAMS, LORA = range(5)
REFRESH_DELAY_MS = 250  # typing a hidden size rebuilds once, after the typing stops
EXPAND_ALL_LIMIT = 60  # rows; a bigger tree opens two levels deep, the rest on a click
COLUMN_PADDING = 24  # pixels beyond each column's widest text, so columns read apart
NAME_ROLE = Qt.ItemDataRole.UserRole  # a row's parameters: the layer's dotted name


class LayersPanel(QWidget):
    """The model's layers as a tree of tick boxes, from a summary built in the background."""

    freeze_chosen = Signal(object)  # list[str]: the new [finetune] freeze, train_only cleared
    lora_chosen = Signal(object)  # list[str]: the new [finetune] lora_targets, in model order

    def __init__(self, config_source: Callable[[], RunConfig]) -> None:
        super().__init__()
        self._config_source = config_source
        self.summary: ModelSummary | None = None
        self.trainable: set[str] = set()
        self._items: dict[str, QTreeWidgetItem] = {}  # checkable rows by dotted name
        self._row_parameters: dict[str, tuple[str, ...]] = {}  # what each such row stands for
        self._lora_items: dict[str, QTreeWidgetItem] = {}  # rows LoRA can adapt, in order
        self._lora_names: set[str] = set()  # the layers LoRA can adapt
        self._summary_key: tuple | None = None
        self._build_error = ""
        self._building: tuple | None = None  # the key of the summary being built
        self._torch_ready = False
        self._updating = False  # set while the panel itself changes check states

        self.title = QLabel()
        self.title.setWordWrap(True)
        self.message = QLabel(QCoreApplication.translate("LayersPanel", "Loading PyTorch…"))
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tree = QTreeWidget()
        # The last, empty column takes the spare width, so the numbers stay by the names.
        self.tree.setHeaderLabels([QCoreApplication.translate(
            "LayersPanel", "Layer"), QCoreApplication.translate(
            "LayersPanel", "Type"), QCoreApplication.translate(
            "LayersPanel", "Output shape"), QCoreApplication.translate(
            "LayersPanel", "Parameters"), QCoreApplication.translate("LayersPanel", "LoRA"), ""])
        self.tree.headerItem().setToolTip(LORA, QCoreApplication.translate(
            "LayersPanel", "Tick the Linear and Conv2d layers to adapt with LoRA: their "
            "weights stay frozen and a small low-rank update trains beside them."))
        self.tree.headerItem().setTextAlignment(PARAMS, Qt.AlignmentFlag.AlignRight
                                                | Qt.AlignmentFlag.AlignVCenter)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.tree.itemChanged.connect(self._on_item_changed)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("QLabel { color: #8a4b00; }")
        self.count_label = QLabel()
        font = self.count_label.font()
        font.setBold(True)
        self.count_label.setFont(font)

        self.freeze_all_button = QPushButton(QCoreApplication.translate(
            "LayersPanel", "Freeze all"))
        self.freeze_all_button.setToolTip(QCoreApplication.translate(
            "LayersPanel", "Untick every layer: no weight changes."))
        self.freeze_all_button.clicked.connect(lambda: self._choose(set()))
        self.unfreeze_all_button = QPushButton(QCoreApplication.translate(
            "LayersPanel", "Unfreeze all"))
        self.unfreeze_all_button.setToolTip(QCoreApplication.translate(
            "LayersPanel", "Tick every layer: train the whole model."))
        self.unfreeze_all_button.clicked.connect(
            lambda: self._choose(set(self.summary.parameter_sizes)))
        self.head_button = QPushButton(QCoreApplication.translate(
            "LayersPanel", "Train only the head"))
        self.head_button.clicked.connect(self.train_only_head)
        self.up_to_button = QPushButton(QCoreApplication.translate(
            "LayersPanel", "Freeze up to selected"))
        self.up_to_button.setToolTip(QCoreApplication.translate(
            "LayersPanel", "Freeze the selected layer and every layer before it; train the "
            "layers after it."))
        self.up_to_button.clicked.connect(self.freeze_up_to_selected)
        self.buttons = (self.freeze_all_button, self.unfreeze_all_button, self.head_button,
                        self.up_to_button)

        buttons = QHBoxLayout()
        for button in self.buttons:
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.notes)
        layout.addWidget(self.count_label)
        layout.addLayout(buttons)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self._show_message(QCoreApplication.translate("LayersPanel", "Loading PyTorch…"))

    # Keeping up with the settings

    def set_torch_ready(self) -> None:
        """torch is imported (by the device probe): summaries can be built now."""
        self._torch_ready = True
        self.refresh()

    def set_torch_failed(self, message: str) -> None:
        self._show_message(QCoreApplication.translate(
            "LayersPanel", "The layers cannot be shown: {0}").format(message))

    def settings_changed(self) -> None:
        """The run settings changed: look again shortly if on screen, else when shown."""
        if self.isVisible():
            self._timer.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        """Show the layers of the current settings' model, building its summary if needed."""
        self._timer.stop()
        if not self._torch_ready or not self.isVisible():
            return
        try:
            config = self._config_source()
        except BadInput as exc:
            self._show_message(QCoreApplication.translate(
                "LayersPanel", "Fix this setting to see the layers: {0}").format(exc))
            return
        key = (config.model.name, config.model.params, config.data.name, config.data.params,
               config.loss.name)
        if key == self._building:
            return  # refreshed again when that build ends
        if key != self._summary_key:
            self._start_build(config, key)
        elif self._build_error:
            self._show_message(self._build_error)
        else:
            self._show_finetune(config.finetune)

    @property
    def busy(self) -> bool:
        """A summary is being built, or a look at changed settings is due."""
        return self._building is not None or self._timer.isActive()

    def _start_build(self, config: RunConfig, key: tuple) -> None:
        """Build the summary in the background: the dataset loads, the model runs once. A
        build for older settings still running is superseded; its summary is dropped."""
        self._show_message(QCoreApplication.translate(
            "LayersPanel", "Building {0} on {1}…").format(config.model.name, config.data.name))
        self._building = key

        def build() -> tuple[ModelSummary, tuple]:
            try:
                return summarize_model(config), key
            except BadInput:
                raise
            except Exception as exc:  # a model that breaks on its own data: say so
                raise BadInput(QCoreApplication.translate(
                    "LayersPanel", "the model could not run on this data ({0})").format(
                    describe_error(exc)))

        runner().submit(self, build, self._on_built,
                        lambda message, _details: self._on_build_failed(message, key),
                        name="summary")

    def _on_built(self, built: tuple[ModelSummary, tuple]) -> None:
        summary, key = built
        self.summary, self._summary_key, self._build_error = summary, key, ""
        self._building = None
        self._fill_tree()
        self.refresh()  # the settings may have changed while it was building

    def _on_build_failed(self, message: str, key: tuple) -> None:
        self.summary, self._summary_key = None, key
        self._build_error = f"This model cannot be built: {message}"
        self._building = None
        self.refresh()

    # Showing

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()
        for widget in (self.tree, self.notes, self.count_label, self.title):
            widget.hide()
        for button in self.buttons:
            button.setEnabled(False)

    def _fill_tree(self) -> None:
        summary = self.summary
        self._updating = True
        self.tree.clear()
        self._items, self._row_parameters, self._lora_items = {}, {}, {}
        from core.finetune.lora import lora_candidates  # torch is loaded once a summary is built

        self._lora_names = set(lora_candidates(summary.model)) if summary.model is not None \
            else set()
        if not summary.root.children:  # a model that is a single layer is its own row
            self.tree.addTopLevelItem(self._make_item(summary.root))
        for name in summary.root.own_parameters if summary.root.children else ():
            self.tree.addTopLevelItem(self._parameter_item(name))
        for layer in summary.root.children:
            self.tree.addTopLevelItem(self._make_item(layer))
        self._updating = False
        self.tree.setRootIsDecorated(any(layer.children for layer in summary.root.children))
        if sum(1 for _ in self._all_items()) <= EXPAND_ALL_LIMIT:
            self.tree.expandAll()
        else:
            self.tree.expandToDepth(1)
        for column in (NAME, TYPE, SHAPE, PARAMS, LORA):
            self.tree.resizeColumnToContents(column)
            self.tree.setColumnWidth(column, self.tree.columnWidth(column) + COLUMN_PADDING)
        shape = " × ".join(str(n) for n in summary.input_shape)
        outputs = (f"{summary.num_classes} classes" if summary.task == "classification"
                   else f"{summary.num_classes} output" + ("s" if summary.num_classes > 1 else ""))
        self.title.setText(QCoreApplication.translate(
            "LayersPanel", "<b>{0}</b> on <b>{1}</b>: input {2}, {3}. Ticked layers train; "
            "unticked layers keep their weights (frozen).").format(
            summary.model_name, summary.data_name, shape, outputs))
        if summary.flops_per_sample:
            self.title.setText(self.title.text() + QCoreApplication.translate(
                "LayersPanel", " One sample's forward pass: {0} (a multiply-add counts 2).")
                .format(format_flops(summary.flops_per_sample)))
        head = head_layer(summary)
        self.head_button.setToolTip(f"Train only {head.name}, the last layer with weights; "
                                    "freeze the rest." if head else "")

    def _make_item(self, layer: Layer) -> QTreeWidgetItem:
        item = QTreeWidgetItem([layer.short_name or self.summary.model_name, layer.type_name,
                                _shape(layer.output_shape), _count(layer.total_params)])
        item.setToolTip(NAME, layer.name)
        item.setData(NAME, NAME_ROLE, layer.name)
        item.setTextAlignment(PARAMS, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if layer.parameters:
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            self._items[layer.name] = item
            self._row_parameters[layer.name] = layer.parameters
            if layer.name in self._lora_names:
                item.setCheckState(LORA, Qt.CheckState.Unchecked)
                item.setToolTip(LORA, QCoreApplication.translate(
                    "LayersPanel", "Adapt {0} with LoRA").format(layer.name))
                self._lora_items[layer.name] = item
        else:  # nothing to train: greyed, without a box
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
            for column in (NAME, TYPE, SHAPE, PARAMS):
                item.setForeground(column, self.palette().placeholderText())
            item.setToolTip(NAME, QCoreApplication.translate(
                "LayersPanel", "{0}: no weights, nothing to train").format(layer.name))
        # Weights that sit directly in a module with sub-modules get rows of their own, so
        # every parameter can be ticked on its own row.
        if layer.children:
            for name in layer.own_parameters:
                item.addChild(self._parameter_item(name))
        for child in layer.children:
            item.addChild(self._make_item(child))
        return item

    def _parameter_item(self, name: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([name.rsplit(".", 1)[-1], "Parameter", "",
                                _count(self.summary.parameter_sizes[name])])
        item.setToolTip(NAME, name)
        item.setData(NAME, NAME_ROLE, name)
        item.setTextAlignment(PARAMS, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        self._items[name] = item
        self._row_parameters[name] = (name,)
        return item

    def _show_finetune(self, finetune: FinetuneSettings) -> None:
        notes = []
        self._show_lora_targets(finetune.lora_targets)
        try:
            trainable = trainable_parameters(self.summary, finetune.freeze, finetune.train_only)
        except BadInput as exc:
            notes.append(QCoreApplication.translate(
                "LayersPanel", "{0}. Shown here without what does not fit; tick or untick a "
                "layer to write a new list.").format(exc))
            freeze = self._known(finetune.freeze)
            train_only = [] if freeze else self._known(finetune.train_only)
            trainable = trainable_parameters(self.summary, freeze, train_only)
        if finetune.unfreeze_every:
            notes.append(QCoreApplication.translate(
                "LayersPanel", "Gradual unfreezing is on: every {0} epochs a frozen block is "
                "unfrozen; this is the state at the start.").format(finetune.unfreeze_every))
        if finetune.lora_targets:
            notes.append(QCoreApplication.translate(
                "LayersPanel", "LoRA adapters on {0} add trainable parameters of their own "
                "when the run starts and freeze those layers' weights; they are not counted "
                "here.").format(', '.join(finetune.lora_targets)))
        self.notes.setText("\n".join(notes))
        self.notes.setVisible(bool(notes))
        self.message.hide()
        for widget in (self.title, self.tree, self.count_label):
            widget.show()
        self._show_trainable(trainable)

    def _show_lora_targets(self, targets: list[str]) -> None:
        self._updating = True
        for name, item in self._lora_items.items():
            item.setCheckState(LORA, Qt.CheckState.Checked if name in targets
                               else Qt.CheckState.Unchecked)
        self._updating = False

    def _known(self, prefixes: list[str]) -> list[str]:
        """The prefixes that name something in this model (by the engine's own check)."""
        known = []
        for prefix in prefixes:
            try:
                trainable_parameters(self.summary, [prefix], [])
            except BadInput:
                continue
            known.append(prefix)
        return known

    def _show_trainable(self, trainable: set[str]) -> None:
        self.trainable = trainable
        summary = self.summary
        self._updating = True
        for name, item in self._items.items():
            names = self._row_parameters[name]
            ticked = sum(n in trainable for n in names)
            item.setCheckState(NAME, Qt.CheckState.Checked if ticked == len(names)
                               else Qt.CheckState.Unchecked if ticked == 0
                               else Qt.CheckState.PartiallyChecked)
        self._updating = False
        count, total = summary.count(trainable), summary.total_params
        share = count / total if total else 0.0
        self.count_label.setText(
            QCoreApplication.translate("LayersPanel", "Trainable: {0:,} of {1:,} parameters "
                                                      "({2:.1%})").format(count, total, share)
            + ("" if count else QCoreApplication.translate(
                "LayersPanel", ". Nothing would train: tick a layer.")))
        self._update_buttons()

    def _update_buttons(self) -> None:
        ready = self.summary is not None and not self.tree.isHidden()
        self.freeze_all_button.setEnabled(ready)
        self.unfreeze_all_button.setEnabled(ready)
        self.head_button.setEnabled(ready and head_layer(self.summary) is not None)
        self.up_to_button.setEnabled(ready and self._selected_name() is not None)

    # Choosing

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._updating:
            return
        if column == LORA:
            self.lora_chosen.emit([name for name, row in self._lora_items.items()
                                   if row.checkState(LORA) == Qt.CheckState.Checked])
            return
        if column != NAME:
            return
        names = set(self._row_parameters[item.data(NAME, NAME_ROLE)])
        if item.checkState(NAME) == Qt.CheckState.Unchecked:
            self._choose(self.trainable - names)
        else:
            self._choose(self.trainable | names)

    def train_only_head(self) -> None:
        self._choose(set(head_layer(self.summary).parameters))

    def freeze_up_to_selected(self) -> None:
        name = self._selected_name()
        if name is not None:
            frozen = set(parameters_up_to(self.summary, name))
            self._choose(set(self.summary.parameter_sizes) - frozen)

    def _selected_name(self) -> str | None:
        items = self.tree.selectedItems()
        if not items:
            return None
        name = items[0].data(NAME, NAME_ROLE)
        # A weight's own row stands for the module it sits in.
        return name.rpartition(".")[0] if name in self.summary.parameter_sizes else name

    def _choose(self, trainable: set[str]) -> None:
        self._show_trainable(trainable)
        self.freeze_chosen.emit(freeze_prefixes(self.summary, trainable))

    # For tests and scripts

    def lora_item(self, name: str) -> QTreeWidgetItem | None:
        """The row of a layer LoRA can adapt (its LoRA box in column LORA), else None."""
        return self._lora_items.get(name)

    def item(self, name: str) -> QTreeWidgetItem:
        """The row of the layer (or parameter) with this dotted name."""
        return self._items.get(name) or next(
            item for item in self._all_items() if item.data(NAME, NAME_ROLE) == name)

    def _all_items(self):
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            item = stack.pop()
            yield item
            stack.extend(item.child(i) for i in range(item.childCount()))


def _shape(shape: tuple[int, ...] | None) -> str:
    return "" if shape is None else " × ".join(str(n) for n in shape)


def _count(n: int) -> str:
    return f"{n:,}" if n else "–"
