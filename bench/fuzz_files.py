"""Fuzzing graph files: mutate the bundled examples and run each through load, check, compile
and save; count what happens.

    python -m bench.fuzz_files --cases 10000 [--seed 1]

Each case is one example with one to three mutations (values replaced by hostile ones: huge or
non-finite numbers, deep nesting, odd ids such as ``load_state_dict``, sizes no machine holds,
lone surrogates; keys deleted; list items duplicated) and, in some cases, one change of
structure: a name (node id, block name, block parameter) given a trailing line break, an
Identity fed by a node that also feeds others, true/false values (a comparison) put before a
layer, a local_response_norm of 2^31 channels. The report counts each outcome: the good ones are
a ``GraphFileError`` on load, diagnostics from the check, a ``CompileError``, or a graph that
compiles, runs a forward pass and saves; anything else is a defect, listed with its first
message. Cases over 5 s of CPU time (hangs; on one thread, so that other work on the machine
does not count) and cases that grew the process's peak memory by over 1 GB are counted too. The
goal for every defect count is 0.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

import resources
from engine import Checker, CompileError, compile_graph
from engine.interop import example_inputs
from graphs import GraphFileError, load_graph, loads_graph, save_graph

HOSTILE_VALUES: list[Any] = [
    10**400, -(10**30), 2**63, 1e308, -1, 0, 3, 65536, 10**9, 0.5, True, None, "", "x" * 300,
    "os.system", "builtins.eval", "__import__('os')", [], {}, [[[[[]]]]], [1] * 50, {"a": {"b": {"c": 1}}},
    "load_state_dict", "forward", "torch", "self", "bfloat16", "compile", "register_forward_hook",
    "\ud800", "a\udfffb", "fc1\n", "x\u2028y", 2**31,
]
LINE_BREAKS = ("\n", "\r\n", "\u2028", "\x85", " ")
SLOW_S = 5.0
BIG_BYTES = 1 << 30
RUN_MACS = 2 * 10**9          # a forward pass of more multiply-adds a sample is not run here
GOOD = ("loaded and saved", "GraphFileError", "diagnostics", "CompileError", "too large to build here",
        "too large to run here")


def examples() -> list[tuple[str, Any]]:
    return [(p.stem, json.loads(p.read_text(encoding="utf-8"))) for p in sorted(resources.examples_folder().glob("*.loom"))]


def _places(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _places(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _places(v, prefix + (i,))


# ---------------------------------------------------------------------- changes of structure
def _bodies(data: Any) -> list[dict]:
    """The top-level graph and every block body of a file's data."""
    blocks = data.get("blocks") if isinstance(data, dict) else None
    return [data] + [b for b in blocks.values() if isinstance(b, dict)] if isinstance(blocks, dict) else [data]


def _nodes(body: dict) -> list[dict]:
    return [n for n in body.get("nodes", []) if isinstance(n, dict) and isinstance(n.get("id"), str)]


def _edges(body: dict) -> list[dict]:
    return [e for e in body.get("edges", []) if isinstance(e, dict)]


def _rename_node(body: dict, old: str, new: str) -> None:
    """A node renamed everywhere the body names it: its wires, position and routes."""
    for node in _nodes(body):
        if node["id"] == old:
            node["id"] = new
    for wire in _edges(body) + [r for r in body.get("layout", {}).get("routes", []) if isinstance(r, dict)]:
        for end in ("from", "to"):
            if wire.get(end) == old:
                wire[end] = new
    positions = body.get("layout", {}).get("positions", {})
    if old in positions:
        positions[new] = positions.pop(old)


def _trailing_break(data: dict, rng: random.Random) -> None:
    """A node id, a block name or a block parameter that ends in a line break, renamed throughout."""
    tail = rng.choice(LINE_BREAKS)
    blocks = data.get("blocks", {})
    choice = rng.random()
    if choice < 0.3 and blocks:
        name = rng.choice(list(blocks))
        blocks[name + tail] = blocks.pop(name)
        for body in _bodies(data):
            for node in _nodes(body):
                if node.get("type") == name:
                    node["type"] = name + tail
    elif choice < 0.5 and any(b.get("params") for b in blocks.values() if isinstance(b, dict)):
        block = rng.choice([b for b in blocks.values() if isinstance(b, dict) and b.get("params")])
        param = rng.choice(list(block["params"]))
        block["params"][param + tail] = block["params"].pop(param)
        for node in _nodes(block):
            for key, value in node.get("params", {}).items():
                if value == {"param": param}:
                    node["params"][key] = {"param": param + tail}
    else:
        body = rng.choice(_bodies(data))
        if _nodes(body):
            old = rng.choice(_nodes(body))["id"]
            _rename_node(body, old, old + tail)


