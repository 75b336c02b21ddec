"""The window in Chinese: with the Chinese translators installed no English is left in the
visible widgets (menus, forms, tabs, buttons, tooltips), apart from names; the language
setting is stored and read back."""

from __future__ import annotations

import re

import pytest
from PySide6.QtWidgets import (QAbstractButton, QApplication, QComboBox, QGroupBox, QLabel,
                               QLineEdit, QMenu, QTabWidget, QWidget)

from gui.i18n import choose_language, chosen_language, install_translators

# Names that stay as they are in every language: the product, model, dataset, optimizer and
# setting-value names, formats, units and abbreviations.
NAMES = {
    "TrivialAugment", "TrivialAugmentWide", "RandomResizedCrop", "RandomErasing", "F1",
    "TrainDesk", "PyTorch", "torchrun", "GPU", "CPU", "CUDA", "NVIDIA", "ReLU", "LSTM", "GRU", "CNN",
    "LeNet", "LeCun", "ResNet", "MobileNetV3", "EfficientNet", "ConvNeXt", "Tiny", "Vision",
    "Transformer", "Small", "Large", "MNIST", "Fashion", "Kuzushiji", "CIFAR", "Adam",
    "AdamW", "RMSprop", "Adagrad", "Nesterov", "LoRA", "alpha", "beta", "gamma", "RMSE",
    "MAE", "TensorBoard", "PNG", "SVG", "CSV", "TorchScript", "ONNX", "safetensors",
    "state_dict", "onnxruntime", "OpenCV", "TensorRT", "torchvision", "ImageNet", "torch",
    "hub", "pth", "toml", "Elman", "scikit", "learn", "Ctrl", "Shift", "English", "dropout",
    "Dropout", "bf16", "fp16", "fp32", "auto", "cpu", "cuda", "mps", "none", "file",
    "pretrained", "epoch", "step", "Linear", "Conv2d", "rank", "div_factor", "min_lr",
    "final_div_factor", "step_epochs", "patience", "factor", "best_metric", "val_split",
    "image_size", "channels", "channels_last", "compile", "jit", "load", "path", "best",
    "last", "fine", "coarse", "rgb", "grey", "drop", "fill", "words", "characters", "UTF",
    "BOM", "GBK", "GB18030", "cp1252", "MFCC", "SpecAugment", "WAV", "FLAC", "OGG",
    "soundfile", "mse", "relu", "tanh", "data", "features", "waveform", "rnn", "lstm", "gru",
    "transformer", "official", "by_speaker", "val_speakers", "by_group", "folders",
    "file_name", "random", "balanced", "custom", "class_weights", "weights", "freeze",
    "init_from", "train_only", "lr_multipliers", "unfreeze_every", "lora_targets",
    "precision", "cosine", "exponential", "adam", "sgd", "NLL", "Nesterov", "mfcc",
    "log_mel", "Hz", "dB", "kHz", "encoding", "tokenizer", "logits", "momentum", "Conv",
    "Hugging", "Face", "Hub", "Top", "rsLoRA", "Kalajdzievski", "memory", "stream", "storage",
    "assistant", "QLoRA", "disk",
}
WORD = re.compile(r"[A-Za-z][A-Za-z_]{2,}")


def visible_texts(window: QWidget) -> list[tuple[str, str]]:
    """(where, text) for what a person reads in the window: window title, menus and their
    actions, tab titles, group titles, buttons, labels, placeholders and tooltips."""
    texts = [("title", window.windowTitle())]
    for menu in window.findChildren(QMenu):
        texts.append(("menu", menu.title()))
        texts += [("action", a.text()) for a in menu.actions()]
        texts += [("action tooltip", a.toolTip()) for a in menu.actions()
                  if a.toolTip() != a.text().replace("&", "")]
    for tabs in window.findChildren(QTabWidget):
        texts += [("tab", tabs.tabText(i)) for i in range(tabs.count())]
    for group in window.findChildren(QGroupBox):
        texts.append(("group", group.title()))
    for button in window.findChildren(QAbstractButton):
        texts.append(("button", button.text()))
    for label in window.findChildren(QLabel):
        texts.append(("label", label.text()))
    for edit in window.findChildren(QLineEdit):
        texts.append(("placeholder", edit.placeholderText()))
    for widget in window.findChildren(QWidget):
        if widget.toolTip():
            texts.append((f"tooltip of {type(widget).__name__}", widget.toolTip()))
    return [(where, text) for where, text in texts if text]


def english_left(window: QWidget) -> list[str]:
    """Texts with English words that are not names; HTML tags, paths, file names, numbers,
    `code` (commands, as typed), setting names (snake_case) and `name = value` examples are
    ignored."""
    left = []
    for where, text in visible_texts(window):
        plain = re.sub(r"<[^>]+>|`[^`]*`|\S*[/\\]\S*|\w+\.\w+|\[[^\]]*\]|\{[^}]*\}|&",
                       " ", text)
        words = [w for w in WORD.findall(plain)
                 if w not in NAMES and not w.isupper() and "_" not in w]
        if words:
            left.append(f"{where}: {text!r} ({', '.join(words)})")
    return left


@pytest.fixture
def chinese():
    app = QApplication.instance()
    assert install_translators(app, "zh_CN") == "zh_CN"
    yield
    install_translators(app, "en")


def test_the_window_in_chinese_has_no_english_left(chinese, qtbot, tmp_path):
    from gui.main_window import MainWindow

    win = MainWindow(runs_dir=tmp_path / "runs")
    qtbot.addWidget(win)
    with qtbot.waitExposed(win):  # and the plot views built after the first paint
        win.show()
    assert win.start_button.text() == "开始"
    assert [win.tabs.tabText(i) for i in range(win.tabs.count())] == [
        "训练", "层", "运行记录", "评估", "预测"]
    assert english_left(win) == []
    # Qt's own dialogs: qtbase_zh_CN.qm from the PySide6 wheel
    from PySide6.QtCore import QCoreApplication

    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"
    win.close()


def test_the_window_in_english_is_untouched(qtbot, tmp_path):
    from gui.main_window import MainWindow

    assert install_translators(QApplication.instance(), "en") == "en"
    win = MainWindow(runs_dir=tmp_path / "runs")
    qtbot.addWidget(win)
    assert win.start_button.text() == "Start"
    win.close()


def test_the_language_setting_is_stored(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    import gui.i18n

    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    monkeypatch.setattr(gui.i18n, "settings", lambda: store)
    assert chosen_language() == "auto"
    choose_language("zh_CN")
    assert chosen_language() == "zh_CN"
    store.setValue("language", "klingon")  # a hand-edited settings file
    assert chosen_language() == "auto"


def test_the_view_menu_offers_the_languages(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    import gui.i18n
    from gui.main_window import MainWindow

    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    monkeypatch.setattr(gui.i18n, "settings", lambda: store)
    win = MainWindow(runs_dir=tmp_path / "runs")
    qtbot.addWidget(win)
    actions = win.language_actions.actions()
    assert [a.data() for a in actions] == ["auto", "zh_CN", "en"]
    actions[1].trigger()
    assert chosen_language() == "zh_CN"
    assert "started again" in win.statusBar().currentMessage()
    win.close()


def test_run_statuses_are_named_in_chinese(chinese):
    """The Runs table and the run pickers show a run's status in the window's language."""
    from gui.i18n import RUN_STATUSES, status_text

    assert status_text("completed") == "已完成"
    assert all(status_text(status) != status for status in RUN_STATUSES)
