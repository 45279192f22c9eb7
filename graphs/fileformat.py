"""The ``.loom`` file: UTF-8 JSON with a format name and an integer version.

Loading only ever parses JSON and looks layer types up in the built-in catalog: nothing in a
file is imported, evaluated or unpickled. Every problem becomes a ``GraphFileError`` naming the
file, the place in it and what is wrong. Saving is atomic: a temporary file in the same folder
is written, flushed and fsynced, then moved over the target.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

from . import atomic
from .blocks import MAX_NESTING, block_cycle, block_name_problem, block_spec, nesting_depth, parameter_problem, ref_name
from .builder import GraphBuilder
from .catalog import CATALOG
from .graph import MAX_COORDINATE, MAX_ROUTE_POINTS, Edge, Graph, Node, id_problem, origin_problem, validate_params
from .migrations import CURRENT_VERSION, migrate
from .reading import ReadError, read_regular
from .specs import ParamError
from .values import first_clause, lr_factor_problem, value_problem

FORMAT_NAME = "netloom.graph"
MAX_FILE_BYTES = 64 * 1024 * 1024
_SECTIONS = ("format", "format_version", "metadata", "blocks", "nodes", "edges", "layout", "training")
_BLOCK_FIELDS = ("description", "params", "nodes", "edges", "layout")
_LEARNING_FIELDS = ("lr_factor", "fresh")


def one_line(text: str) -> str:
    """A place in a file as a message shows it: keys that hold line breaks, control or separator
    characters are escaped, so that a message is always one line."""
    return text if text.isprintable() else "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


class GraphFileError(Exception):
    """A file that cannot be read or written; ``str()`` is a complete message for the user."""

    def __init__(self, path: str | os.PathLike, where: str, problem: str) -> None:
        self.path, self.where, self.problem = str(path), one_line(where), problem
        place = f"{self.path}: {self.where}: " if where else f"{self.path}: "
        super().__init__(place + problem)


# ---------------------------------------------------------------------- writing
def graph_to_dict(graph: Graph) -> dict[str, Any]:
    """The file's content as plain data, in the stable order the file keeps."""
    meta: dict[str, Any] = {k: graph.metadata[k] for k in ("name", "description") if k in graph.metadata}
    meta.update({k: graph.metadata[k] for k in sorted(graph.metadata) if k not in meta})
    result: dict[str, Any] = {"format": FORMAT_NAME, "format_version": CURRENT_VERSION, "metadata": meta}
    if graph.blocks:      # definitions before their uses, as in code; files without blocks stay as they were
        result["blocks"] = {name: {"description": body.metadata.get("description", ""),
                                   "params": dict(body.parameters), **_body_to_dict(body)}
                            for name, body in graph.blocks.items()}
    result.update(_body_to_dict(graph))
    result["layout"]["view"] = _sorted(graph.view)
    result["training"] = _sorted(graph.training)
    return result


def _body_to_dict(graph: Graph) -> dict[str, Any]:
    layout: dict[str, Any] = {"positions": {n: [_coordinate(v) for v in graph.positions[n]]
                                            for n in graph.nodes if n in graph.positions}}
    wires = set(graph.edges)
    routes = [{"from": e.src, "from_port": e.src_port, "to": e.dst, "to_port": e.dst_port,
               "via": [[_coordinate(x), _coordinate(y)] for x, y in graph.routes[e]]}
              for e in graph.edges if e in graph.routes and e in wires]
    if routes:            # only laid-out files carry them; others stay as they were
        layout["routes"] = routes
    return {
        "nodes": [_node_to_dict(n) for n in graph.nodes.values()],
        "edges": [{"from": e.src, "from_port": e.src_port, "to": e.dst, "to_port": e.dst_port}
                  for e in graph.edges],
        "layout": layout,
    }


def _node_to_dict(node: Node) -> dict[str, Any]:
    item: dict[str, Any] = {"id": node.id, "type": node.type}
    if node.origin:           # an imported node: its module's path in the original model
        item["origin"] = node.origin
    # How it learns, only when it differs from the run (most files never say), before the
    # parameters: freezing a node adds one line to the file.
    if node.lr_factor != 1:
        item["lr_factor"] = _number(node.lr_factor)
    if node.fresh:
        item["fresh"] = True
    item["params"] = {p.name: node.params[p.name] for p in node.spec.params if p.name in node.params}
    return item


