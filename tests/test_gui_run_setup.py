"""The run setup panel: forms generated from the catalogues, and a RunConfig that goes
form -> config -> form -> run file -> form unchanged."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from core.catalog import CATALOGUES
from core.config import RunConfig
from gui import param_form
from gui.main_window import MainWindow
from gui.run_setup import RunSetupPanel

FIELD_FOR_KIND = {
    "int": param_form.IntField, "float": param_form.FloatField, "bool": param_form.BoolField,
    "choice": param_form.ChoiceField, "str": param_form.TextField,
    "path": param_form.PathField, "dir": param_form.PathField, "int_list": param_form.ListField,
    "str_list": param_form.ListField, "float_map": param_form.MapField,
}

# Every section away from its defaults, including a seed beyond 32 bits and a learning
# rate that needs scientific notation.
CUSTOM_RUN = {
    "model": {"name": "mlp", "hidden_sizes": [64, 32], "activation": "tanh", "dropout": 0.25},
    "data": {"name": "digits", "val_split": 0.25, "classes": [1, 2, 3]},
    "optimizer": {"name": "sgd", "lr": 3e-05, "momentum": 0.5, "nesterov": True,
                  "weight_decay": 0.0001},
    "scheduler": {"name": "step", "step_epochs": 3, "gamma": 0.5},
    "loss": {"name": "cross_entropy", "label_smoothing": 0.1},
    "training": {"epochs": 7, "batch_size": 32, "device": "cpu", "seed": 4_000_000_000},
    "finetune": {"init_from": "weights/start.pt", "freeze": ["fc1", "fc2"]},
}


def test_every_catalogue_entry_gets_a_generated_form(qtbot):
    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    for section, catalogue in CATALOGUES.items():
        picker = panel.pickers[section]
        assert [picker.combo.itemText(i) for i in range(picker.combo.count())] == \
            catalogue.names()
        for entry in catalogue.entries():
            form = picker.forms[entry.name]
            assert list(form.fields) == [p.name for p in entry.params]
            for param in entry.params:
                field = form.fields[param.name]
                expected = param_form.ColumnField if param.column_of \
                    else FIELD_FOR_KIND[param.kind]
                assert type(field) is expected, (entry.name, param.name)
                assert field.toolTip().startswith(param.help)
                assert field.config_value() == param.default
                if param.kind in ("int", "float") and param.minimum is not None:
                    assert field.minimum() == param.minimum
                if param.kind in ("int", "float") and param.maximum is not None:
                    assert field.maximum() == param.maximum


def test_choosing_an_entry_shows_only_its_form(qtbot):
    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    panel.show()
    picker = panel.pickers["model"]
    picker.combo.setCurrentIndex(picker.combo.findText("mlp"))
    assert picker.forms["mlp"].isVisible() and not picker.forms["simple_cnn"].isVisible()
    assert picker.help_label.text() == CATALOGUES["model"].get("mlp").help
    assert panel.config().model.name == "mlp"


def test_panel_gives_back_the_config_it_was_given(qtbot):
    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    config = RunConfig.from_dict(CUSTOM_RUN)
    panel.set_config(config)
    assert panel.config() == config
    assert panel.config().to_toml() == config.to_toml()


def test_new_panel_holds_the_default_config(qtbot):
    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    assert panel.config() == RunConfig.from_dict({})


def test_learning_rate_can_be_typed_in_scientific_notation(qtbot):
    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    lr = panel.pickers["optimizer"].forms["adam"].fields["lr"]
    lr.lineEdit().selectAll()
    qtbot.keyClicks(lr, "3e-4")
    qtbot.keyClick(lr, Qt.Key.Key_Return)
    assert panel.config().optimizer.params["lr"] == 3e-4
    assert lr.text() == "0.0003"


def test_lists_are_typed_with_commas(qtbot):
    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    model = panel.pickers["model"]
    model.combo.setCurrentIndex(model.combo.findText("mlp"))
    sizes = model.forms["mlp"].fields["hidden_sizes"]
    sizes.clear()
    qtbot.keyClicks(sizes, "512, 64,32")
    assert panel.config().model.params["hidden_sizes"] == [512, 64, 32]


def test_save_and_open_a_run_file_through_the_file_menu(qtbot, tmp_path, monkeypatch):
    window = MainWindow(runs_dir=tmp_path / "runs")
    qtbot.addWidget(window)
    config = RunConfig.from_dict(CUSTOM_RUN)
    window.setup_panel.set_config(config)
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *args, **kwargs: (str(tmp_path / "my-run"), ""))
    window.save_action.trigger()
    saved = tmp_path / "my-run.toml"
    assert saved.read_text(encoding="utf-8") == config.to_toml()

    window.setup_panel.set_config(RunConfig.from_dict({}))
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *args, **kwargs: (str(saved), ""))
    window.open_action.trigger()
    # A relative file setting is read against the run file's folder, as the command line
    # reads it, and shown absolute from then on.
    config.finetune.init_from = str(tmp_path / config.finetune.init_from)
    assert window.setup_panel.config() == config
    assert window.message_bar.isHidden()


def test_an_invalid_run_file_is_reported_and_leaves_the_form_alone(qtbot, tmp_path,
                                                                   monkeypatch):
    window = MainWindow(runs_dir=tmp_path / "runs")
    qtbot.addWidget(window)
    before = window.setup_panel.config()
    bad = tmp_path / "bad.toml"
    bad.write_text('[model]\nname = "resnet9000"\n', encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(bad), ""))
    window.open_action.trigger()
    assert not window.message_bar.isHidden()
    assert "resnet9000" in window.message_bar.text()
    assert "simple_cnn" in window.message_bar.text()  # it lists the accepted names
    assert window.setup_panel.config() == before


def test_a_zero_that_means_auto_reads_auto(qtbot):
    from gui.run_setup import RunSetupPanel

    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    threads = panel.training_form.fields["threads"]
    assert threads.value() == 0 and threads.text() == "auto"
    threads.setValue(2)
    assert panel.config().training.threads == 2


def test_picking_a_dataset_switches_a_loss_of_the_other_task(qtbot):
    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    data, loss = panel.pickers["data"].combo, panel.pickers["loss"].combo
    data.setCurrentText("diabetes")
    assert loss.currentText() == "mse"  # core.train.losses.loss_for_task, as the CLI
    loss.setCurrentText("l1")
    data.setCurrentText("csv")  # its task is read from the file: the loss is left alone
    assert loss.currentText() == "l1"
    data.setCurrentText("breast_cancer")
    assert loss.currentText() == "cross_entropy"
    loss.setCurrentText("bce_with_logits")
    data.setCurrentText("iris")
    assert loss.currentText() == "bce_with_logits"  # a classification loss for classes
    assert panel.config().loss.name == "bce_with_logits"
