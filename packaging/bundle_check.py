"""Checks of the frozen bundle that `TrainDesk self-test` runs before its training test.

Each one covers a native piece that PyInstaller can leave out without any error at build
time: torchvision's operator library (current torchvision names it `_C_stable`, not the
`_C` the stock hook expects), the bundled datasets' files, a data-loader worker started the
way Windows and macOS start them, the Qt platform plugins and the SVG icon engine.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

# Platform plugins the bundle must carry: offscreen for the self-test, and the desktop's own.
_app = None

PLATFORM_PLUGINS = {
    "linux": ("offscreen", "xcb"),
    "win32": ("offscreen", "windows"),
    "darwin": ("offscreen", "cocoa"),
}


def check_bundle() -> int:
    """Print one line; 0 when every check passed, 1 (with the reason on stderr) otherwise."""
    checks = [_torchvision_ops, _digits_data, _spawned_worker, _qt_plugins_and_icon]
    passed = []
    for check in checks:
        try:
            passed.append(check())
        except Exception as exc:
            traceback.print_exc()
            print(f"error: bundle check failed: {check.__name__.strip('_')}: "
                  f"{type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    print("bundle check passed: " + "; ".join(passed), flush=True)
    return 0


def _torchvision_ops() -> str:
    import torch
    from torchvision.extension import _has_ops
    from torchvision.ops import nms

    if not _has_ops():
        raise RuntimeError("torchvision's native operators did not load (_C_stable missing?)")
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [20.0, 20.0, 30.0, 30.0]])
    kept = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5).tolist()
    if kept != [0, 2]:
        raise RuntimeError(f"torchvision.ops.nms kept {kept}, expected [0, 2]")
    return "torchvision ops (nms)"


def _digits_data() -> str:
    from core.data.bundled import FOLDER, load_digits

    images, digits = load_digits()
    if images.shape != (1797, 8, 8) or len(set(digits.tolist())) != 10:
        raise RuntimeError(f"the bundled digits loaded as {images.shape}")
    if not (FOLDER / "LICENSE").is_file():
        raise RuntimeError(f"the bundled datasets' LICENSE is missing from {FOLDER}")
    return "bundled digits data"


def _spawned_worker() -> str:
    import tempfile

    import numpy as np
    import torch
    from PIL import Image

    from core.data.streaming import folder_splits

    # A streamed image folder's worker is started with "spawn", which relaunches this
    # executable; without multiprocessing.freeze_support() in the entry point the child
    # opens a second app, and without core.data.streaming in the bundle it cannot decode.
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / f"{n}.png" for n in range(4)]
        for n, path in enumerate(paths):
            Image.fromarray(np.full((6, 6, 3), 60 * n, np.uint8)).save(path)
        files, _ = folder_splits(paths, [], 4, "RGB", workers=1, roots=(folder, folder))
        try:
            total = sum(int(images[:, 0, 0, 0].sum())
                        for images, _ in files.batches([torch.arange(4)]))
        finally:
            files.close()
    if total != 360:
        raise RuntimeError(f"a spawned worker read pixels adding up to {total}, not 360")
    return "image folder read by a data-loader worker (spawn)"


def _qt_plugins_and_icon() -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QLibraryInfo
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    platforms = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
    found = {p.name for p in platforms.iterdir()} if platforms.is_dir() else set()
    wanted = PLATFORM_PLUGINS.get(sys.platform, ("offscreen",))
    missing = [w for w in wanted if not any(w in name.lower() for name in found)]
    if missing:
        raise RuntimeError(f"Qt platform plugin(s) {missing} not in {platforms}")

    from resources import resource_path

    global _app  # the self-test that follows reuses this application object
    _app = QApplication.instance() or QApplication([])
    icon = QIcon(str(resource_path("traindesk.svg")))
    if icon.pixmap(64, 64).isNull():
        raise RuntimeError("the SVG app icon did not render (Qt's SVG icon engine missing?)")
    return f"Qt platforms {', '.join(wanted)}; SVG icon"