def _number(v: float) -> float | int:
    return int(v) if float(v).is_integer() and abs(v) < 2**53 else v


def dumps_graph(graph: Graph) -> str:
    """The file's text: 2-space indent, one wire per line, short lists inline (small diffs)."""
    return escape_surrogates(_format(graph_to_dict(graph), 0) + "\n")


_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_surrogates(json_text: str) -> str:
    """JSON text whose lone surrogates (valid JSON as ``\\ud800``, loaded as such, but no UTF-8
    can hold them) are written as escapes: whatever loads, saves, and loads back the same. They
    can only stand inside strings, where an escape means the same character."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text)


def _format(value: Any, depth: int, inline_objects: bool = False) -> str:
    scalar = (str, int, float, bool, type(None))
    if isinstance(value, list) and all(isinstance(v, scalar) for v in value):
        return _dump(value)
    if isinstance(value, dict) and (inline_objects or ref_name(value)) and all(isinstance(v, scalar) for v in value.values()):
        return _dump(value)
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{_dump(k)}: {_format(v, depth + 1, k == 'edges')}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        items = [f"{inner}{_format(v, depth + 1, inline_objects)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return _dump(value)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def save_graph(graph: Graph, path: str | os.PathLike) -> None:
    """Write the graph atomically: the target is either the old file or the complete new one."""
    target = Path(path)
    try:
        text = dumps_graph(graph)
    except (TypeError, ValueError) as err:
        raise GraphFileError(target, "", f"cannot be saved: {err}") from None
    write_atomically(target, text.encode("utf-8"))


def write_atomically(target: Path, data: bytes) -> None:
    """Write a file of the document's family atomically; GraphFileError naming it if that fails."""
    try:
        atomic.write_atomically(target, data)
    except OSError as err:
        problem = "the disk is full" if atomic.is_disk_full(err) else (err.strerror or str(err))
        raise GraphFileError(target, "", f"cannot be written ({problem}); the file on disk was left as it "
                                         "was") from None


def _coordinate(v: float) -> float | int:
    v = round(float(v), 1)
    return int(v) if v.is_integer() and abs(v) < 2**53 else v


def _sorted(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (_sorted(v) if isinstance(v, dict) else v) for k, v in sorted(d.items())}


# ---------------------------------------------------------------------- reading
def load_graph(path: str | os.PathLike) -> Graph:
    """Read a ``.loom`` file; any problem raises GraphFileError and nothing else."""
    path = Path(path)
    atomic.remove_stale_temporaries(path)   # leftovers of a save that was interrupted
    try:
        raw = read_regular(path, MAX_FILE_BYTES, "graph file")
    except ReadError as err:
        raise GraphFileError(path, "", err.problem) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise GraphFileError(path, f"byte {err.start}", "is not UTF-8 text; is this a graph file?") from None
    return loads_graph(text, path)


def loads_graph(text: str, source: str | os.PathLike = "<text>") -> Graph:
    data = _parse_json(text, source)
    return graph_from_dict(data, source)


def _parse_json(text: str, source) -> Any:
    def no_duplicates(pairs):
        seen = {}
        for k, v in pairs:
            if k in seen:
                raise _Duplicate(k)
            seen[k] = v
        return seen

    def no_constant(name):
        raise _BadConstant(name)

    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)
    except json.JSONDecodeError as err:
        if not text.strip():
            raise GraphFileError(source, "", "is empty") from None
        where = f"line {err.lineno}, column {err.colno}"
        if err.pos >= len(text.rstrip()) or not text.rstrip().endswith(("}", "]")):
            raise GraphFileError(source, where, "the file ends too early (truncated?)") from None
        raise GraphFileError(source, where, f"invalid JSON: {err.msg}") from None
    except ValueError as err:    # an integer of thousands of digits, refused by Python itself
        raise GraphFileError(source, "", f"holds a number JSON cannot carry here ({first_clause(err)})") from None
    except _Duplicate as dup:
        raise GraphFileError(source, "", f"the key '{dup.args[0]}' appears twice in one object") from None
    except _BadConstant as bad:
        raise GraphFileError(source, "", f"'{bad.args[0]}' is not a number JSON allows") from None
    except RecursionError:
        raise GraphFileError(source, "", "is nested too deeply to be a graph file") from None


