"""Names that become Python names are checked over their whole text: a name ending in a newline
(which a pattern's ``$`` lets through) is refused on load, naming the place, on one line."""

import json

import pytest

from graphs import Graph, GraphError, GraphFileError, dumps_graph, loads_graph
from tests.helpers import chain, residual_graph


def _load(data) -> None:
    loads_graph(json.dumps(data), "names.loom")


def _refused(data, place: str, words: str) -> str:
    with pytest.raises(GraphFileError) as caught:
        _load(data)
    message = str(caught.value)
    assert message.startswith(f"names.loom: {place}: ") and words in message, message
    assert "\n" not in message and "\u2028" not in message
    return message


@pytest.mark.parametrize("tail", ["\n", "\r\n", "\u2028", " "])
def test_a_node_id_with_a_trailing_line_break_is_refused(tail):
    data = json.loads(dumps_graph(chain(("Linear", {"out_features": 3}), input_shape=[4])))
    data["nodes"][1]["id"] = "fc1" + tail
    for edge in data["edges"]:
        edge["from"], edge["to"] = [("fc1" + tail if end == "fc1" else end) for end in (edge["from"], edge["to"])]
    data["layout"]["positions"] = {}
    _refused(data, "nodes[1].id", "is not a valid name")


def test_a_block_name_with_a_trailing_newline_is_refused():
    data = json.loads(dumps_graph(residual_graph()))
    data["blocks"] = {"Residual\n": data["blocks"]["Residual"]}
    for node in data["nodes"]:
        if node["type"] == "Residual":
            node["type"] = "Residual\n"
    message = _refused(data, r"blocks.Residual\n", "is not a valid block name")
    assert r"'Residual\n'" in message


def test_a_block_parameter_with_a_trailing_newline_is_refused():
    data = json.loads(dumps_graph(residual_graph()))
    block = data["blocks"]["Residual"]
    block["params"] = {"channels\n": 4}
    for node in block["nodes"]:
        for key, value in node["params"].items():
            if value == {"param": "channels"}:
                node["params"][key] = {"param": "channels\n"}
    _refused(data, r"blocks.Residual.params.channels\n", "is not a valid parameter name")


@pytest.mark.parametrize("name", ["dim\n", "lambda", "__class__", "_x"])
def test_a_function_argument_name_that_is_no_python_name_is_refused(name):
    data = json.loads(dumps_graph(chain(("Function", {"op": "softmax", "args": [{"tensor": 0}], "kwargs": {"dim": -1}}),
                                        input_shape=[4])))
    data["nodes"][1]["params"]["kwargs"] = {name: -1}
    _refused(data, "node 'function1'.params", "is not a Python name")


@pytest.mark.parametrize("name", ["__init__", "__class__", "_private", "class"])
def test_blocks_and_their_parameters_cannot_take_dunder_private_or_keyword_names(name):
    g = Graph(name="names")
    with pytest.raises(GraphError):
        g.define_block(name, {})
    with pytest.raises(GraphError):
        g.define_block("Fine", {name: 3})
