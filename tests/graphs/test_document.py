"""The graph document: ids, wiring rules, parameters and reversible edits with events."""

import pytest

from graphs import Edge, Graph, GraphError, dumps_graph
from graphs.edits import Connect, Move
from graphs.events import EdgeAdded, EdgeRemoved, NodeAdded, NodeMoved, NodeRemoved, NodeRenamed, ParamsChanged
from tests.helpers import chain


def test_ids_are_readable_and_unique():
    g = Graph()
    ids = [g.add_node(t) for t in ("Input", "Conv2d", "Conv2d", "Linear", "ReLU", "Output")]
    assert ids == ["input1", "conv1", "conv2", "fc1", "relu1", "output1"]
    g.remove_node("conv1")
    assert g.add_node("Conv2d") == "conv1"


def test_parameters_take_defaults_and_refuse_bad_values_by_name():
    g = Graph()
    conv = g.add_node("Conv2d", out_channels=8)
    assert g.nodes[conv].params["kernel_size"] == 3 and g.nodes[conv].params["out_channels"] == 8
    with pytest.raises(GraphError, match=r"conv1: 'out_channels' must be at least 1, not 0"):
        g.set_params(conv, out_channels=0)
    with pytest.raises(GraphError, match=r"'kernel_size' must be an integer, not 'big'"):
        g.set_params(conv, kernel_size="big")
    with pytest.raises(GraphError, match=r"unknown parameter 'in_channels'"):
        g.set_params(conv, in_channels=3)   # inferred, never typed
    g.set_params(conv, kernel_size=[3, 5])
    assert g.nodes[conv].params["kernel_size"] == [3, 5]
    g.set_params(conv, kernel_size=[4, 4])
    assert g.nodes[conv].params["kernel_size"] == 4   # a square kernel is stored as one number


@pytest.mark.parametrize("make_wire, reason", [
    (lambda g: g.connect("relu1", "relu1"), "cannot feed itself"),
    (lambda g: g.connect("fc1", "relu1"), "already has an input"),
    (lambda g: g.connect("output1", "fc1"), "has no output"),
    (lambda g: g.connect("fc1", "input1"), "takes no input"),
])
def test_illegal_wires_are_refused_with_a_reason(make_wire, reason):
    g = chain("ReLU", ("Linear", {"out_features": 3}), input_shape=[4])
    with pytest.raises(GraphError, match=reason):
        make_wire(g)


def test_a_wire_that_closes_a_cycle_is_refused():
    g = chain("Add", "ReLU", "Sigmoid", input_shape=[4])   # Add takes several wires
    with pytest.raises(GraphError, match="wiring sigmoid1 to add1 would make a cycle"):
        g.connect("sigmoid1", "add1")
    assert len(g.edges) == 4


def test_every_edit_reverts_to_the_identical_document():
    g = chain(("Conv2d", {"out_channels": 4}), "ReLU", "Flatten", ("Linear", {"out_features": 10}))
    g.move("conv1", 10, 20)
    before = dumps_graph(g)
    edits = [
        g.add_node_edit("Dropout", p=0.3),
        g.set_params_edit("conv1", out_channels=32, padding=1),
        g.insert_between_edit(g.in_edges("fc1")[0], "BatchNorm1d"),
        Move({"conv1": (50.0, 60.0)}),
    ]
    from graphs.edits import Disconnect, RemoveNode, Rename
    edits += [RemoveNode("relu1"), Rename("conv1", "features"), Disconnect(g.edges[-1])]
    for edit in edits:
        snapshot = dumps_graph(g)
        g.apply(edit)
        assert dumps_graph(g) != snapshot
        g.revert(edit)
        assert dumps_graph(g) == snapshot
        g.apply(edit)   # redo works too
    for edit in reversed(edits):
        g.revert(edit)
    assert dumps_graph(g) == before


def test_removing_a_node_restores_its_wires_in_their_order():
    g = Graph()
    a, b, c = (g.add_node("Input", shape=[4]) for _ in range(3))
    cat = g.add_node("Concat", dim=1)
    for n in (a, b, c):
        g.connect(n, cat)
    g.connect(cat, g.add_node("Output"))
    order = [e.src for e in g.in_edges(cat)]
    edit = g.apply(__import__("graphs").edits.RemoveNode(b))
    assert [e.src for e in g.in_edges(cat)] == [a, c]
    g.revert(edit)
    assert [e.src for e in g.in_edges(cat)] == order


