"""Blocks in the document: definitions, uses, parameters, the file, and what the loader refuses."""

import json
from pathlib import Path

import pytest

from graphs import Graph, GraphError, GraphFileError, dumps_graph, load_graph, loads_graph
from graphs.block_edits import flattened, inline_edit, make_unique_edit
from graphs.block_merge import merge_alike
from graphs.blocks import MAX_NESTING
from tests.helpers import residual_graph


def test_a_block_use_has_the_ports_and_parameters_of_its_block():
    g = residual_graph()
    spec = g.nodes["layer1"].spec
    assert spec.category == "Blocks" and spec.type == "Residual"
    assert [p.name for p in spec.inputs] == ["x"] and [p.name for p in spec.outputs] == ["out"]
    channels = spec.param("channels")     # takes the kind and limits of the layer parameter it feeds
    assert channels.kind == "int" and channels.minimum == 1 and "conv1.out_channels" in channels.doc
    assert g.nodes["layer1"].params == {"repeat": 2, "channels": 4}


def test_blocks_round_trip_through_the_file():
    g = residual_graph()
    text = dumps_graph(g)
    assert '"out_channels": {"param": "channels"}' in text
    again = loads_graph(text)
    assert dumps_graph(again) == text
    assert again.blocks["Residual"].parameters == {"channels": 4}
    assert again.model_fingerprint() == g.model_fingerprint()


def test_editing_a_block_changes_the_document_fingerprint():
    g = residual_graph()
    before = g.model_fingerprint()
    g.blocks["Residual"].set_params("conv1", kernel_size=5, padding=2)
    assert g.model_fingerprint() != before


def test_a_wrong_value_for_a_block_parameter_names_the_parameter():
    g = residual_graph()
    with pytest.raises(GraphError, match="layer1: 'channels' must be at least 1, not 0"):
        g.set_params("layer1", channels=0)
    with pytest.raises(GraphError, match="unknown parameter 'width'; Residual takes channels, repeat"):
        g.set_params("layer1", width=3)


def test_a_block_cannot_use_itself_directly_or_through_another():
    g = residual_graph()
    with pytest.raises(GraphError, match="a block may not contain itself"):
        g.blocks["Residual"].add_node("Residual")
    outer = g.define_block("Outer")
    outer.add_node("Residual", id="inner")
    with pytest.raises(GraphError, match="a block may not contain itself"):
        g.blocks["Residual"].add_node("Outer")


def test_references_to_parameters_are_checked():
    g = residual_graph()
    with pytest.raises(GraphError, match="refers to 'width', which the block does not declare"):
        g.blocks["Residual"].add_node("Linear", out_features={"param": "width"})
    with pytest.raises(GraphError, match="only a layer inside a block can do that"):
        g.add_node("Linear", out_features={"param": "channels"})


def test_defining_a_block_and_removing_it_are_undoable_edits():
    from graphs.edits import RemoveBlock
    g = Graph()
    body = g.define_block("Empty")
    assert g.blocks == {"Empty": body}
    use = g.add_node("Empty")
    with pytest.raises(GraphError, match="still used by empty1"):
        g.apply(RemoveBlock("Empty"))
    g.remove_node(use)
    edit = g.apply(RemoveBlock("Empty"))
    assert g.blocks == {}
    g.revert(edit)
    assert g.blocks == {"Empty": body}
    with pytest.raises(GraphError, match="'Conv2d' is a built-in layer type"):
        g.define_block("Conv2d")


def test_ungroup_writes_a_use_out_and_undo_restores_it():
    g = residual_graph(repeat=2)
    text = dumps_graph(g)
    edit = g.apply(inline_edit(g, "layer1"))
    assert "layer1" not in g.nodes
    assert {"layer1_0_conv1", "layer1_1_conv2", "layer1_1_add"} <= set(g.nodes)
    assert g.nodes["layer1_0_conv1"].params["out_channels"] == 4          # the parameter bound to its value
    assert [e.src for e in g.in_edges("layer1_1_add")] == ["layer1_1_conv2", "layer1_0_add"]   # the chain
    assert [e.src for e in g.in_edges("flatten")] == ["layer1_1_add"]
    g.revert(edit)
    assert dumps_graph(g) == text


def test_flattening_writes_out_nested_blocks():
    g = load_graph(Path(__file__).resolve().parents[1] / "data" / "v2" / "golden.loom")
    flat = flattened(g)
    assert not any(n.type in flat.blocks for n in flat.nodes.values())
    assert {"stage_2_second_0", "stem_1", "mix_total"} <= set(flat.nodes)


# ---------------------------------------------------------------------- hostile files
def _with_blocks(tmp_path, blocks, nodes=(), edges=()):
    data = {"format": "netloom.graph", "format_version": 2, "blocks": blocks, "nodes": list(nodes), "edges": list(edges)}
    path = tmp_path / "blocks.loom"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _block(*types, params=None):
    return {"params": params or {}, "nodes": [{"id": f"n{i}", "type": t} for i, t in enumerate(types)]}