class _Duplicate(Exception):
    pass


class _BadConstant(Exception):
    pass


def graph_from_dict(data: Any, source: str | os.PathLike = "<data>") -> Graph:
    """Build a graph from parsed file content, validating every part."""
    def fail(where: str, problem: str) -> GraphFileError:
        return GraphFileError(source, where, problem)

    unusable = value_problem(data)
    if unusable is not None:
        raise fail(*unusable)

    if not isinstance(data, dict):
        raise fail("", "is not a graph file (the top level must be a JSON object)")
    if data.get("format") != FORMAT_NAME:
        found = data.get("format")
        raise fail("format", f"is {found!r}, not '{FORMAT_NAME}': this is not a NetLoom graph file"
                   if found is not None else "missing: this is not a NetLoom graph file")
    version = data.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise fail("format_version", f"must be a positive integer, not {version!r}")
    if version > CURRENT_VERSION:
        raise fail("format_version", f"the file is version {version}, written by a newer NetLoom; "
                   f"this one reads versions up to {CURRENT_VERSION}. Update NetLoom to open it.")
    try:
        data = migrate(data, version)
    except ValueError as err:
        raise fail(f"format_version {version}", f"cannot be upgraded: {err}") from None
    for key in data:
        if key not in _SECTIONS:
            raise fail(key, f"unknown section; a graph file has {', '.join(_SECTIONS)}")

    graph = Graph()
    build = GraphBuilder(graph)
    metadata = _section(data, "metadata", dict, {}, fail)
    for key, value in metadata.items():
        if not isinstance(value, (str, int, float, bool)) or isinstance(value, float) and not math.isfinite(value):
            raise fail(f"metadata.{key}", "must be text or a number")
    build.metadata({"name": "untitled", "description": ""} | metadata)
    if not isinstance(graph.metadata["name"], str) or not isinstance(graph.metadata["description"], str):
        raise fail("metadata", "'name' and 'description' must be text")

    _read_blocks(build, _section(data, "blocks", dict, {}, fail), fail)
    layout = _read_body(build, data, fail, "", ("positions", "routes", "view"))
    view = layout.get("view", {})
    if not isinstance(view, dict):
        raise fail("layout.view", "must be an object")
    build.view(view)
    build.training(_section(data, "training", dict, {}, fail))
    return graph


