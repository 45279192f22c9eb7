"""The window with hostile files: text that JSON carries but UTF-8 cannot (a lone surrogate)
saves and autosaves; a recovery copy that cannot be read is set aside and the window starts."""

import json

import pytest

from graphs import dumps_graph, load_graph, loads_graph
from gui.commands import files
from tests.helpers import chain, named_pipe, without_blocking

LONE = "\ud800"


def _odd_file(path):
    data = json.loads(dumps_graph(chain(("Linear", {"out_features": 3}), input_shape=[4], name="odd")))
    data["metadata"]["description"] = f"made by a tool that left a {LONE} behind"
    path.write_text(json.dumps(data), encoding="ascii")       # valid JSON: the surrogate is escaped
    return path


def test_a_graph_holding_a_lone_surrogate_saves_and_autosaves_from_the_window(window, tmp_path):
    path = _odd_file(tmp_path / "odd\udcff.loom")            # a file name that is not UTF-8 either
    assert files.open_file(window.context, path)
    window.document.try_edit(lambda: window.document.graph.set_params_edit("fc1", out_features=5))
    window.autosave.autosave(force=True)
    copy = window.autosave.recovery.path
    assert copy.exists(), window.statusBar().currentMessage()
    kept = json.loads(copy.read_bytes().decode("utf-8"))
    assert kept["source"] == str(path.resolve())
    restored = loads_graph(kept["graph"], copy)
    assert LONE in restored.metadata["description"] and restored.nodes["fc1"].params["out_features"] == 5
    assert files.save(window.context)
    saved = load_graph(path)
    assert saved.metadata["description"] == f"made by a tool that left a {LONE} behind"
    assert saved.nodes["fc1"].params["out_features"] == 5
    assert not copy.exists()                                  # saved: the recovery copy is gone


def _copy_text(graph_text: str, saved_at: str) -> str:
    return '{"format": "netloom.recovery", "source": "", "saved_at": ' + saved_at + ', "graph": ' + \
        json.dumps(graph_text) + "}"


GOOD_GRAPH = dumps_graph(chain(("Linear", {"out_features": 3}), input_shape=[4], name="kept"))
DAMAGED = {
    "deep": "[" * 100_000 + "]" * 100_000,
    "huge-time": _copy_text(GOOD_GRAPH, "1" + "0" * 400),
    "far-time": _copy_text(GOOD_GRAPH, "1e300"),
    "nan-time": _copy_text(GOOD_GRAPH, "NaN"),
    "text-time": _copy_text(GOOD_GRAPH, '"yesterday"'),
    "digits": _copy_text(GOOD_GRAPH, "9" * 5000),
    "bad-graph": _copy_text('{"format": "netloom.graph", "format_version": 1, "nodes": 3}', "1700000000"),
    "binary": "\x00\xff\xfe PK\x03\x04",
}


def _damaged_copies(folder):
    from gui.recovery import SUFFIX
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in DAMAGED.items():
        paths[name] = folder / f"{name}{SUFFIX}"
        paths[name].write_bytes(text.encode("utf-8", "surrogateescape") if name != "binary" else b"\x00\xff\xfePK\x03")
    paths["pipe"] = named_pipe(folder / f"pipe{SUFFIX}")
    (folder / f"fine{SUFFIX}").write_text(_copy_text(GOOD_GRAPH, "1700000000"))
    return paths


def test_damaged_recovery_copies_are_set_aside_with_a_message_and_a_good_one_is_still_offered(qtbot):
    from gui.main_window import MainWindow
    from gui.recovery import leftovers, recovery_folder
    for leftover in leftovers()[0]:
        leftover.remove()
    damaged = _damaged_copies(recovery_folder())
    found, problems = without_blocking(leftovers, [damaged["pipe"]])
    assert [leftover.path.name for leftover in found] == ["fine.recovery.json"]
    assert len(problems) == len(damaged)
    for path in damaged.values():
        said = next(p for p in problems if p.startswith(str(path)))
        assert f"it was kept as {path}.unreadable" in said and "\n" not in said, said
        assert not path.exists() and path.with_name(path.name + ".unreadable").exists()
    assert "saved_at: 1e+300 is not the time of a save" in " ".join(problems)
    found[0].release()
    win = MainWindow(interactive=False)
    qtbot.addWidget(win)
    assert win.autosave.offer_recovery() == [win] and win.document.graph.name == "kept"
    win.document.undo_stack.setClean()
    assert leftovers() == ([], [])                    # set aside once, never read again


@pytest.mark.slow     # the application as a process
def test_the_application_starts_with_damaged_recovery_copies_present(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    data = tmp_path / "data"
    _damaged_copies(data / "NetLoom" / "recovery")
    picture = tmp_path / "window.png"
    env = {**os.environ, "XDG_DATA_HOME": str(data), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "QT_QPA_PLATFORM": "offscreen"}
    started = subprocess.run([sys.executable, str(root / "main.py"), "--screenshot", str(picture)], env=env,
                             capture_output=True, text=True, timeout=300)
    assert started.returncode == 0 and "Traceback" not in started.stderr, started.stderr[-3000:]
    assert picture.stat().st_size > 10_000
