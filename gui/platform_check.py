"""Can a window open here? Asked before Qt is started, because when Qt cannot load its platform
plugin it says only 'Could not load the Qt platform plugin "xcb"' and aborts the process.

On Linux the X11 plugin needs system libraries that a minimal installation lacks (Qt's "Qt for
X11 Requirements"). ``ldd`` lists every library the plugin and Qt's X11 support are linked to
that cannot be found (without it, loading the plugin names the first); libxcb-cursor, which the
plugin loads by itself when it starts, is tried apart. Each is said with the Debian/Ubuntu
package that holds it.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

LATE_LOADED = ("libxcb-cursor.so.0",)     # loaded by the plugin when it starts, not linked to it
SONAME = r"[\w+.-]+\.so(?:\.\d+)*"


def debian_package(soname: str) -> str:
    """``libxcb-icccm.so.4`` -> ``libxcb-icccm4``; ``libxkbcommon-x11.so.0`` -> ``libxkbcommon-x11-0``."""
    match = re.fullmatch(r"(lib[\w+.-]+?)\.so\.(\d+)(?:\.\d+)*", soname)
    if match is None:
        return soname
    name, major = match.groups()
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def unresolved(paths: list[Path]) -> list[str]:
    """The libraries ``ldd`` cannot find for these files (empty without ldd)."""
    ldd = shutil.which("ldd")
    found: list[str] = []
    for path in paths:
        if ldd is None or not path.exists():
            continue
        try:
            listing = subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        found += re.findall(rf"^\s*({SONAME}) => not found", listing, flags=re.M)
    return list(dict.fromkeys(found))


def first_missing(path: str, load: Callable[[str], object]) -> str | None:
    """The library that keeps ``path`` from loading, or None when it loads."""
    try:
        load(path)
    except OSError as err:
        found = re.search(rf"({SONAME}): cannot open shared object file", str(err))
        return found.group(1) if found else Path(path).name
    return None


def window_problem(environ: Mapping[str, str] | None = None, qt_folder: Path | None = None,
                   load: Callable[[str], object] = ctypes.CDLL,
                   missing_links: Callable[[list[Path]], list[str]] = unresolved) -> str | None:
    """Why no window can open here, in words with the fix, or None when nothing is known to be in
    the way (other systems, offscreen, or a Wayland session, which Qt tries first)."""
    env = os.environ if environ is None else environ
    platform = env.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or (platform and not platform.startswith("xcb")):
        return None
    if not platform and env.get("WAYLAND_DISPLAY"):
        return None
    if not env.get("DISPLAY"):
        return ("NetLoom has no display to open its window on (DISPLAY is not set). Start it from a desktop "
                "session, or picture the window without one: QT_QPA_PLATFORM=offscreen python main.py "
                "--screenshot window.png")
    if qt_folder is None:
        import PySide6
        qt_folder = Path(PySide6.__file__).parent / "Qt"
    plugin = qt_folder / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.exists():
        return None
    missing = missing_links([plugin, *sorted((qt_folder / "lib").glob("libQt6XcbQpa.so*"))[:1]])
    if not missing:
        first = first_missing(str(plugin), load)
        missing = [first] if first is not None else []
    missing += [name for name in LATE_LOADED if name not in missing and first_missing(name, load) is not None]
    if not missing:
        return None
    packages = " ".join(dict.fromkeys(debian_package(name) for name in missing))
    return (f"NetLoom cannot open its window: Qt's X11 plugin needs {', '.join(missing)}, which this system "
            f"lacks. On Debian or Ubuntu: sudo apt-get install {packages} (the README lists what the window "
            "needs). Without a window, the command line works: python main.py check|train|export ...")
