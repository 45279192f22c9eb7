"""Fuzzing graph files: mutate the bundled examples and run each through load, check, compile
and save; count what happens.

    python -m bench.fuzz_files --cases 10000 [--seed 1]

Each case is one example with one to three mutations (values replaced by hostile ones: huge or
non-finite numbers, deep nesting, odd ids such as ``load_state_dict``, sizes no machine holds;
keys deleted; list items duplicated). The report counts each outcome: the good ones are a
``GraphFileError`` on load, diagnostics from the check, a ``CompileError``, or a graph that
compiles and saves; anything else is a defect, listed with its first message. Cases over 5 s
(hangs) and cases that grew the process's peak memory by over 1 GB are counted too. The goal
for every defect count is 0.
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

import resources
from engine import Checker, CompileError, compile_graph
from graphs import GraphFileError, load_graph, loads_graph, save_graph

HOSTILE_VALUES: list[Any] = [
    10**400, -(10**30), 2**63, 1e308, -1, 0, 3, 65536, 10**9, 0.5, True, None, "", "x" * 300,
    "os.system", "builtins.eval", "__import__('os')", [], {}, [[[[[]]]]], [1] * 50, {"a": {"b": {"c": 1}}},
    "load_state_dict", "forward", "torch", "self", "bfloat16", "compile", "register_forward_hook",
]
SLOW_S = 5.0
BIG_BYTES = 1 << 30
GOOD = ("loaded and saved", "GraphFileError", "diagnostics", "CompileError", "too large to build here")


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


def mutate(data: Any, rng: random.Random) -> Any:
    data = copy.deepcopy(data)
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


def run_case(text: str, checker: Checker, compile_limit: int, scratch: Path) -> tuple[str, str]:
    """(outcome, detail) of one file through load, check, compile and save."""
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
                compile_graph(graph, report)
            except CompileError:
                outcome = "CompileError"
            except Exception as err:
                return f"compile: {type(err).__name__}", str(err).splitlines()[0][:200] if str(err) else ""
    target = scratch / "case.loom"
    try:
        save_graph(graph, target)
        load_graph(target)
    except Exception as err:   # whatever loads must save, and load again
        return f"save: {type(err).__name__}", str(err).splitlines()[0][:200] if str(err) else ""
    return outcome, ""


def fuzz(cases: int, seed: int = 0, compile_limit: int = BIG_BYTES) -> dict[str, Any]:
    rng = random.Random(seed)
    bases = examples()
    checker = Checker()
    outcomes: Counter[str] = Counter()
    defects: dict[str, str] = {}
    slow, big = 0, 0
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        for _ in range(cases):
            name, data = rng.choice(bases)
            text = json.dumps(mutate(data, rng))
            peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            started = time.perf_counter()
            outcome, detail = run_case(text, checker, compile_limit, scratch)
            slow += time.perf_counter() - started > SLOW_S
            big += resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - peak_before > BIG_BYTES
            outcomes[outcome] += 1
            if outcome not in GOOD:
                defects.setdefault(outcome, f"{name}: {detail}")
    return {"outcomes": outcomes, "defects": defects, "slow": slow, "big": big}


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
    print(f"  {result['slow']:6d}  cases over {SLOW_S:.0f} s")
    print(f"  {result['big']:6d}  cases that grew peak memory by over 1 GB")
    defects = sum(c for o, c in result["outcomes"].items() if o not in GOOD) + result["slow"] + result["big"]
    print(f"{defects} defects")


if __name__ == "__main__":
    main()
