"""The `traindesk` command. Opens the window, runs the self-test, or hands the headless
commands (train, catalog) to core.cli without ever importing Qt."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "self-test":
        from gui.selftest import run_self_test

        return run_self_test()
    if argv:
        from core.cli import main as cli_main

        return cli_main(argv)
    from gui.app import run_app

    return run_app()


if __name__ == "__main__":
    sys.exit(main())
