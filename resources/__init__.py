"""Icons, styles and other small files shipped with TrainDesk."""

from pathlib import Path

HERE = Path(__file__).resolve().parent


def resource_path(name: str) -> Path:
    """Absolute path of a bundled resource file, e.g. resource_path("traindesk.svg")."""
    return HERE / name