def _read_body(build: GraphBuilder, data: dict, fail, place: str, layout_fields: tuple[str, ...]) -> dict:
    """Nodes, wires and positions of the document or of one block's body (``place`` says which,
    for messages); returns the layout section."""
    graph = build.graph
    for i, item in enumerate(_section(data, "nodes", list, [], fail, place)):
        where = f"{place}nodes[{i}]"
        if not isinstance(item, dict):
            raise fail(where, "must be an object with id, type and params")
        extra = set(item) - {"id", "type", "params", "origin", *_LEARNING_FIELDS}
        if extra:
            raise fail(where, f"unknown field '{sorted(extra)[0]}'")
        node_id, type_name, params = item.get("id"), item.get("type"), item.get("params", {})
        problem = id_problem(node_id)
        if problem or not isinstance(node_id, str):
            raise fail(f"{where}.id", problem or "must be text")
        where = f"{place}node '{node_id}'"
        if node_id in graph.nodes:
            raise fail(where, "this id is used by two nodes")
        if not isinstance(type_name, str) or (type_name not in CATALOG and type_name not in graph.blocks):
            raise fail(f"{where}.type", f"unknown layer type {type_name!r}")
        if not isinstance(params, dict):
            raise fail(f"{where}.params", "must be an object")
        learning = _learning(item, place, where, fail)
        origin = item.get("origin", "")
        if "origin" in item and origin_problem(origin):
            raise fail(f"{where}.origin", str(origin_problem(origin)))
        try:
            values = validate_params(type_name, params, library=graph.blocks, declared=graph.declared())
        except ParamError as err:
            raise fail(f"{where}.params", str(err)) from None
        build.add(Node(node_id, type_name, values, None, *learning, origin=origin))

    seen_edges = set()
    for i, item in enumerate(_section(data, "edges", list, [], fail, place)):
        where = f"{place}edges[{i}]"
        if not isinstance(item, dict) or set(item) != {"from", "from_port", "to", "to_port"}:
            raise fail(where, "must be an object with from, from_port, to and to_port")
        edge = Edge(item["from"], item["to"], item["from_port"], item["to_port"])
        for end, port, kind in ((edge.src, edge.src_port, "output"), (edge.dst, edge.dst_port, "input")):
            if not isinstance(end, str) or end not in graph.nodes:
                raise fail(where, f"wire {_show(edge)} refers to a missing node {end!r}")
            spec = graph.nodes[end].spec
            found = spec.output_port(port) if kind == "output" and isinstance(port, str) else (
                spec.input_port(port) if isinstance(port, str) else None)
            if found is None:
                ports = [p.name for p in (spec.outputs if kind == "output" else spec.inputs)]
                raise fail(where, f"wire {_show(edge)}: {end} ({spec.type}) has no {kind} port {port!r}"
                           + (f"; it has {', '.join(ports)}" if ports else ""))
        if edge in seen_edges:
            raise fail(where, f"wire {_show(edge)} appears twice")
        seen_edges.add(edge)
        build.connect(edge)

    layout = _section(data, "layout", dict, {}, fail, place)
    for key in layout:
        if key not in layout_fields:
            raise fail(f"{place}layout.{key}", f"unknown field; layout has {' and '.join(layout_fields)}")
    positions = layout.get("positions", {})
    if not isinstance(positions, dict):
        raise fail(f"{place}layout.positions", "must be an object")
    for node_id, pos in positions.items():
        if node_id not in graph.nodes:
            raise fail(f"{place}layout.positions.{node_id}", "position of a node that does not exist")
        if (not isinstance(pos, list) or len(pos) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                           for v in pos)):
            raise fail(f"{place}layout.positions.{node_id}", "must be [x, y]")
        if any(abs(v) > MAX_COORDINATE for v in pos):
            raise fail(f"{place}layout.positions.{node_id}", f"is outside the canvas (coordinates up to {MAX_COORDINATE:g})")
        build.place(node_id, pos)
    _read_routes(build, layout.get("routes", []), fail, place)
    return layout


def _learning(item: dict, place: str, where: str, fail) -> tuple[float, bool]:
    """A node's ``lr_factor`` and ``fresh``: only the model's nodes have them (a block's layers
    learn as its uses do)."""
    given = [k for k in _LEARNING_FIELDS if k in item]
    if given and place:
        raise fail(f"{where}.{given[0]}", "a layer inside a block learns as the block's uses do; set it on a use")
    factor, fresh = item.get("lr_factor", 1.0), item.get("fresh", False)
    problem = lr_factor_problem(factor)
    if problem:
        raise fail(f"{where}.lr_factor", problem)
    if not isinstance(fresh, bool):
        raise fail(f"{where}.fresh", f"must be true or false, not {fresh!r}")
    return float(factor), fresh


def _is_point(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                    and abs(v) <= MAX_COORDINATE for v in value))


