"""Copy and paste of a selection with its inner wires."""

import json

import pytest

from graphs import GraphError, dumps_graph
from graphs.fragments import extract, paste_edit
from tests.helpers import chain


def test_paste_copies_nodes_and_inner_wires_with_fresh_ids():
    g = chain(("Conv2d", {"out_channels": 8}), "ReLU", ("MaxPool2d", {"kernel_size": 2}))
    g.move("conv1", 100, 0)
    fragment = json.loads(json.dumps(extract(g, ["conv1", "relu1"])))   # through the clipboard's text
    assert [e["to"] for e in fragment["edges"]] == ["relu1"]          # only the wire inside the selection
    before = dumps_graph(g)
    edit = g.apply(paste_edit(g, fragment))
    assert g.nodes["conv2"].params["out_channels"] == 8 and "relu2" in g.nodes
    assert g.positions["conv2"] == (140.0, 40.0)
    assert [(e.src, e.dst) for e in g.edges[-1:]] == [("conv2", "relu2")]
    g.revert(edit)
    assert dumps_graph(g) == before


def test_pasting_something_else_is_refused():
    g = chain("ReLU", input_shape=[4])
    with pytest.raises(GraphError, match="the clipboard holds no NetLoom layers"):
        paste_edit(g, {"nodes": []})
    with pytest.raises(GraphError, match="unknown layer type 'Evil'"):
        paste_edit(g, {"format": "netloom.fragment", "nodes": [{"id": "a", "type": "Evil", "params": {}}], "edges": []})


def test_a_fragment_wired_to_a_port_that_does_not_exist_is_refused_and_leaves_nothing():
    g = chain("ReLU", input_shape=[4])
    before = dumps_graph(g)
    fragment = {"format": "netloom.fragment",
                "nodes": [{"id": "a", "type": "ReLU", "params": {}}, {"id": "b", "type": "ReLU", "params": {}}],
                "edges": [{"from": "a", "from_port": "out", "to": "b", "to_port": "side"}]}
    with pytest.raises(GraphError, match="has no input port 'side'"):
        g.apply(paste_edit(g, fragment))
    assert dumps_graph(g) == before
