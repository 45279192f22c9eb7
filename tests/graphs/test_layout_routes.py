"""The layered layout and the routes it gives long wires: kept in the file, validated on
loading, shifted or dropped when nodes move, undone in one step."""

import json

import pytest

import resources
from graphs import Edge, Graph, GraphFileError, dumps_graph, load_graph, loads_graph
from graphs.edits import Move
from graphs.layout import (
    COLUMN_PITCH,
    NODE_HEIGHT,
    NODE_WIDTH,
    PORT_Y,
    READABLE_ZOOM,
    WINDOW,
    crossings,
    layered_layout,
    layout_edit,
    wires_behind_nodes,
)


def skip_graph() -> Graph:
    """Input -> Linear -> ReLU -> Linear -> Add (the input added back) -> Output."""
    g = Graph("skip")
    x = g.add_node("Input", shape=[8])
    prev = x
    for type_name, params in (("Linear", {"out_features": 8}), ("ReLU", {}), ("Linear", {"out_features": 8})):
        node = g.add_node(type_name, **params)
        g.connect(prev, node)
        prev = node
    add = g.add_node("Add")
    g.connect(prev, add)
    g.connect(x, add)
    g.connect(add, g.add_node("Output"))
    return g


def test_a_skip_wire_is_routed_through_its_own_slots_above_the_main_flow():
    g = skip_graph()
    layout = layered_layout(g)
    skip = Edge("input1", "add1")
    assert skip in layout.routes
    route = layout.routes[skip]
    assert len(route) % 2 == 0 and all(a[1] == route[0][1] for a in route)   # level, straight across
    assert route[0][1] < min(y for n, (x, y) in layout.positions.items() if n in ("fc1", "relu1", "fc2"))
    g.apply(layout_edit(g))
    assert wires_behind_nodes(g) == [] and crossings(g) == 0
    columns = sorted({x for x, _ in g.positions.values()})
    assert columns == [i * COLUMN_PITCH for i in range(len(columns))]         # one node a column: a chain


def test_routes_survive_the_file_and_undo_restores_the_drawing_before():
    g = load_graph(resources.example("unet.loom"))
    assert g.routes                                                  # the example ships laid out
    text = dumps_graph(g)
    again = loads_graph(text)
    assert again.routes == g.routes and dumps_graph(again) == text
    g.apply(Move({"enc1": (0.0, 900.0)}))                            # the skip from enc1 loses its bends
    edit = layout_edit(g)
    g.apply(edit)
    assert dumps_graph(g) == text
    g.revert(edit)
    assert g.positions["enc1"] == (0.0, 900.0)


def test_moving_both_ends_shifts_a_route_and_moving_one_drops_it_undoably():
    g = load_graph(resources.example("unet.loom"))
    skip = next(e for e in g.routes if e.src == "enc1")
    route = g.routes[skip]
    everything = {n: (x + 20.0, y + 40.0) for n, (x, y) in g.positions.items()}
    g.apply(Move(everything))
    assert g.routes[skip] == tuple((x + 20.0, y + 40.0) for x, y in route)
    one = Move({"skip1": (0.0, 0.0)})
    g.apply(one)
    assert skip not in g.routes
    g.revert(one)
    assert g.routes[skip] == tuple((x + 20.0, y + 40.0) for x, y in route)


def _with_routes(routes):
    data = json.loads(resources.example("unet.loom").read_text())
    data["layout"]["routes"] = routes
    return json.dumps(data)