def _read_routes(build: GraphBuilder, routes: Any, fail, place: str) -> None:
    """The bend points of laid-out wires: each names a wire of the file, finite points only."""
    graph = build.graph
    if not isinstance(routes, list):
        raise fail(f"{place}layout.routes", "must be a list")
    wires = set(graph.edges)
    for i, item in enumerate(routes):
        where = f"{place}layout.routes[{i}]"
        if not isinstance(item, dict) or set(item) != {"from", "from_port", "to", "to_port", "via"}:
            raise fail(where, "must be an object with from, from_port, to, to_port and via")
        edge = Edge(item["from"], item["to"], item["from_port"], item["to_port"])
        if not all(isinstance(v, str) for v in (edge.src, edge.dst, edge.src_port, edge.dst_port)) or edge not in wires:
            raise fail(where, f"route of a wire that does not exist ({_show(edge)})")
        via = item["via"]
        if not isinstance(via, list) or len(via) > MAX_ROUTE_POINTS:
            raise fail(f"{where}.via", f"must be a list of at most {MAX_ROUTE_POINTS} points")
        if not all(_is_point(p) for p in via):
            raise fail(f"{where}.via", f"must hold [x, y] points on the canvas (coordinates up to {MAX_COORDINATE:g})")
        build.route(edge, via)


def _used_first(section: dict[str, Any]) -> list[str]:
    """Block names with each block after the blocks its body uses (file order otherwise; a
    loop, refused once the bodies are read, keeps file order)."""
    uses = {}
    for name, item in section.items():
        nodes = item.get("nodes") if isinstance(item, dict) else None
        # Only well-formed uses order the blocks; a type that is not text is refused when read.
        types = [n.get("type") for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []
        uses[name] = [t for t in types if isinstance(t, str) and t in section and t != name]
    order: list[str] = []
    state: dict[str, int] = {}          # 1: being placed, 2: placed
    for start in section:
        stack = [(start, iter(uses[start]))]
        if state.get(start):
            continue
        state[start] = 1
        while stack:                    # iterative: a hostile file may nest deeply
            name, pending = stack[-1]
            used = next(pending, None)
            if used is None:
                stack.pop()
                state[name] = 2
                order.append(name)
            elif not state.get(used):
                state[used] = 1
                stack.append((used, iter(uses[used])))
    return order


def _read_blocks(build: GraphBuilder, section: dict, fail) -> None:
    """Block definitions: all names first, so that blocks may use one another in any order; then
    each body; then no block may use itself, and nesting stays bounded."""
    graph = build.graph
    for name, item in section.items():
        where = f"blocks.{name}"
        problem = block_name_problem(name, graph.blocks)
        if problem:
            raise fail(where, problem)
        if not isinstance(item, dict):
            raise fail(where, "must be an object with description, params, nodes, edges and layout")
        extra = set(item) - set(_BLOCK_FIELDS)
        if extra:
            raise fail(where, f"unknown field '{sorted(extra)[0]}'; a block has {', '.join(_BLOCK_FIELDS)}")
        declared = item.get("params", {})
        if not isinstance(declared, dict):
            raise fail(f"{where}.params", "must be an object of parameter names and default values")
        for key, default in declared.items():
            problem = parameter_problem(key, default)
            if problem:
                raise fail(f"{where}.params.{key}", problem)
        description = item.get("description", "")
        if not isinstance(description, str):
            raise fail(f"{where}.description", "must be text")
        build.define(name, graph.new_body(name, declared, description))
    for name in _used_first(section):     # a wire into a block use needs that block's ports
        _read_body(GraphBuilder(graph.blocks[name]), section[name], fail, f"blocks.{name}.", ("positions", "routes"))
    loop = block_cycle(graph.blocks)
    if loop:
        raise fail(f"blocks.{loop[0]}", "a block may not use itself: " + " uses ".join(loop))
    if nesting_depth(graph.blocks) > MAX_NESTING:
        raise fail("blocks", f"blocks nest more than {MAX_NESTING} deep")
    for name, body in graph.blocks.items():
        spec = block_spec(body)
        for key, default in body.parameters.items():
            try:
                spec.param(key).validate(default)
            except ParamError as err:
                raise fail(f"blocks.{name}.params.{key}", f"the default does not suit its use: {err}") from None


def _section(data: dict, key: str, kind: type, default: Any, fail, place: str = "") -> Any:
    value = data.get(key, default)
    if not isinstance(value, kind):
        raise fail(place + key, f"must be {'an object' if kind is dict else 'a list'}")
    return value


def _show(edge: Edge) -> str:
    return f"{edge.src!s}.{edge.src_port!s} -> {edge.dst!s}.{edge.dst_port!s}"
