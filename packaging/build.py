"""Build the TrainDesk desktop application for this platform, check it, and package it.

    python packaging/build.py [--formats tar,deb] [--no-window-check]

1. renders the icon from resources/traindesk.svg into build/icon/, and compiles
   resources/i18n/traindesk_zh_CN.ts into the .qm the app ships,
2. runs PyInstaller on packaging/traindesk.spec: dist/TrainDesk/ (and dist/TrainDesk.app
   on macOS),
3. checks that no test or build files went in and that every transformers model module
   did, then runs the frozen `TrainDesk self-test` (bundle checks, a short training run
   through the window, off screen, then two tiny language models fine-tuned through the
   engine): a failed self-test fails the build,
4. on Linux with Xvfb and xdotool, opens the real window on the xcb platform and times it,
5. packages: Linux `.tar.gz` and `.deb` (dpkg-deb), Windows a setup `.exe` (Inno Setup),
   macOS a `.dmg` (hdiutil),
6. writes sizes and timings to dist/build-report.json.

Exit code 0 only when everything above succeeded. Needs `pip install -e '.[packaging]'`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
BUILD = ROOT / "build"
NAME = "TrainDesk"
PACKAGE = "traindesk"  # the Debian package, the command and the icon name
ICON_SVG = ROOT / "resources" / "traindesk.svg"
ICON_PNG = BUILD / "icon" / "traindesk.png"
DESKTOP_FILE = ROOT / "packaging" / "linux" / "traindesk.desktop"
ISS_FILE = ROOT / "packaging" / "windows" / "traindesk.iss"
SELF_TEST_TIMEOUT_S = 600
WINDOW_TIMEOUT_S = 120

# Top-level names in the bundle that would mean test or build tools went in.
FORBIDDEN = ("tests", "pytest", "_pytest", "pytestqt", "PyInstaller", "setuptools", "triton",
             "build", "dist")
# What the .deb needs from the system. PyInstaller bundles the libraries it finds (the xcb
# ones Qt needs included) except the C library, which must be at least the build machine's,
# and OpenGL/EGL, which belong to the graphics driver; fontconfig brings the font settings.
DEB_DEPENDS = "libc6 (>= {glibc}), libgl1, libegl1, libfontconfig1"


class BuildFailed(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--formats", default=",".join(default_formats()),
                        help="packages to make, comma-separated: tar, deb (Linux), "
                             "installer (Windows), dmg (macOS), or none "
                             "(default for this platform: %(default)s)")
    parser.add_argument("--no-window-check", action="store_true",
                        help="skip opening the real window under Xvfb (Linux)")
    args = parser.parse_args(argv)
    formats = [f for f in args.formats.split(",") if f and f != "none"]
    unknown = set(formats) - {"tar", "deb", "installer", "dmg"}
    if unknown:
        parser.error(f"unknown format(s) {sorted(unknown)}")
    try:
        report = build(formats, window_check=not args.no_window_check)
    except BuildFailed as exc:
        print(f"error: build failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2))
    return 0


def default_formats() -> list[str]:
    if sys.platform.startswith("linux"):
        return ["tar", "deb"]
    return ["installer"] if sys.platform == "win32" else ["dmg"]


def build(formats: list[str], window_check: bool = True) -> dict:
    version = project_version()
    report: dict = {"name": NAME, "version": version, "platform": platform_tag()}
    started = time.perf_counter()

    step("rendering the icon")
    render_icon(ICON_SVG, ICON_PNG, 256)

    step("compiling the Chinese translation")
    compile_translations()

    step("running PyInstaller (several minutes)")
    for old in (DIST / NAME, DIST / f"{NAME}.app", BUILD / "pyinstaller"):
        remove(old)
    t0 = time.perf_counter()
    run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level=WARN",
         "--distpath", str(DIST), "--workpath", str(BUILD / "pyinstaller"),
         str(ROOT / "packaging" / "traindesk.spec")])
    report["pyinstaller_s"] = round(time.perf_counter() - t0, 1)

    app_dir = DIST / NAME
    check_contents(app_dir)
    report["bundle_bytes"] = tree_size(app_dir)
    report["bundle_files"] = sum(1 for p in app_dir.rglob("*") if p.is_file())
    step(f"bundle: {app_dir} ({report['bundle_bytes'] / 2**30:.2f} GiB)")

    step("frozen self-test")
    report["self_test_s"], report["self_test_output"] = self_test(app_executable())
    if window_check and sys.platform.startswith("linux"):
        report["time_to_window_s"] = time_to_window(app_dir / NAME)

    if sys.platform.startswith("linux"):
        add_desktop_files(app_dir)
    for fmt in formats:
        step(f"packaging: {fmt}")
        t0 = time.perf_counter()
        made = {"tar": make_tar, "deb": make_deb, "installer": make_windows_installer,
                "dmg": make_dmg}[fmt](app_dir, version)
        report[fmt] = {"file": str(made), "bytes": made.stat().st_size,
                       "seconds": round(time.perf_counter() - t0, 1)}
    report["total_s"] = round(time.perf_counter() - started, 1)
    (DIST / "build-report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


# ---------------------------------------------------------------- steps


def project_version() -> str:
    """core.__version__, which must agree with pyproject.toml."""
    init = (ROOT / "core" / "__init__.py").read_text(encoding="utf-8")
    version = re.search(r'^__version__ = "([^"]+)"', init, re.M).group(1)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    declared = re.search(r'^version = "([^"]+)"', pyproject, re.M).group(1)
    if declared != version:
        raise BuildFailed(f"pyproject.toml says version {declared}, core/__init__.py "
                          f"{version}: make them agree")
    return version


def compile_translations() -> None:
    """resources/i18n/*.ts into .qm beside them, which the spec bundles with the other
    resources: the frozen app never compiles at start (gui/i18n.py)."""
    from gui.i18n import compile_ts

    for ts in sorted((ROOT / "resources" / "i18n").glob("*.ts")):
        compile_ts(ts, ts.with_suffix(".qm"))
        if not ts.with_suffix(".qm").is_file():
            raise SystemExit(f"build: lrelease did not compile {ts}")


def render_icon(svg: Path, png: Path, size: int) -> None:
    """Draw the SVG into a size x size PNG with Qt (PyInstaller converts it to .ico/.icns)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841  (QPainter needs it)
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise BuildFailed(f"cannot read the icon {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    png.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(png)):
        raise BuildFailed(f"cannot write {png}")


def check_contents(app_dir: Path) -> None:
    """No test or build files, and torchvision's operator library is there (its name changed
    to _C_stable, which the stock PyInstaller hook does not know)."""
    internal = app_dir / "_internal"
    if not internal.is_dir():
        raise BuildFailed(f"PyInstaller made no {internal}")
    present = [name for name in FORBIDDEN if (internal / name).exists()]
    if present:
        raise BuildFailed(f"test or build files in the bundle: {present} under {internal}")
    if not list((internal / "torchvision").glob("_C*")):
        raise BuildFailed("torchvision's native operator library (_C_stable) is not bundled")
    check_transformers_sources(internal)


def check_transformers_sources(internal: Path) -> None:
    """Every module of transformers' model families is in the bundle as a .py file.
    transformers finds a family's classes by listing the .py files of its folder
    (define_import_structure) and imports them by name when a model is loaded, so a file
    left out fails only when a user loads that kind of model. Conversion scripts and
    `modular_` sources are not listed by transformers and not needed, nor is a package
    holding nothing but its __init__.py (models/deprecated, a placeholder)."""
    try:
        import transformers
    except ImportError:
        raise BuildFailed("transformers is not installed here, so the app could not fine-tune "
                          "language models: pip install -e '.[packaging]'") from None
    source = Path(transformers.__file__).parent
    modules = [path.relative_to(source) for path in (source / "models").rglob("*.py")
               if not path.name.startswith(("convert_", "modular_", "__init__"))]
    wanted = {*modules, *(parent / "__init__.py" for module in modules
                          for parent in module.parents if parent.parts)}
    missing = sorted(str(path) for path in wanted
                     if not (internal / "transformers" / path).is_file())
    if missing:
        raise BuildFailed(f"{len(missing)} of transformers' {len(wanted)} model modules are "
                          f"not in the bundle as .py files, e.g. {missing[:3]}")


def app_executable() -> Path:
    """The program an installed user runs, in its console-capable form."""
    if sys.platform == "win32":
        return DIST / NAME / "traindesk-cli.exe"
    if sys.platform == "darwin":
        return DIST / f"{NAME}.app" / "Contents" / "MacOS" / NAME
    return DIST / NAME / NAME


def self_test(executable: Path) -> tuple[float, str]:
    """Run `<app> self-test` as an installer would: no display, a private TRAINDESK_HOME.
    Returns the seconds from launch to exit and the output."""
    with tempfile.TemporaryDirectory(prefix="traindesk-build-") as home:
        env = {k: v for k, v in os.environ.items()
               if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
        env["TRAINDESK_HOME"] = home
        t0 = time.perf_counter()
        try:
            result = subprocess.run([str(executable), "self-test"], env=env, cwd=home,
                                    capture_output=True, text=True,
                                    timeout=SELF_TEST_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise BuildFailed(f"the frozen self-test ran over {SELF_TEST_TIMEOUT_S} s") from None
        seconds = round(time.perf_counter() - t0, 1)
    output = (result.stdout + result.stderr).strip()
    print(output, flush=True)
    if (result.returncode != 0 or "bundle check passed" not in result.stdout
            or "self-test passed" not in result.stdout):
        raise BuildFailed(f"the frozen self-test failed (exit {result.returncode})")
    return seconds, output


def time_to_window(executable: Path) -> list[float] | str:
    """Seconds from launch until the main window is mapped on an X display (Xvfb, the xcb
    platform plugin), three launches. This is also the check that the xcb plugin and the
    system libraries it needs work; it is skipped when Xvfb or xdotool is missing."""
    if not (shutil.which("Xvfb") and shutil.which("xdotool")):
        print("note: Xvfb or xdotool not found; the xcb window check is skipped", flush=True)
        return "not measured (no Xvfb/xdotool)"
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1280x800x24",
                             "-nolisten", "tcp"], stdout=subprocess.PIPE, text=True)
    try:
        display = ":" + xvfb.stdout.readline().strip()
        times = [_launch_until_window(executable, display) for _ in range(3)]
    finally:
        xvfb.terminate()
        xvfb.wait()
    step(f"window on screen after {', '.join(f'{t:.1f}' for t in times)} s")
    return times


def _launch_until_window(executable: Path, display: str) -> float:
    with tempfile.TemporaryDirectory(prefix="traindesk-build-") as home:
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
               "TRAINDESK_HOME": home}
        t0 = time.perf_counter()
        app = subprocess.Popen([str(executable)], env=env, cwd=home,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            while time.perf_counter() - t0 < WINDOW_TIMEOUT_S:
                found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name",
                                        f"^{NAME}$"], env=env, capture_output=True)
                if found.returncode == 0:
                    return round(time.perf_counter() - t0, 2)
                if app.poll() is not None:
                    raise BuildFailed(f"the app exited ({app.returncode}) before its window "
                                      f"showed on the xcb platform:\n{app.stdout.read()}")
                time.sleep(0.05)
            raise BuildFailed(f"no window within {WINDOW_TIMEOUT_S} s on the xcb platform")
        finally:
            if app.poll() is None:
                app.send_signal(signal.SIGTERM)
                try:
                    app.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    app.kill()
                    app.wait()


def add_desktop_files(app_dir: Path) -> None:
    """The menu entry and the icons travel inside the folder (for the .tar.gz; the .deb
    also installs them where the desktop looks)."""
    shutil.copy2(DESKTOP_FILE, app_dir / "traindesk.desktop")
    shutil.copy2(ICON_SVG, app_dir / "traindesk.svg")
    shutil.copy2(ICON_PNG, app_dir / "traindesk.png")


def make_tar(app_dir: Path, version: str) -> Path:
    out = DIST / f"{NAME}-{version}-{platform_tag()}.tar.gz"
    out.unlink(missing_ok=True)
    # gzip -1: the payload is gigabytes of native libraries that compress little anyway.
    run(["tar", "-C", str(app_dir.parent), "--use-compress-program", "gzip -1", "-cf",
         str(out), app_dir.name])
    return out


def make_deb(app_dir: Path, version: str) -> Path:
    """A .deb installing /opt/traindesk, /usr/bin/traindesk, the menu entry and icons."""
    if not shutil.which("dpkg-deb"):
        raise BuildFailed("dpkg-deb not found: install dpkg, or pass --formats tar")
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    root = BUILD / "deb" / f"{PACKAGE}_{version}_{arch}"
    remove(root)
    (root / "opt").mkdir(parents=True)
    copy_tree(app_dir, root / "opt" / PACKAGE)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / PACKAGE).symlink_to(f"/opt/{PACKAGE}/{NAME}")
    share = root / "usr" / "share"
    for src, dest in ((DESKTOP_FILE, share / "applications" / "traindesk.desktop"),
                      (ICON_SVG, share / "icons/hicolor/scalable/apps/traindesk.svg"),
                      (ICON_PNG, share / "icons/hicolor/256x256/apps/traindesk.png")):
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
    (root / "DEBIAN").mkdir()
    installed_kib = tree_size(root) // 1024
    (root / "DEBIAN" / "control").write_text(
        f"Package: {PACKAGE}\n"
        f"Version: {version}\n"
        f"Architecture: {arch}\n"
        f"Maintainer: TrainDesk developers <traindesk@users.noreply.github.com>\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {DEB_DEPENDS.format(glibc=platform.libc_ver()[1])}\n"
        f"Section: science\n"
        f"Priority: optional\n"
        f"Description: Train and fine-tune PyTorch models by pointing and clicking\n"
        f" TrainDesk is a desktop application for training and fine-tuning PyTorch models.\n"
        f" It bundles Python, PyTorch and Qt under /opt/{PACKAGE} and works offline.\n")
    out = DIST / f"{PACKAGE}_{version}_{arch}.deb"
    out.unlink(missing_ok=True)
    # gzip at level 1: every dpkg reads it, and the CUDA libraries make the payload GBs.
    run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", str(root), str(out)])
    remove(root)
    return out


def make_windows_installer(app_dir: Path, version: str) -> Path:
    """Inno Setup: TrainDesk-<version>-windows-x64-setup.exe with Start-menu entry and
    uninstaller."""
    iscc = shutil.which("iscc") or shutil.which("ISCC")
    for folder in (os.environ.get("ProgramFiles(x86)", ""), os.environ.get("ProgramFiles", "")):
        candidate = Path(folder) / "Inno Setup 6" / "ISCC.exe"
        if not iscc and folder and candidate.is_file():
            iscc = str(candidate)
    if not iscc:
        raise BuildFailed("Inno Setup 6 (ISCC.exe) not found: install it "
                          "(choco install innosetup), or pass --formats none")
    from PIL import Image

    ico = BUILD / "icon" / "traindesk.ico"
    Image.open(ICON_PNG).save(ico, sizes=[(16, 16), (32, 32), (48, 48), (64, 64), (256, 256)])
    base = f"{NAME}-{version}-{platform_tag()}-setup"
    run([iscc, f"/DAppVersion={version}", f"/DSourceDir={app_dir}", f"/DOutputDir={DIST}",
         f"/DOutputBaseName={base}", f"/DIconFile={ico}", str(ISS_FILE)])
    return DIST / f"{base}.exe"


def make_dmg(app_dir: Path, version: str) -> Path:
    """TrainDesk.app and a link to /Applications in a compressed disk image."""
    stage = BUILD / "dmg"
    remove(stage)
    stage.mkdir(parents=True)
    run(["ditto", str(DIST / f"{NAME}.app"), str(stage / f"{NAME}.app")])
    (stage / "Applications").symlink_to("/Applications")
    out = DIST / f"{NAME}-{version}-{platform_tag()}.dmg"
    out.unlink(missing_ok=True)
    run(["hdiutil", "create", "-volname", f"{NAME} {version}", "-srcfolder", str(stage),
         "-fs", "HFS+", "-format", "UDZO", "-ov", str(out)])
    remove(stage)
    return out


# ---------------------------------------------------------------- helpers


def platform_tag() -> str:
    system = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(sys.platform,
                                                                            sys.platform)
    machine = platform.machine().lower()
    machine = {"amd64": "x64", "x86_64": "x64", "aarch64": "arm64"}.get(machine, machine)
    return f"{system}-{machine}"


def copy_tree(src: Path, dest: Path) -> None:
    """Hard links where the file system allows (the bundle is GBs), a copy otherwise."""
    if sys.platform.startswith("linux"):
        if subprocess.run(["cp", "-al", str(src), str(dest)]).returncode == 0:
            return
        remove(dest)
    shutil.copytree(src, dest, symlinks=True)


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def run(command: list[str]) -> None:
    print("+ " + " ".join(command), flush=True)
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode != 0:
        raise BuildFailed(f"{Path(command[0]).name} exited with {result.returncode}")


def step(message: str) -> None:
    print(f"== {message}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