@pytest.mark.parametrize("routes, where, says", [
    ({"a": 1}, "layout.routes", "must be a list"),
    ([{"from": "enc1", "from_port": "out", "to": "head", "to_port": "in", "via": []}], "layout.routes[0]",
     "route of a wire that does not exist"),
    ([{"from": ["x"], "from_port": "out", "to": "head", "to_port": "in", "via": []}], "layout.routes[0]",
     "route of a wire that does not exist"),
    ([{"from": "enc1", "from_port": "out", "to": "skip1", "to_port": "in", "via": [[0, "a"]]}],
     "layout.routes[0].via", "[x, y] points"),
    ([{"from": "enc1", "from_port": "out", "to": "skip1", "to_port": "in", "via": [[0, 1e300]]}],
     "layout.routes[0].via", "[x, y] points"),
    ([{"from": "enc1", "from_port": "out", "to": "skip1", "to_port": "in", "via": [[0, 0]] * 100_001}],
     "layout.routes[0].via", "at most 100000 points"),
    ([{"from": "enc1", "from_port": "out", "to": "skip1", "to_port": "in", "via": [], "code": "x"}],
     "layout.routes[0]", "must be an object with from"),
])
def test_a_bad_route_is_refused_with_its_place(routes, where, says):
    with pytest.raises(GraphFileError) as caught:
        loads_graph(_with_routes(routes))
    assert caught.value.where == where and says in caught.value.problem


def test_a_late_second_input_sits_by_the_layer_it_feeds():
    g = skip_graph()
    late = g.add_node("Input", shape=[8])
    g.connect(late, "add1")
    layout = layered_layout(g)
    assert set(layout.positions) == set(g.nodes)
    # the second input sits in the column just before the Add it feeds
    assert layout.positions[late][0] == layout.positions["add1"][0] - COLUMN_PITCH


def test_a_long_chain_folds_into_bands_that_fit_the_window_and_a_u_net_does_not():
    lenet = load_graph(resources.example("lenet5.loom"))
    flat = layered_layout(lenet)                        # no window: one row
    assert {y for _, y in flat.positions.values()} == {0.0}
    layout = layered_layout(lenet, WINDOW)
    bands = sorted({y for _, y in layout.positions.values()})
    assert len(bands) == 4 and max(x for x, _ in layout.positions.values()) == 3 * COLUMN_PITCH
    width = max(x for x, _ in layout.positions.values()) + NODE_WIDTH + 60
    height = max(bands) + NODE_HEIGHT + 60
    assert min(WINDOW[0] / width, WINDOW[1] / height) >= READABLE_ZOOM
    # one route per band break: out to the right, along below the band, back down the left margin
    assert len(layout.routes) == 3
    for edge, (out, down, back, into) in layout.routes.items():
        assert out[0] == down[0] > back[0] == into[0] < 0 and down[1] == back[1]
        assert layout.positions[edge.dst][0] == 0.0
    lenet.apply(layout_edit(lenet, WINDOW))
    assert wires_behind_nodes(lenet) == [] and crossings(lenet) == 0
    unet = load_graph(resources.example("unet.loom"))   # skips across its middle: no cut, it keeps its U
    assert layered_layout(unet, WINDOW).positions == layered_layout(unet).positions


def reads_one_way(graph: Graph) -> bool:
    """Every wire runs left to right within its band, or on down to a later band: no row runs back."""
    pos = graph.positions
    return all(pos[e.dst][0] > pos[e.src][0] or pos[e.dst][1] > pos[e.src][1] + NODE_HEIGHT for e in graph.edges)


def test_a_residual_chain_folds_where_a_block_starts_and_its_skip_goes_down_with_the_chain():
    skip = skip_graph()
    layout = layered_layout(skip, (200.0, 2000.0))        # a narrow window: as many bands as it takes
    skip.apply(layout_edit(skip, (200.0, 2000.0)))
    assert len({round(y) for _, y in layout.positions.values()}) > 2 and reads_one_way(skip)
    assert wires_behind_nodes(skip) == [] and crossings(skip) == 0
    # the band ends with the Input, which feeds the chain and the skip: both go down the left margin
    add = next(n for n in skip.nodes if skip.nodes[n].type == "Add")
    around = layout.routes[next(e for e in skip.edges if e.dst == add and e.src == "input1")]
    assert around[2][0] < 0 and around[-1][1] < layout.positions[add][1] + PORT_Y
    for name in ("vanishing_gradients/residual.loom", "vanishing_gradients/sigmoid.loom", "initialisation/kaiming.loom",
                 "lenet5.loom", "resnet18.loom", "vgg16.loom"):
        graph = load_graph(resources.examples_folder() / name)
        assert reads_one_way(graph), name                  # the bundled examples too: no snakes
        assert wires_behind_nodes(graph) == [], name
