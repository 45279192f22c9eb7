"""No text can shape the code NetLoom writes: node ids, block names, block parameters, the
graph's name and descriptions pass through one sanitiser (``graphs.names``) before they reach
the compiled forward or an exported ``.py``, even when they never went through validation."""

import ast
import subprocess
import sys

import pytest
import torch

from engine import compile_graph
from engine.interop import export, export_python
from graphs import Graph
from graphs.graph import Edge, Node, validate_params

# Every kind of text that has broken generated code somewhere: line breaks of every sort, quotes
# that end a string, backslashes, keywords, dunder names, names the file itself uses.
HOSTILE = ["fc\n", "fc\r\n", 'q"uote', "q'uote", 'tri"""ple', "back\\slash", "line\u2028sep", "para\u2029sep",
           "nel\u0085x", "lone\ud800", "nul\x00", "class", "None", "__init__", "__class__", "0", "self", "super",
           "torch", "nn", "Path", "INPUTS", "WEIGHTS", "forward", "Lin\n", "   ", ""]


def _insert(graph: Graph, node_id: str, type_name: str, **params) -> str:
    """A node as a damaged file or a careless script could put it there: no validation of its id."""
    values = validate_params(type_name, params, library=graph.blocks, declared=graph.declared())
    graph._insert_node(Node(node_id, type_name, values), None, None)
    return node_id


def _wire(graph: Graph, src: str, dst: str, src_port: str = "out", dst_port: str = "in") -> None:
    graph._insert_edge(Edge(src, dst, src_port, dst_port), None)


def hostile_graph(names: list[str], text: str, block_name: str | None = None) -> Graph:
    """Input -> a block use -> Linear -> ReLU ... -> Output, each id, the block's name, its
    parameter and its ports taken from ``names``; ``text`` is every name and description."""
    g = Graph(name=text, description=text)
    block_name, param = block_name or names[0] + "Block", names[1] + "width"
    body = g.new_body(block_name, {param: 4}, text)
    g.blocks[block_name] = body
    port_in, port_out = names[2] + "in", names[3] + "out"
    _insert(body, port_in, "Input", shape=[4])
    _insert(body, names[4], "Linear", out_features={"param": param})
    _insert(body, port_out, "Output")
    _wire(body, port_in, names[4])
    _wire(body, names[4], port_out)
    previous = _insert(g, names[5] + "x", "Input", shape=[4])
    use = _insert(g, names[6] + "use", block_name, **{param: 4})
    _wire(g, previous, use, "out", port_in)
    previous, port = use, port_out
    for i, name in enumerate(names[7:]):
        node = _insert(g, name, "Linear" if i % 2 == 0 else "ReLU", **({"out_features": 4} if i % 2 == 0 else {}))
        _wire(g, previous, node, port)
        previous, port = node, "out"
    _wire(g, previous, _insert(g, "out\n", "Output"), port)
    return g


TEXT = 'a """doc"""\\ with \' and " and \n new\u2028lines\x85 \ud800 and class None'


def test_the_compiled_forward_parses_and_runs_whatever_the_names():
    g = hostile_graph([n for n in HOSTILE if n], TEXT)
    model = compile_graph(g)
    ast.parse(model.code)
    assert model(torch.randn(3, 4)).shape == (3, 4)
    assert len(set(model.meta["netloom_node_ids"])) == len(model.meta["netloom_node_ids"])


@pytest.mark.parametrize("name", HOSTILE)
def test_each_hostile_name_compiles_alone(name):
    g = hostile_graph([name] * 7 + [name, name + "2"], name)
    model = compile_graph(g)
    ast.parse(model.code)
    assert model(torch.randn(2, 4)).shape == (2, 4)


def test_the_exported_python_parses_and_runs_with_its_weights(tmp_path):
    g = hostile_graph([n for n in HOSTILE if n], TEXT)
    model = compile_graph(g)
    state = model.state_dict()
    target = tmp_path / "hostile.py"
    export(g, "py", target, state)
    source = target.read_text(encoding="utf-8")
    tree = ast.parse(source)
    classes = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
    assert len(classes) == len(set(classes)) == 2
    assert not {"None", "Path", "INPUTS", "WEIGHTS", "class"} & set(classes)
    x = torch.randn(2, 4)
    script = (f"import sys, torch; sys.path.insert(0, {str(tmp_path)!r}); import hostile; "
              f"m = hostile.{classes[-1]}().eval(); x = torch.load({str(tmp_path / 'x.pt')!r}); "
              f"torch.save(m(x), {str(tmp_path / 'y.pt')!r})")
    torch.save(x, tmp_path / "x.pt")
    ran = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr[-3000:]
    with torch.no_grad():
        assert torch.equal(torch.load(tmp_path / "y.pt"), model.eval()(x))
    alone = subprocess.run([sys.executable, "-I", str(target)], capture_output=True, text=True, timeout=120)
    assert alone.returncode == 0 and "output 1: (2, 4)" in alone.stdout, alone.stderr[-3000:]


@pytest.mark.parametrize("name", ["None", "path", "inputs", "weights", "class", "9 lives", "Residual"])
def test_a_graph_name_never_gives_the_exported_class_a_name_the_file_uses(tmp_path, name):
    g = hostile_graph(["a", "b", "c", "d", "e", "f", "g", "h"], name, block_name="Residual")
    export_python(g, tmp_path / "named.py")
    ran = subprocess.run([sys.executable, "-I", str(tmp_path / "named.py")], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr[-3000:]
