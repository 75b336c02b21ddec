"""The window's learning-rate finder: the button beside the optimizer runs the range test
on the settings on screen, plots it, and one click puts the suggestion into lr."""

from limits import HANG_MS

from gui.run_setup import RunSetupPanel


def test_the_suggested_lr_goes_into_the_lr_field_with_one_click(qtbot):
    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    panel.set_config(panel.config().with_overrides([
        "model.name=mlp", "model.hidden_sizes=[32]", "training.device=cpu",
        "optimizer.name=sgd", "optimizer.lr=0.5"]))
    panel.lr_find_button.click()
    dialog = panel.lr_find_dialog
    qtbot.waitUntil(lambda: dialog.finding is not None, timeout=HANG_MS)
    x, y = dialog.curve.getData()
    assert len(x) == len(dialog.finding.lrs) > 50
    assert dialog.use_button.isEnabled() and dialog.marker.isVisible()
    suggested = dialog.suggested_lr
    dialog.use_button.click()
    lr = panel.config().optimizer.params["lr"]
    assert lr == float(f"{suggested:.3g}") and lr != 0.5
    assert not dialog.isVisible()
    panel.close_lr_finder()
