"""The kinds of failure a user can meet, each mapped to the command line's exit code.

Every one carries a message that is shown as is: one line that says what went wrong and
how to fix it. `TrainDeskError` is their common base, for code that shows any of them
the same way (the window's background jobs, the command line).
"""


class TrainDeskError(Exception):
    """A failure explained to the user. `exit_code` is how the command line ends;
    `details` holds a traceback when there is one."""

    exit_code = 1

    def __init__(self, message: str = "", details: str = "") -> None:
        super().__init__(message)
        self.details = details


class BadInput(TrainDeskError):
    """The user gave something we cannot use (config, path, data, checkpoint).

    Exit code 2 on the command line.
    """

    exit_code = 2


class TrainingFailed(TrainDeskError):
    """Training started but could not go on (non-finite loss, out of memory, model error).

    Exit code 1 on the command line.
    """

    exit_code = 1


class ExportFailed(TrainDeskError):
    """An export could not be made: the exporter could not handle the model, or the
    exported file does not reproduce the trained model's outputs.

    Exit code 1 on the command line, as for a failed training.
    """

    exit_code = 1
