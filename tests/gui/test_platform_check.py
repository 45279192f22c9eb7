"""When no window can open, NetLoom says why and what to install, before Qt aborts with one line
about a plugin."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gui.platform_check import debian_package, window_problem

ROOT = Path(__file__).resolve().parents[2]
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's X11 plugin is Linux's")


def fake_qt(tmp_path: Path) -> Path:
    plugin = tmp_path / "plugins" / "platforms" / "libqxcb.so"
    plugin.parent.mkdir(parents=True)
    plugin.write_bytes(b"")
    return tmp_path


def loader(missing: set[str]):
    def load(path: str) -> object:
        name = Path(path).name
        if name in missing or (name == "libqxcb.so" and missing):
            first = sorted(missing)[0] if name == "libqxcb.so" else name
            raise OSError(f"{first}: cannot open shared object file: No such file or directory")
        return object()
    return load


def test_the_packages_are_named_as_debian_names_them():
    assert [debian_package(s) for s in ("libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0",
                                        "libxkbcommon-x11.so.0", "libX11-xcb.so.1")] == [
        "libxcb-icccm4", "libxcb-keysyms1", "libxcb-cursor0", "libxkbcommon-x11-0", "libX11-xcb1"]


@linux_only
def test_every_missing_library_and_its_package_are_said(tmp_path):
    qt = fake_qt(tmp_path)
    said = window_problem({"DISPLAY": ":0"}, qt, loader({"libxcb-cursor.so.0"}),
                          lambda paths: ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    assert said == ("NetLoom cannot open its window: Qt's X11 plugin needs libxcb-icccm.so.4, libxcb-keysyms.so.1, "
                    "libxcb-cursor.so.0, which this system lacks. On Debian or Ubuntu: sudo apt-get install "
                    "libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 (the README lists what the window needs). Without "
                    "a window, the command line works: python main.py check|train|export ...")
    # without ldd, loading the plugin names the first library it lacks
    alone = window_problem({"DISPLAY": ":0"}, qt, loader({"libxcb-icccm.so.4"}), lambda paths: [])
    assert "needs libxcb-icccm.so.4, which" in alone and "apt-get install libxcb-icccm4 (" in alone
    assert window_problem({"DISPLAY": ":0"}, qt, loader(set()), lambda paths: []) is None


@linux_only
def test_offscreen_wayland_and_no_display_are_told_apart(tmp_path):
    qt = fake_qt(tmp_path)
    lacking = loader({"libxcb-icccm.so.4"})
    assert window_problem({"QT_QPA_PLATFORM": "offscreen"}, qt, lacking) is None
    assert window_problem({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, qt, lacking) is None
    assert window_problem({}, qt, lacking).startswith("NetLoom has no display to open its window on")


@linux_only
def test_the_app_says_so_and_exits_instead_of_aborting():
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run([sys.executable, str(ROOT / "main.py")], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.startswith("error: NetLoom has no display to open its window on (DISPLAY is not set)")
