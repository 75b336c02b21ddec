"""The device probe: imports torch off the GUI thread, once the window is up, and lists the
training devices. Importing torch takes seconds; the window must not wait for it."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QCoreApplication, QObject

from core.device import available_devices
from gui.background import Job, runner


def probe_devices(owner: QObject, on_found: Callable[[list], None],
                  on_failed: Callable[[str, str], None]) -> Job:
    """List the devices ("auto" and "cpu" first) on the background runner; a broken PyTorch
    install reaches `on_failed` as one readable line and its traceback."""

    def failed(message: str, details: str) -> None:
        on_failed(QCoreApplication.translate(
            "DeviceProbe", "PyTorch could not be loaded ({0}); training will not work until it "
            "is reinstalled").format(message), details)

    return runner().submit(owner, available_devices, on_found, failed, name="devices")
