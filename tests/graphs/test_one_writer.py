"""One writer: only the edits (``graphs/edits.py``) change an open document, and only the
builder (``graphs/builder.py``) fills a new one. Everything else reads. The source of every
package is read with ``ast``, found from the packages themselves, so the test holds wherever it
runs from."""

import ast
import pathlib

import pytest

import engine
import graphs
import gui
from graphs import Graph, GraphError
from graphs.builder import GraphBuilder

ROOT = pathlib.Path(graphs.__file__).resolve().parent.parent
WRITERS = {ROOT / "graphs" / "graph.py", ROOT / "graphs" / "edits.py", ROOT / "graphs" / "builder.py"}
# The graph's primitives: each keeps the wire indexes and announces an event.
MUTATORS = {"_insert_node", "_pop_node", "_insert_edge", "_pop_edge", "_set_params", "_drop_param", "_set_learning", "_rename",
            "_set_position", "_set_route", "_set_metadata", "_set_training", "_set_view", "_set_block",
            "_reindex_edges", "_changed", "_count_successor"}
# What a graph holds: writing any of these bypasses the edits (no event, no undo).
FIELDS = {"nodes", "edges", "positions", "routes", "metadata", "training", "view", "blocks", "parameters", "params",
          "lr_factor", "fresh", "origin"}
CHANGING_METHODS = {"append", "extend", "insert", "pop", "popitem", "remove", "clear", "update", "setdefault"}


def _sources() -> list[pathlib.Path]:
    folders = [pathlib.Path(p.__file__).resolve().parent for p in (graphs, engine, gui)]
    found = [f for folder in folders for f in folder.rglob("*.py")]
    found += [ROOT / "main.py", *sorted((ROOT / "scripts").glob("*.py")), *sorted((ROOT / "bench").glob("*.py"))]
    return [f for f in found if f.exists()]


def _owner(target: ast.expr) -> ast.expr | None:
    """For ``x.field``, ``x.field[k]``: the ``x.field`` attribute node, if ``field`` is a graph field."""
    while isinstance(target, ast.Subscript):
        target = target.value
    if isinstance(target, ast.Attribute) and target.attr in FIELDS:
        return target
    return None


def _not_self(attribute: ast.Attribute) -> bool:
    """``self.nodes`` in a class of its own (the scene's items) is that class's business."""
    return not (isinstance(attribute.value, ast.Name) and attribute.value.id == "self")


def _writes(path: pathlib.Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in MUTATORS and _not_self(node.func):
                found.append(f"{where} calls {node.func.attr}")
            elif node.func.attr in CHANGING_METHODS:
                owner = _owner(node.func.value)
                if owner is not None and _not_self(owner):
                    found.append(f"{where} changes .{owner.attr} with {node.func.attr}()")
        targets: list[ast.expr] = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for target in targets:
            owner = _owner(target)
            if owner is not None and _not_self(owner):
                found.append(f"{where} writes .{owner.attr}")
    return found


def test_only_the_edits_and_the_builder_write_a_graph():
    sources = _sources()
    assert ROOT / "graphs" / "fileformat.py" in sources and ROOT / "gui" / "main_window.py" in sources
    offences = [line for path in sources if path not in WRITERS for line in _writes(path)]
    assert offences == []


def test_the_scan_finds_writes_of_each_kind(tmp_path):
    """The scan itself: it must see a primitive called, a field assigned, changed in place and deleted."""
    sample = tmp_path / "sample.py"
    sample.write_text("g._insert_node(n, None, None)\ng.training = {}\ng.positions['a'] = (0, 0)\n"
                      "g.metadata.update(name='x')\ndel g.nodes['a']\nbody.params['k'] = 1\nself.nodes['a'] = item\n")
    assert [line.split(" ", 1)[1] for line in _writes_at(sample)] == [
        "calls _insert_node", "writes .training", "writes .positions", "changes .metadata with update()",
        "writes .nodes", "writes .params"]


def _writes_at(path: pathlib.Path) -> list[str]:
    global ROOT
    saved, ROOT = ROOT, path.parent
    try:
        return sorted(_writes(path), key=lambda line: int(line.split(":")[1].split(" ")[0]))
    finally:
        ROOT = saved


def test_the_builder_refuses_a_graph_that_someone_watches():
    g = Graph()
    g.events.subscribe(lambda changes: None)
    with pytest.raises(GraphError, match="builder fills only a new graph"):
        GraphBuilder(g)
