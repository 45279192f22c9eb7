"""Text a file may hold, however odd, survives a save: JSON can carry a lone surrogate
(``"\\ud800"``) that UTF-8 cannot, so it is kept escaped and loads back the same."""

import json

import pytest

from graphs import dumps_graph, load_graph, loads_graph, save_graph
from tests.helpers import chain

LONE = ["\ud800", "\udfff", "a\udc80b", "\ud83d", "\ud83d x \ude00"]


@pytest.mark.parametrize("text", LONE)
def test_a_lone_surrogate_anywhere_loads_saves_and_loads_back_the_same(tmp_path, text):
    data = json.loads(dumps_graph(chain(("Linear", {"out_features": 3}), input_shape=[4])))
    data["metadata"] = {"name": "odd" + text, "description": text, "note" + text: text}
    data["training"] = {"dataset_options": {"path": text}}
    graph = loads_graph(json.dumps(data), "odd.loom")       # json.dumps escapes: valid JSON, as a file has it
    target = tmp_path / "odd.loom"
    save_graph(graph, target)
    raw = target.read_bytes()
    raw.decode("utf-8")                                      # strict UTF-8 on disk
    again = load_graph(target)
    assert again.metadata == graph.metadata and again.training == graph.training
    assert dumps_graph(again) == dumps_graph(graph)
