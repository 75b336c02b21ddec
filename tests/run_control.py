"""Test helper shared by the trainer tests: a RunControl that stops after N steps."""

from core.control import RunControl


class StopAfter(RunControl):
    """Asks for a stop once `steps` optimisation steps are done (as a GUI button would)."""

    def __init__(self, steps: int) -> None:
        super().__init__()
        self.steps, self.calls = steps, 0

    def checkpoint(self, before_pause=None) -> None:
        self.calls += 1
        if self.calls > self.steps:
            self.stop()
        super().checkpoint(before_pause)
