"""The README's Linux note lists what the pinned Qt's xcb platform plugin really loads
(issue 13, finding 13): each library libqxcb.so and libQt6XcbQpa need, by its Debian or
Ubuntu package name, is in the README's apt line."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# the C and C++ runtimes and GLib come with any Linux that runs Python
BASE = re.compile(r"^lib(c|m|gcc_s|stdc\+\+|pthread|dl|rt|glib-2\.0|gthread-2\.0)\.so")


def _package(soname: str) -> str:
    """Debian's package name for a library: libxcb-icccm.so.4 -> libxcb-icccm4,
    libxkbcommon-x11.so.0 -> libxkbcommon-x11-0 (a dash when the name ends in a digit)."""
    name, major = re.match(r"^(.+)\.so\.(\d+)", soname).groups()
    return name.lower() + ("-" if name[-1].isdigit() else "") + major


@pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("readelf"),
                    reason="reads the Linux Qt plugin with readelf")
def test_the_readme_names_every_library_the_xcb_plugin_needs():
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    needed = set()
    for library in (qt / "plugins/platforms/libqxcb.so", qt / "lib/libQt6XcbQpa.so.6"):
        dynamic = subprocess.run(["readelf", "-d", str(library)], capture_output=True,
                                 text=True, check=True).stdout
        needed |= set(re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.search(r"sudo apt install ([^`]+?)\n```", readme, re.S).group(1)
                 .replace("\\", " ").split())
    wanted = {_package(s) for s in needed if "Qt6" not in s and not BASE.match(s)}
    assert wanted and wanted <= listed, sorted(wanted - listed)
    assert {"libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxkbcommon-x11-0"} <= wanted