@pytest.mark.parametrize("blocks, message", [
    ({"A": _block("A")}, r"blocks.A: a block may not use itself: A uses A"),
    ({"A": _block("B"), "B": _block("A")}, r"a block may not use itself: (A uses B uses A|B uses A uses B)"),
    ({"A": {"params": {}, "nodes": [{"id": "fc", "type": "Linear", "params": {"out_features": {"param": "n"}}}]}},
     r"blocks.A.node 'fc'.params: 'out_features' refers to 'n', which the block does not declare"),
    ({"A": _block(params={"repeat": 2})}, r"blocks.A.params.repeat: 'repeat' is kept for the number of copies"),
    ({"A": _block(params={"n": {"x": 1}})}, r"blocks.A.params.n: the default of 'n' must be a number"),
    ({"Linear": _block()}, r"blocks.Linear: 'Linear' is a built-in layer type"),
    ({"1x": _block()}, r"blocks.1x: '1x' is not a valid block name"),
    ({"A": {"params": {}, "nodes": [], "code": "import os"}}, r"blocks.A: unknown field 'code'"),
    ({"A": {"params": {"n": 0}, "nodes": [{"id": "fc", "type": "Linear", "params": {"out_features": {"param": "n"}}}]}},
     r"blocks.A.params.n: the default does not suit its use: 'n' must be at least 1, not 0"),
    ({f"B{i}": _block(f"B{i + 1}") for i in range(MAX_NESTING + 1)} | {f"B{MAX_NESTING + 1}": _block("ReLU")},
     rf"blocks: blocks nest more than {MAX_NESTING} deep"),
])
def test_the_loader_refuses_bad_blocks_with_a_clear_message(tmp_path, blocks, message):
    with pytest.raises(GraphFileError, match=message):
        load_graph(_with_blocks(tmp_path, blocks))


def test_a_reference_outside_a_block_is_refused(tmp_path):
    nodes = [{"id": "fc", "type": "Linear", "params": {"out_features": {"param": "n"}}}]
    with pytest.raises(GraphFileError, match="only a layer inside a block can do that"):
        load_graph(_with_blocks(tmp_path, {}, nodes))


@pytest.mark.slow
def test_ten_thousand_blocks_each_using_the_next_are_refused_without_recursing(tmp_path):
    blocks = {f"B{i}": _block(f"B{i + 1}") for i in range(10_000)} | {"B10000": _block("ReLU")}
    with pytest.raises(GraphFileError, match="nest more than"):
        load_graph(_with_blocks(tmp_path, blocks))


def test_make_unique_gives_one_use_a_copy_and_undo_restores_the_document():
    g = load_graph(Path(__file__).parents[2] / "resources" / "examples" / "resnet18.loom")
    before = dumps_graph(g)
    wires = (g.in_edges("layer3"), g.out_edges("layer3"))
    edit = make_unique_edit(g, "layer3")
    g.apply(edit)
    assert g.nodes["layer3"].type == "Stage2" and g.nodes["layer2"].type == "Stage"
    assert (g.in_edges("layer3"), g.out_edges("layer3")) == wires        # same wires, same place in the file
    assert list(g.nodes).index("layer3") == 8
    g.blocks["Stage2"].set_params("1", repeat=3)        # editing the copy leaves the other uses alone
    assert g.blocks["Stage"].nodes["1"].params["repeat"] == 1
    g.blocks["Stage2"].set_params("1", repeat=1)
    g.revert(edit)
    assert dumps_graph(g) == before
    with pytest.raises(GraphError, match="conv1 is a Conv2d, not a block"):
        make_unique_edit(g, "conv1")


def _mlp_block(g, name, width, description="Imported from net.Layer"):
    body = g.define_block(name, description=description)
    x = body.add_node("Input", id="x", shape=[4])
    fc = body.add_node("Linear", id="fc", out_features=width)
    act = body.add_node("ReLU", id="act")
    out = body.add_node("Output", id="out")
    for a, b in ((x, fc), (fc, act), (act, out)):
        body.connect(a, b)
    return name


def test_alike_blocks_merge_into_one_with_the_differing_values_as_parameters():
    g = Graph("imported")
    prev = g.add_node("Input", shape=[4])
    for name, width in (("Layer", 8), ("Layer2", 16), ("Layer3", 8)):
        _mlp_block(g, name, width)
        use = g.add_node(name, id=f"use_{name.lower()}")
        g.connect(prev, use)
        prev = use
    _mlp_block(g, "Net2", 8, description="Imported from net.Net2")     # another class: left alone
    g.connect(prev, g.add_node("Output"))
    assert merge_alike(g) == 2
    assert sorted(g.blocks) == ["Layer", "Net2"]
    assert g.blocks["Layer"].parameters == {"out_features": 8}
    assert g.blocks["Layer"].nodes["fc"].params["out_features"] == {"param": "out_features"}
    assert [g.nodes[u].params["out_features"] for u in ("use_layer", "use_layer2", "use_layer3")] == [8, 16, 8]
    assert all(g.nodes[u].type == "Layer" for u in ("use_layer", "use_layer2", "use_layer3"))
    again = loads_graph(dumps_graph(g))            # a valid document: the loader takes it as it is
    assert dumps_graph(again) == dumps_graph(g)
    widths = [n.params["out_features"] for n in flattened(g).nodes.values() if n.type == "Linear"]
    assert widths == [8, 16, 8]                    # each use still binds to the layers it had
