"""DeviceProbe: imports torch off the GUI thread, once the window is up, and lists the
training devices. Importing torch takes seconds; the window must not wait for it."""

from __future__ import annotations

import traceback

from PySide6.QtCore import QThread, Signal

from core.device import available_devices


class DeviceProbe(QThread):
    devices_found = Signal(object)  # list[str], "auto" and "cpu" first
    failed = Signal(str, str)  # one readable line, traceback

    def run(self) -> None:
        try:
            devices = available_devices()
        except Exception as exc:  # a broken PyTorch install: say so in the window
            self.failed.emit(f"PyTorch could not be loaded ({type(exc).__name__}: {exc}); "
                             "training will not work until it is reinstalled",
                             traceback.format_exc())
            return
        self.devices_found.emit(devices)
