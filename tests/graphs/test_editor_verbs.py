"""The editor's verbs as headless edits: add after, insert into a chain, delete."""

import pytest

from graphs import Edge, GraphError, dumps_graph
from graphs.editing import add_after_edit, add_at_edit, delete_edit
from graphs.layout import COLUMN_PITCH
from tests.helpers import chain


def placed_chain():
    g = chain("ReLU", "Tanh", input_shape=[4])
    for i, node in enumerate(g.nodes):
        g.move(node, i * COLUMN_PITCH, 0.0)
    return g


def test_adding_after_a_node_in_the_middle_of_a_chain_inserts_between_and_makes_room():
    g = placed_chain()
    before = dumps_graph(g)
    edit = g.apply(add_after_edit(g, "relu1", "Sigmoid"))
    assert [(e.src, e.dst) for e in g.edges] == [("input1", "relu1"), ("relu1", "sigmoid1"), ("sigmoid1", "tanh1"),
                                                 ("tanh1", "output1")]
    assert g.positions["sigmoid1"] == (2 * COLUMN_PITCH, 0.0)
    assert g.positions["tanh1"] == (3 * COLUMN_PITCH, 0.0) and g.positions["output1"] == (4 * COLUMN_PITCH, 0.0)
    g.revert(edit)
    assert dumps_graph(g) == before


def test_adding_after_the_end_of_a_branch_wires_it_on():
    g = placed_chain()
    g.remove_node("output1")
    g.apply(add_after_edit(g, "tanh1", "Output"))
    assert g.edges[-1] == Edge("tanh1", "output1") and g.positions["output1"] == (3 * COLUMN_PITCH, 0.0)


def test_adding_after_a_node_that_feeds_two_starts_a_branch():
    g = placed_chain()
    g.apply(add_after_edit(g, "relu1", "Sigmoid"))
    g.apply(add_after_edit(g, "input1", "GELU"))       # input1 feeds relu1 only: inserted
    g.connect("input1", g.add_node("Add"))
    g.apply(add_after_edit(g, "input1", "ELU"))        # now it feeds two: a new branch
    assert ("input1", "elu1") in [(e.src, e.dst) for e in g.edges]
    assert not [e for e in g.edges if e.src == "elu1"]


def test_drops_land_on_the_grid_and_delete_takes_wires_with_nodes():
    g = placed_chain()
    add = g.apply(add_at_edit(g, "ReLU", 107, 93))
    assert g.positions[add.node.id] == (100.0, 100.0)
    g.apply(delete_edit(g, ["tanh1"], [Edge("input1", "relu1")]))
    assert "tanh1" not in g.nodes and [(e.src, e.dst) for e in g.edges] == []
    assert delete_edit(g, [], []) is None
    with pytest.raises(GraphError, match="there is no node 'ghost'"):
        delete_edit(g, ["ghost"], [])