def test_rename_rewires_and_refuses_bad_names():
    g = chain("ReLU", input_shape=[4])
    g.move("relu1", 1, 2)
    g.rename("relu1", "activation")
    assert Edge("input1", "activation") in g.edges and g.positions["activation"] == (1.0, 2.0)
    for bad, reason in (("2fast", "not a valid name"), ("class", "reserved"), ("_private", "reserved"),
                        ("input1", "already exists"), ("has space", "not a valid name")):
        with pytest.raises(GraphError, match=reason):
            g.rename("activation", bad)
    g.rename("activation", "forward")      # a module attribute's name: the compiler gives it a safe attribute
    assert "forward" in g.nodes


def test_every_edit_is_announced_once_as_typed_events():
    g = Graph()
    batches = []
    unsubscribe = g.events.subscribe(batches.append)
    x = g.add_node("Input", shape=[4])
    r = g.add_node("ReLU")
    edge = g.connect(x, r)
    g.set_params(x, shape=[5])
    g.rename(r, "act")
    g.move("act", 1, 1)
    g.remove_node("act")          # one edit: the wire goes, then the node, announced together
    assert [b.events for b in batches] == [
        (NodeAdded("input1"),), (NodeAdded("relu1"),), (EdgeAdded(edge),), (ParamsChanged("input1", ("shape",)),),
        (NodeRenamed("relu1", "act"),), (NodeMoved("act"),), (EdgeRemoved(Edge("input1", "act")), NodeRemoved("act"))]
    assert [b.changes_model for b in batches] == [True, True, True, True, True, False, True]
    unsubscribe()
    g.add_node("ReLU")
    assert len(batches) == 7


def test_views_hear_only_the_kinds_they_draw():
    g = chain("ReLU", input_shape=[4])
    moves = []
    g.events.subscribe(moves.append, kinds=(NodeMoved,))
    g.set_training({"epochs": 1})
    g.move("relu1", 3, 4)
    assert [b.events for b in moves] == [(NodeMoved("relu1"),)]


def test_a_move_keeps_the_model_fingerprint_and_a_parameter_changes_it():
    g = chain(("Linear", {"out_features": 3}), input_shape=[4])
    before = g.model_fingerprint()
    g.move("fc1", 100, 100)
    g.set_training({"epochs": 3})
    assert g.model_fingerprint() == before
    g.set_params("fc1", out_features=4)
    assert g.model_fingerprint() != before
    g.set_params("fc1", out_features=3)
    assert g.model_fingerprint() == before


def test_a_wire_to_a_port_that_does_not_exist_is_refused_by_the_edit_itself():
    g = chain("ReLU", input_shape=[4])
    with pytest.raises(GraphError, match="relu1 \\(ReLU\\) has no input port 'side'"):
        g.apply(Connect(Edge("input1", "relu1", "out", "side")))
    assert len(g.edges) == 2


def test_consecutive_moves_merge_into_one_step():
    g = chain("ReLU", input_shape=[4])
    first = g.apply(Move({"relu1": (1.0, 1.0)}))
    second = g.apply(Move({"relu1": (5.0, 7.0)}))
    assert first.merge(second)
    g.revert(first)
    assert "relu1" not in g.positions


def test_adding_a_node_and_a_wire_does_not_walk_all_the_wires():
    """Building a graph through the API stays linear: checking a new wire looks at what it touches."""
    class CountingList(list):
        walks = 0

        def __iter__(self):
            CountingList.walks += 1
            return super().__iter__()

    g = Graph()
    prev = g.add_node("Input", shape=[4])
    for _ in range(200):
        node = g.add_node("ReLU")
        g.connect(prev, node)
        prev = node
    g.edges = CountingList(g.edges)
    for _ in range(50):
        node = g.add_node("ReLU")
        g.connect(prev, node)
        prev = node
    assert CountingList.walks == 0
    assert g.unique_id("relu") == "relu251"