def _insert_after(body: dict, rng: random.Random, node: dict) -> None:
    """``node`` (new) put on one wire of ``body``: the wire's source feeds it, it feeds the target."""
    wires = [e for e in _edges(body) if isinstance(e.get("from"), str)]
    if not wires:
        return
    wire = rng.choice(wires)
    body.setdefault("nodes", []).append(node)
    body["edges"].append({"from": wire["from"], "from_port": wire["from_port"], "to": node["id"], "to_port": "in"})
    wire["from"], wire["from_port"] = node["id"], "out"


def _identity_fan_out(data: dict, rng: random.Random) -> None:
    """An Identity whose input also feeds other nodes, in front of one of them or of an Output of its own."""
    body = rng.choice(_bodies(data))
    wires = [e for e in _edges(body) if isinstance(e.get("from"), str)]
    if not wires:
        return
    wire = rng.choice(wires)
    body.setdefault("nodes", []).extend([{"id": "fuzz_identity", "type": "Identity", "params": {}},
                                         {"id": "fuzz_output", "type": "Output", "params": {}}])
    body["edges"] += [{"from": wire["from"], "from_port": wire["from_port"], "to": "fuzz_identity", "to_port": "in"},
                      {"from": "fuzz_identity", "from_port": "out", "to": "fuzz_output", "to_port": "in"}]
    if rng.random() < 0.5:           # it also takes the place of one of the wires its input feeds
        body["edges"].append({"from": "fuzz_identity", "from_port": "out", "to": wire["to"], "to_port": wire["to_port"]})
        body["edges"].remove(wire)


def _comparison(data: dict, rng: random.Random) -> None:
    """True/false values (``x > 0``) on one wire."""
    _insert_after(rng.choice(_bodies(data)), rng, {"id": "fuzz_compare", "type": "Function",
                                                   "params": {"op": "gt", "args": [{"tensor": 0}, 0.0]}})


def _huge_window(data: dict, rng: random.Random) -> None:
    """A local_response_norm (or LocalResponseNorm) over 2^31 channels."""
    layers = [n for body in _bodies(data) for n in _nodes(body) if n.get("type") == "LocalResponseNorm"]
    if layers and rng.random() < 0.5:
        rng.choice(layers).setdefault("params", {})["size"] = 2**31
        return
    args = [{"tensor": 0}, 2**31] if rng.random() < 0.5 else [{"tensor": 0}]
    _insert_after(rng.choice(_bodies(data)), rng, {
        "id": "fuzz_lrn", "type": "Function",
        "params": {"op": "local_response_norm", "args": args, "kwargs": {} if len(args) == 2 else {"size": 2**31}}})


STRUCTURE = (_trailing_break, _identity_fan_out, _comparison, _huge_window)


def mutate(data: Any, rng: random.Random) -> Any:
    data = copy.deepcopy(data)
    if rng.random() < 0.3:
        try:
            rng.choice(STRUCTURE)(data, rng)
        except (KeyError, IndexError, TypeError, AttributeError, ValueError):
            pass
        if rng.random() < 0.5:
            return data
    places = [p for p in _places(data) if p]
    # Most mutations go to parameters and settings, where a file still loads and the check,
    # the compiler and the allocator meet the value; the rest anywhere (structure, ids, format).
    settings = [p for p in places if "params" in p or "training" in p] or places
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(settings if rng.random() < 0.7 else places)
        parent = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            last = path[-1]
            action = rng.random()
            if action < 0.7:
                value = rng.choice(HOSTILE_VALUES)
                if value == [[[[[]]]]] and rng.random() < 0.3:
                    for _ in range(60):
                        value = [value]                   # deeper than any file should be
                parent[last] = copy.deepcopy(value)
            elif action < 0.85:
                del parent[last]
            elif isinstance(parent, list):
                parent.append(copy.deepcopy(parent[last]))
        except (KeyError, IndexError, TypeError):
            continue
    return data


