"""Crash recovery: each window keeps its own autosave copy, deletes only its own, and every copy a
crashed window left is offered at the next start (never one a live window still owns)."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gui.commands import files
from gui.main_window import MainWindow
from gui.recovery import leftovers, recovery_folder
from tests.helpers import chain

pytestmark = pytest.mark.slow     # other processes' windows, started and killed

ROOT = Path(__file__).resolve().parents[2]


def copies() -> set[Path]:
    return set(recovery_folder().glob("*.recovery.json"))


def clear_leftovers():
    found, _ = leftovers()
    for leftover in found:
        leftover.remove()


def edited_window(qtbot, name: str, width: int) -> MainWindow:
    win = MainWindow(interactive=False)
    qtbot.addWidget(win)
    win.document.replace(chain(("Linear", {"out_features": 3}), input_shape=[4], name=name), None)
    win.document.try_edit(lambda: win.document.graph.set_params_edit("fc1", out_features=width))
    return win


def test_two_windows_keep_two_copies_and_saving_one_deletes_only_its_own(qtbot, tmp_path, monkeypatch):
    clear_leftovers()
    before = copies()
    first, second = edited_window(qtbot, "first", 5), edited_window(qtbot, "second", 6)
    first.autosave.autosave()
    second.autosave.autosave()
    mine, theirs = first.autosave.recovery.path, second.autosave.recovery.path
    assert mine != theirs and copies() - before == {mine, theirs}
    monkeypatch.setattr(first.port, "choose_save_path", lambda *a: str(tmp_path / "first.loom"))
    assert files.save(first.context)
    assert not first.autosave.recovery.path.exists() and second.autosave.recovery.path.exists()
    # Live windows' copies are never offered to a third window.
    assert leftovers()[0] == []
    second.document.undo_stack.setClean()
    second.close()
    assert not second.autosave.recovery.path.exists()


def test_every_copy_of_crashed_windows_is_offered_and_restored_in_its_own_window(qtbot):
    clear_leftovers()
    crashed = [edited_window(qtbot, f"lost{i}", 7 + i) for i in range(2)]
    for win in crashed:
        win.autosave.autosave()
        win.autosave.recovery._lock.unlock()      # the process dies: nobody holds the copy any more
    after = MainWindow(interactive=False)
    qtbot.addWidget(after)
    restored = after.autosave.offer_recovery()
    assert restored[0] is after and len(restored) == 2
    assert sorted(w.document.graph.name for w in restored) == ["lost0", "lost1"]
    assert {w.document.graph.nodes["fc1"].params["out_features"] for w in restored} == {7, 8}
    assert all(w.document.modified for w in restored)
    # Each restored window owns a fresh copy; the crashed windows' copies are gone.
    assert not any(win.autosave.recovery.path.exists() for win in crashed)
    assert all(w.autosave.recovery.path.exists() for w in restored)
    for w in restored:
        w.document.undo_stack.setClean()
        w.close()


def test_a_copy_the_person_declines_is_asked_again_or_discarded(qtbot, monkeypatch):
    clear_leftovers()
    lost = edited_window(qtbot, "maybe", 9)
    lost.autosave.autosave()
    lost.autosave.recovery._lock.unlock()
    win = MainWindow(interactive=True)
    qtbot.addWidget(win)
    monkeypatch.setattr(win.port, "ask_restore", lambda leftover: "later")
    assert win.autosave.offer_recovery() == []
    assert lost.autosave.recovery.path.exists()              # kept for the next start
    monkeypatch.setattr(win.port, "ask_restore", lambda leftover: "discard")
    assert win.autosave.offer_recovery() == []
    assert not lost.autosave.recovery.path.exists()


_CRASHING_WINDOW = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    app.setApplicationName("NetLoom"); app.setOrganizationName("NetLoom")
    from gui.main_window import MainWindow
    from tests.helpers import chain
    win = MainWindow(interactive=False)
    win.document.replace(chain(("Linear", {{"out_features": 3}}), input_shape=[4], name="other process"), None)
    win.document.try_edit(lambda: win.document.graph.set_params_edit("fc1", out_features=11))
    win.autosave.autosave()
    print(win.autosave.recovery.path, flush=True)
    time.sleep(60)
""")


def test_a_window_of_another_process_is_left_alone_while_it_lives_and_offered_after_it_crashes(qtbot):
    clear_leftovers()
    child = subprocess.Popen([sys.executable, "-c", _CRASHING_WINDOW.format(root=str(ROOT))],
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    try:
        copy = Path(child.stdout.readline().strip())
        assert copy.exists()
        assert copy not in [leftover.path for leftover in leftovers()[0]]
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    win = MainWindow(interactive=False)
    qtbot.addWidget(win)
    assert win.autosave.offer_recovery() == [win]
    assert win.document.graph.name == "other process" and win.document.graph.nodes["fc1"].params["out_features"] == 11
    assert not copy.exists()
    win.document.undo_stack.setClean()
