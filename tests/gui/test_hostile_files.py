"""The window with hostile files: text that JSON carries but UTF-8 cannot (a lone surrogate)
saves and autosaves; a recovery copy that cannot be read is set aside and the window starts."""

import json

from graphs import dumps_graph, load_graph, loads_graph
from tests.helpers import chain

LONE = "\ud800"


def _odd_file(path):
    data = json.loads(dumps_graph(chain(("Linear", {"out_features": 3}), input_shape=[4], name="odd")))
    data["metadata"]["description"] = f"made by a tool that left a {LONE} behind"
    path.write_text(json.dumps(data), encoding="ascii")       # valid JSON: the surrogate is escaped
    return path


def test_a_graph_holding_a_lone_surrogate_saves_and_autosaves_from_the_window(window, tmp_path):
    path = _odd_file(tmp_path / "odd\udcff.loom")            # a file name that is not UTF-8 either
    assert window.open_file(path)
    window.document.try_edit(lambda: window.document.graph.set_params_edit("fc1", out_features=5))
    window.autosave()
    copy = window.recovery.path
    assert copy.exists(), window.statusBar().currentMessage()
    kept = json.loads(copy.read_bytes().decode("utf-8"))
    assert kept["source"] == str(path.resolve())
    restored = loads_graph(kept["graph"], copy)
    assert LONE in restored.metadata["description"] and restored.nodes["fc1"].params["out_features"] == 5
    assert window.save()
    saved = load_graph(path)
    assert saved.metadata["description"] == f"made by a tool that left a {LONE} behind"
    assert saved.nodes["fc1"].params["out_features"] == 5
    assert not copy.exists()                                  # saved: the recovery copy is gone