def run_case(text: str, checker: Checker, compile_limit: int, scratch: Path, run_macs: int = RUN_MACS) -> tuple[str, str]:
    """(outcome, detail) of one file through load, check, compile, a forward pass and save."""
    try:
        graph = loads_graph(text, "case.loom")
    except GraphFileError:
        return "GraphFileError", ""
    except Exception as err:   # a defect: only GraphFileError may come out of the loader
        return f"load: {type(err).__name__}", str(err).splitlines()[0][:200] if str(err) else ""
    try:
        report = checker.check(graph)
    except Exception as err:
        return f"check: {type(err).__name__}", str(err).splitlines()[0][:200] if str(err) else ""
    outcome = "diagnostics" if report.diagnostics else "loaded and saved"
    if report.ok:
        if report.total_params * 4 > compile_limit:
            outcome = "too large to build here"
        else:
            try:
                model = compile_graph(graph, report)
            except CompileError:
                outcome = "CompileError"
            except Exception as err:
                return f"compile: {type(err).__name__}", str(err).splitlines()[0][:200] if str(err) else ""
            else:
                # A graph that checks clean runs: in training mode (dropout, batch statistics) and for inference.
                if report.total_macs > run_macs:
                    outcome = "too large to run here"
                else:
                    try:
                        with torch.no_grad():
                            for mode in (True, False):
                                model.train(mode)(*example_inputs(graph))
                    except Exception as err:
                        return f"forward: {type(err).__name__}", str(err).splitlines()[0][:200] if str(err) else ""
    target = scratch / "case.loom"
    try:
        save_graph(graph, target)
        load_graph(target)
    except Exception as err:   # whatever loads must save, and load again
        return f"save: {type(err).__name__}", str(err).splitlines()[0][:200] if str(err) else ""
    return outcome, ""


def fuzz(cases: int, seed: int = 0, compile_limit: int = BIG_BYTES, run_macs: int = RUN_MACS) -> dict[str, Any]:
    rng = random.Random(seed)
    bases = examples()
    checker = Checker()
    outcomes: Counter[str] = Counter()
    defects: dict[str, str] = {}
    slow, slow_wall, big, slowest = 0, 0, 0, (0.0, "")
    # Time is the process's own CPU time on one thread: on a machine shared with other work, the
    # clock on the wall measures the neighbours too (it is reported beside, as information).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with tempfile.TemporaryDirectory() as folder:
            scratch = Path(folder)
            for _ in range(cases):
                name, data = rng.choice(bases)
                text = json.dumps(mutate(data, rng))
                peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
                started, cpu = time.perf_counter(), time.process_time()
                outcome, detail = run_case(text, checker, compile_limit, scratch, run_macs)
                spent = time.process_time() - cpu
                slow += spent > SLOW_S
                slow_wall += time.perf_counter() - started > SLOW_S
                slowest = max(slowest, (spent, name))
                big += resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - peak_before > BIG_BYTES
                outcomes[outcome] += 1
                if outcome not in GOOD:
                    defects.setdefault(outcome, f"{name}: {detail}")
    finally:
        torch.set_num_threads(threads)
    return {"outcomes": outcomes, "defects": defects, "slow": slow, "slow_wall": slow_wall, "slowest": slowest,
            "big": big}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    result = fuzz(args.cases, args.seed)
    print(f"{args.cases} mutated example files in {time.perf_counter() - started:.1f} s")
    for outcome, count in result["outcomes"].most_common():
        mark = "" if outcome in GOOD else "   <- defect"
        print(f"  {count:6d}  {outcome}{mark}")
    for outcome, example in result["defects"].items():
        print(f"  first {outcome}: {example}")
    print(f"  {result['slow']:6d}  cases over {SLOW_S:.0f} s of CPU time (the slowest: {result['slowest'][0]:.1f} s, "
          f"{result['slowest'][1]})")
    print(f"  {result['slow_wall']:6d}  cases over {SLOW_S:.0f} s on the wall clock (the machine's other work included; "
          "not counted)")
    print(f"  {result['big']:6d}  cases that grew peak memory by over 1 GB")
    defects = sum(c for o, c in result["outcomes"].items() if o not in GOOD) + result["slow"] + result["big"]
    print(f"{defects} defects")


if __name__ == "__main__":
    main()
