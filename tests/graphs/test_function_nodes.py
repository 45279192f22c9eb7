"""General operation nodes in the file format: only whitelisted operations load, arguments are
plain bounded data, and a call that returns several tensors gets a port for each."""

import json

import pytest

from graphs import Graph, GraphFileError, dumps_graph, loads_graph
from graphs.operations import OPERATIONS, call_text


def file_with(node_params: dict) -> str:
    """A saved graph whose Function node ``f`` is given ``node_params``, as an attacker would edit it."""
    g = Graph()
    g.add_node("Input", id="x", shape=[4])
    g.add_node("Function", id="f", op="relu", args=[{"tensor": 0}])
    g.connect("x", "f")
    g.connect("f", g.add_node("Output"))
    data = json.loads(dumps_graph(g))
    next(n for n in data["nodes"] if n["id"] == "f")["params"] = node_params
    return json.dumps(data)


@pytest.mark.parametrize("op", ["os.system", "builtins.eval", "eval", "exec", "__import__", "getattr",
                                "subprocess.run", "torch.load", "open", "", "ADD", 3])
def test_a_file_naming_an_operation_off_the_whitelist_is_refused(op):
    with pytest.raises(GraphFileError) as caught:
        loads_graph(file_with({"op": op, "args": [{"tensor": 0}]}))
    message = str(caught.value)
    assert "node 'f'.params: 'op': " in message          # the node and field, then what is wrong
    assert f"is not one of the {len(OPERATIONS)} operations a Function node may name" in message


@pytest.mark.parametrize("args, problem", [
    ([{"__class__": "os"}], "not one of tensor, batch, slice, ellipsis"),
    ([{"tensor": "x"}], "names input wire"),
    ([{"tensor": 1000}], "names input wire"),
    ([{"batch": 0}], "multiplies the batch size"),
    ([{"slice": [1, 2]}], "slice that is not [start, stop, step]"),
    ([{"tensor": 0}, [[[[[[[1]]]]]]]], "nests more than 6 levels"),
    ([{"tensor": 0}] + [1] * 600, "more than 512 values"),
    ([{"tensor": 0}, "x" * 1000], "longer than 200 characters"),
    ("x.__class__", "must be a list of arguments"),
])
def test_hostile_arguments_are_refused_naming_the_field(args, problem):
    with pytest.raises(GraphFileError, match="args") as caught:
        loads_graph(file_with({"op": "add", "args": args}))
    assert problem in str(caught.value)


def test_keyword_arguments_must_be_python_names():
    with pytest.raises(GraphFileError, match="kwargs.*not a Python name"):
        loads_graph(file_with({"op": "add", "args": [{"tensor": 0}, 1], "kwargs": {"a b": 1}}))


def test_a_call_with_several_results_has_a_port_for_each_and_survives_the_file():
    g = Graph()
    x = g.add_node("Input", shape=[6, 4])
    f = g.add_node("Function", op="chunk", args=[{"tensor": 0}, 3, 1], outputs=3)
    for port in ("out1", "out2", "out3"):
        g.connect(f, g.add_node("Output"), src_port=port)
    g.connect(x, f)
    again = loads_graph(dumps_graph(g))
    assert [p.name for p in again.nodes[f].spec.outputs] == ["out1", "out2", "out3"]
    assert again.nodes[f].params == g.nodes[f].params
    assert {e.src_port for e in again.out_edges(f)} == {"out1", "out2", "out3"}


def test_learned_and_constant_tensors_take_no_input_and_keep_their_shape():
    g = Graph()
    p = g.add_node("Parameter", shape=[1, 5, 8], init="constant", value=1e-6)
    c = g.add_node("Constant", shape=[49], dtype="int64")
    again = loads_graph(dumps_graph(g))
    assert again.nodes[p].params == {"shape": [1, 5, 8], "init": "constant", "value": 1e-6}
    assert again.nodes[c].params == {"shape": [49], "dtype": "int64", "value": 0.0}
    assert again.nodes[p].spec.inputs == ()


def test_every_operation_has_a_group_and_words_and_reads_as_a_call():
    assert len(OPERATIONS) >= 100
    assert all(group and doc for group, doc in OPERATIONS.values())
    assert call_text("getitem", [{"tensor": 0}, [{"slice": [None, None, None]}, 0]], {}) == "x0[:, 0]"
    assert call_text("view", [{"tensor": 0}, {"batch": 1}, 3, -1], {}) == "view(x0, batch, 3, -1)"
    assert call_text("mean", [{"tensor": 0}, [2, 3]], {"keepdim": True}) == "mean(x0, [2, 3], keepdim=True)"


def test_a_block_node_whose_type_is_not_text_is_refused_by_name():
    """Found by the standing fuzz: the block order must not trip over a list as a type."""
    import json

    from graphs import GraphFileError, loads_graph
    data = {"format": "netloom.graph", "format_version": 2, "metadata": {"name": "g"},
            "blocks": {"B": {"description": "", "params": {},
                             "nodes": [{"id": "x", "type": [], "params": {}}], "edges": []}},
            "nodes": [], "edges": []}
    with pytest.raises(GraphFileError, match=r"blocks\.B"):
        loads_graph(json.dumps(data), "case.loom")
