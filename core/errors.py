"""The two kinds of failure a user can meet, mapped to the command line's exit codes."""


class BadInput(Exception):
    """The user gave something we cannot use (config, path, data, checkpoint).

    The message is shown as is: one line that says what is wrong and how to fix it.
    Exit code 2 on the command line.
    """

    exit_code = 2


class TrainingFailed(Exception):
    """Training started but could not go on (non-finite loss, out of memory, model error).

    Exit code 1 on the command line. `details` holds a traceback when there is one.
    """

    exit_code = 1

    def __init__(self, message: str = "", details: str = "") -> None:
        super().__init__(message)
        self.details = details
