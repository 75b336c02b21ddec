"""Fine-tuning settings left over from another model or dataset (issue 13, finding 5).

Start weights from a digits CNN or a frozen "conv1" stop fitting as soon as the user picks
another model or dataset; Start would then refuse the run. Whenever the settings change,
the model is built in the background (as the Layers tab builds it) and the [finetune]
settings are checked as the trainer checks them (core.finetune); those that no longer fit
are shown at once in the window, with one "Fix" button that resets exactly them.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject, QTimer

from core.rng import holding_global_rng
from core.config import FinetuneSettings, RunConfig
from core.errors import BadInput
from gui.background import runner
from gui.message_bar import MessageBar

NAME_SETTINGS = ("freeze", "train_only", "lr_multipliers", "lora_targets")


@holding_global_rng
def settings_that_do_not_fit(config: RunConfig) -> dict[str, str]:
    """{setting: the trainer's message} for each [finetune] setting that does not fit
    `config`'s model; empty when all fit (or none is set). Builds the model on its data."""
    finetune = config.finetune
    named = [setting for setting in NAME_SETTINGS if getattr(finetune, setting)]
    if not named and not finetune.init_from:
        return {}  # nothing to check: no need to load the data
    from core.catalog import DATASETS
    from core.finetune.names import check_names
    from core.finetune.weights import load_initial_weights
    from core.models.build import build_model

    data = DATASETS.get(config.data.name).build(config.data.params, config.training.seed)
    model, _ = build_model(config.model.name, config.model.params, data, config.loss.name)
    problems = {}
    for setting in named:
        try:
            check_names(model, getattr(finetune, setting), setting)
        except BadInput as exc:
            problems[setting] = str(exc)
    if finetune.init_from:
        try:
            load_initial_weights(model, finetune.init_from, finetune.load_matching_only)
        except BadInput as exc:
            problems["init_from"] = str(exc)
    return problems


class LeftoverFinetuneCheck(QObject):
    """Watches the run setup and shows leftover [finetune] settings in `bar`, whose
    button resets them to their defaults. Checks only once torch is loaded."""

    def __init__(self, setup_panel, bar: MessageBar) -> None:
        super().__init__(bar)
        self.setup_panel, self.bar = setup_panel, bar
        self.problems: dict[str, str] = {}
        self._torch_ready = False
        bar.details_button.setText(QCoreApplication.translate("LeftoverFinetuneCheck", "Fix"))
        bar.details_button.clicked.disconnect()
        bar.details_button.clicked.connect(self.fix)
        self._timer = QTimer(self, singleShot=True, interval=150)  # one check per burst of edits
        self._timer.timeout.connect(self.check)
        setup_panel.layers_settings_changed.connect(self._check_soon)
        # What the Layers panel does not follow, yet decides whether the settings fit:
        fields = setup_panel.finetune_form.fields
        setup_panel.init_from_field.line_edit.textChanged.connect(self._check_soon)
        fields["load_matching_only"].toggled.connect(self._check_soon)
        fields["lr_multipliers"].textChanged.connect(self._check_soon)

    def _check_soon(self, *_) -> None:
        self._timer.start()  # not start(the signal's value), which would set the interval

    def set_torch_ready(self) -> None:
        self._torch_ready = True
        self.check()

    def check(self) -> None:
        if not self._torch_ready:
            return
        try:
            config = self.setup_panel.config()
        except BadInput:  # a setting the form cannot read: Start says which
            self._show({})
            return
        from core.catalog import DATASETS
        from core.models.build import input_problem

        gives = DATASETS.get(config.data.name).extra.get("gives", "")
        if input_problem(config.model.name, gives):
            self._show({})  # the model list greys this model, saying why
            return
        runner().submit(self, lambda: settings_that_do_not_fit(config), self._show,
                        lambda message, details: self._show({}), name="leftovers")

    def _show(self, problems: dict[str, str]) -> None:
        """Show what no longer fits; a model that cannot take the data is the Layers tab's
        to explain, so a failed check shows nothing here."""
        self.problems = problems
        if not problems:
            self.bar.clear()
            return
        self.bar.show_error(QCoreApplication.translate(
            "LeftoverFinetuneCheck", "Fine-tuning settings from before no longer fit this "
            "model: {0}. Fix resets them.").format("; ".join(problems.values())))
        self.bar.details_button.show()

    def fix(self) -> None:
        """Reset exactly the settings that no longer fit to their defaults."""
        defaults = FinetuneSettings()
        self.setup_panel.finetune_form.set_values(
            {setting: getattr(defaults, setting) for setting in self.problems})
        self._show({})
        self.check()
