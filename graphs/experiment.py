"""An experiment file: several graph files trained one after another, each with its own
training settings, so that their runs can be compared (the example library's four 10-layer MLPs, for one).

``name.experiment.json``::

    {"format": "netloom.experiment", "format_version": 1,
     "title": "...", "description": "...",
     "variants": [{"name": "sigmoid", "graph": "vanishing_gradients/sigmoid.loom"}, ...]}

A variant's graph is a path relative to the experiment file that stays inside its folder; the
file is JSON only, read with the same limits as a graph file, and never names anything to run.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .fileformat import MAX_FILE_BYTES, GraphFileError
from .reading import ReadError, read_regular
from .values import first_clause

FORMAT_NAME = "netloom.experiment"
SUFFIX = ".experiment.json"
MAX_VARIANTS = 8
MAX_NAME = 40
MAX_TEXT = 2000


@dataclass(frozen=True)
class Variant:
    name: str
    graph: Path          # absolute


@dataclass(frozen=True)
class Experiment:
    path: Path
    title: str
    description: str
    variants: tuple[Variant, ...]


def load_experiment(path: str | os.PathLike) -> Experiment:
    """GraphFileError naming the file and the field for anything that is not a plain experiment."""
    path = Path(path)
    try:
        data = json.loads(read_regular(path, MAX_FILE_BYTES, "experiment file").decode("utf-8"))
    except ReadError as err:
        raise GraphFileError(path, "", err.problem) from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise GraphFileError(path, "", f"not JSON: {str(err).splitlines()[0]}") from None
    except ValueError as err:     # an integer of thousands of digits, refused by Python itself
        raise GraphFileError(path, "", f"holds a number JSON cannot carry here ({first_clause(err)})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise GraphFileError(path, "format", f"must be {FORMAT_NAME!r}")
    if data.get("format_version") != 1:
        raise GraphFileError(path, "format_version", "must be 1")
    title, description = data.get("title"), data.get("description", "")
    if not isinstance(title, str) or len(title) > MAX_TEXT:
        raise GraphFileError(path, "title", f"must be text of at most {MAX_TEXT} characters")
    if not isinstance(description, str) or len(description) > MAX_TEXT:
        raise GraphFileError(path, "description", f"must be text of at most {MAX_TEXT} characters")
    variants = data.get("variants")
    if not isinstance(variants, list) or not 1 <= len(variants) <= MAX_VARIANTS:
        raise GraphFileError(path, "variants", f"must be a list of 1 to {MAX_VARIANTS} variants")
    found: list[Variant] = []
    for i, entry in enumerate(variants):
        where = f"variants[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"name", "graph"}:
            raise GraphFileError(path, where, "must hold exactly a name and a graph")
        name, graph = entry["name"], entry["graph"]
        if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME or not name.isprintable():
            raise GraphFileError(path, f"{where}.name", f"must be 1 to {MAX_NAME} printable characters")
        if any(v.name == name for v in found):
            raise GraphFileError(path, f"{where}.name", f"{name!r} is used twice")
        found.append(Variant(name, _variant_path(path, graph, f"{where}.graph")))
    return Experiment(path, title, description, tuple(found))


def _variant_path(path: Path, graph: object, where: str) -> Path:
    """A graph file inside the experiment's folder: no absolute path, no '..', a .loom file."""
    if not isinstance(graph, str) or not graph.endswith(".loom") or len(graph) > 200:
        raise GraphFileError(path, where, "must be the relative path of a .loom file")
    relative = PurePosixPath(graph)
    if relative.is_absolute() or ".." in relative.parts or "\\" in graph or ":" in graph:
        raise GraphFileError(path, where, f"{graph!r} must stay inside the experiment's folder")
    target = path.parent / Path(*relative.parts)
    if not target.is_file():
        raise GraphFileError(path, where, f"{graph!r} does not exist")
    # A symbolic link, to the file or to a folder on the way, may lead anywhere: what it leads
    # to must be inside the folder too.
    folder = path.parent.resolve()
    if not target.resolve().is_relative_to(folder):
        raise GraphFileError(path, where, f"{graph!r} leads outside the experiment's folder (through a symbolic link)")
    return target


def experiment_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*" + SUFFIX))
