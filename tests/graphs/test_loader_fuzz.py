"""Property-based: whatever a file holds, loading raises GraphFileError or succeeds; no other
exception escapes and nothing in the file is ever executed."""

import json
import os
import pathlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphs
from graphs import GraphFileError, dumps_graph, loads_graph
from tests.helpers import chain

BASE = json.loads(dumps_graph(chain(("Conv2d", {"out_channels": 4}), "ReLU", "Flatten",
                                    ("Linear", {"out_features": 3}), name="fuzz")))
SENTINEL = "/tmp/netloom-fuzz-sentinel"
HOSTILE = [f"__import__('os').system('touch {SENTINEL}')", "os.system", "builtins.eval",
           "!!python/object:os.system", "cos\nsystem\n(S'touch x'\ntR.", None, -1, 1e308, [], {}]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12) | st.sampled_from(HOSTILE),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10)


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, prefix + (i,))


ALL_PATHS = [p for p in paths(BASE) if p]


def mutate(data, path, action, value):
    data = json.loads(json.dumps(data))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "delete":
        del parent[last]
    elif action == "duplicate" and isinstance(parent, list):
        parent.append(parent[last])
    return data


def mutated(mutations):
    """The base file with each mutation that applies (some name a place an earlier one removed)."""
    data = BASE
    for path, action, value in mutations:
        try:
            data = mutate(data, path, action, value)
        except (KeyError, IndexError, TypeError):
            continue
    return data


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), st.sampled_from(["replace", "delete", "duplicate"]),
                          json_values), min_size=1, max_size=3))
def test_mutated_files_fail_only_with_graph_file_error(mutations):
    data = mutated(mutations)
    try:
        loads_graph(json.dumps(data), "fuzz.loom")
    except GraphFileError as err:
        assert str(err).startswith("fuzz.loom")
    assert not os.path.exists(SENTINEL)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_random_bytes_fail_only_with_graph_file_error(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("fuzz") / "random.loom"
    path.write_bytes(blob)
    from graphs import load_graph
    try:
        load_graph(path)
    except GraphFileError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.integers(1, len(dumps_graph(chain("ReLU", input_shape=[4]))) - 2))
def test_truncated_files_say_so(cut):
    text = dumps_graph(chain("ReLU", input_shape=[4]))
    try:
        loads_graph(text[:cut], "cut.loom")
    except GraphFileError as err:
        assert "cut.loom" in str(err)


def test_the_document_package_never_executes_or_unpickles():
    import ast
    package = pathlib.Path(graphs.__file__).parent          # found from the code, wherever the tests run
    sources = sorted(package.glob("*.py"))
    assert len(sources) > 10 and package / "fileformat.py" in sources
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not {"pickle", "marshal", "importlib", "yaml", "shelve"} & {n.split(".")[0] for n in names}, path
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("eval", "exec", "compile", "__import__", "getattr"), (path, node.func.id)


def _deep(levels: int) -> list:
    value: list = [1]
    for _ in range(levels):
        value = [value]
    return value


hostile_numbers = st.sampled_from([10**400, -(10**40), 2**63, float("inf"), float("-inf"), float("nan"), 1e308,
                                   _deep(40)])


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), st.sampled_from(["replace", "delete", "duplicate"]),
                          json_values | hostile_numbers), min_size=1, max_size=3))
def test_whatever_loads_can_be_saved_and_loads_again_the_same(mutations):
    data = mutated(mutations)
    try:
        graph = loads_graph(json.dumps(data), "fuzz.loom")
    except GraphFileError:
        return
    text = dumps_graph(graph)                     # never a ValueError, RecursionError or OverflowError
    assert dumps_graph(loads_graph(text, "again.loom")) == text
