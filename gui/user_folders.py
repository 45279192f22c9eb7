"""Where the application keeps the person's own files: recovery copies, runs of graphs whose
folder it may not write, and settings (Qt's standard locations for this platform)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths

import resources


def user_data_folder() -> Path:
    """The per-user data folder (``~/.local/share/NetLoom`` on Linux), the same for every window
    and process whatever the application object is called (tests and scripts name theirs)."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(location) / "NetLoom" if location else Path.home() / ".netloom"


def bundled_resources() -> Path:
    """The installed resources: never written to."""
    return resources.folder().resolve()
