"""Entry point of the frozen application: PyInstaller runs this file as `__main__`.

It does what only a frozen program needs and then hands over to `gui.launcher.main`, the
same `traindesk` command a pip install gets. In the frozen app `self-test` first checks the
bundle itself (see bundle_check.py), so an installer's self-test also catches a native
piece that PyInstaller left out.
"""

import multiprocessing
import os
import sys

# Must run before anything else: a data-loader worker started with "spawn" (Windows, macOS)
# is this same executable relaunched, and here it turns into the worker instead of an app.
multiprocessing.freeze_support()

# torch.compile needs a C compiler and Python sources at run time, which a bundle does not
# have; if it is ever called, it runs the model uncompiled rather than failing.
os.environ.setdefault("TORCHDYNAMO_DISABLE", "1")


def main() -> int:
    from gui.launcher import main as launcher_main

    if sys.argv[1:2] == ["self-test"]:
        from bundle_check import check_bundle

        if check_bundle() != 0:
            return 1
    return launcher_main()


if __name__ == "__main__":
    sys.exit(main())
