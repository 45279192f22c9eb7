"""Runs kept with the graph they were made from: ``model.loom`` -> ``model.runs.json``.

A runs file that cannot be read in full is never overwritten: it is moved aside as
``model.runs.json.unreadable`` (``.unreadable.2`` ... if that exists), the person is told, and
the runs in it that are valid are kept. Graphs in a folder that cannot be written, and the
bundled examples, keep their runs in the user's data folder instead, never in the installation.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from graphs import GraphFileError
from graphs.atomic import set_aside
from graphs.fileformat import write_atomically
from graphs.reading import ReadError, read_regular
from graphs.values import first_clause

from ..user_folders import bundled_resources, user_data_folder
from .run_record import RunRecord

FORMAT = "netloom.runs"
MAX_RUNS_BYTES = 256 * 1024 * 1024     # thousands of runs with every step's curves


@dataclass
class RunHistory:
    records: list[RunRecord] = field(default_factory=list)
    problem: str | None = None        # what was wrong with the file, for the status bar


def runs_path(graph_path: Path) -> Path:
    """Beside the graph when its folder is the person's to write; else in the user's data folder."""
    graph_path = Path(graph_path).resolve()
    beside = graph_path.with_suffix(".runs.json")
    if os.access(graph_path.parent, os.W_OK) and not graph_path.is_relative_to(bundled_resources()):
        return beside
    tag = hashlib.sha256(str(graph_path).encode("utf-8")).hexdigest()[:12]
    return user_data_folder() / "runs" / f"{graph_path.stem}-{tag}.runs.json"


def load_runs(graph_path: Path) -> RunHistory:
    """The runs kept for a graph; a damaged file is set aside and its valid runs kept."""
    path = runs_path(graph_path)
    if not path.exists():
        return RunHistory()
    records, problem = _read(path)
    if problem is None:
        return RunHistory(records)
    return RunHistory(records, _set_aside(path, problem, len(records)))


def save_runs(records: list[RunRecord], graph_path: Path) -> str | None:
    """Write the runs; a file there that cannot be read is first set aside (said in the result).

    GraphFileError if the runs cannot be written or the damaged file cannot be moved."""
    path = runs_path(graph_path)
    said = None
    if path.exists():
        kept, problem = _read(path)
        if problem is not None:
            said = _set_aside(path, problem, len(kept))
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"format": FORMAT, "runs": [r.to_dict() for r in records]})
    write_atomically(path, text.encode("utf-8"))
    return said


def add_run(record: RunRecord, graph_path: Path) -> str | None:
    """Keep one more run for a graph that is not the one open now (its file is read afresh)."""
    history = load_runs(graph_path)
    return save_runs(history.records + [record], graph_path) or history.problem


def _read(path: Path) -> tuple[list[RunRecord], str | None]:
    try:
        data = json.loads(read_regular(path, MAX_RUNS_BYTES, "runs file").decode("utf-8"))
    except ReadError as err:
        return [], err.problem
    except UnicodeDecodeError as err:
        return [], f"is not UTF-8 text (byte {err.start})"
    except (ValueError, RecursionError) as err:
        return [], f"is not complete JSON ({first_clause(err)})"
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        return [], f"is not a NetLoom runs file (format {found!r})"
    runs = data.get("runs")
    if not isinstance(runs, list):
        return [], "holds no list of runs"
    records, bad = [], []
    for i, item in enumerate(runs):
        try:
            records.append(RunRecord.from_dict(item))
        except ValueError as err:
            bad.append(f"run {i + 1}: {err}")
        except (OverflowError, TypeError, MemoryError):       # a number of hundreds of digits in a curve
            bad.append(f"run {i + 1}: holds a number no curve can hold")
    if bad:
        return records, f"has {len(bad)} damaged run{'s' if len(bad) > 1 else ''} ({bad[0]})"
    return records, None


def _set_aside(path: Path, problem: str, recovered: int) -> str:
    try:
        aside = set_aside(path)
    except OSError as err:
        raise GraphFileError(path, "", f"{problem}, and it cannot be moved aside ({err.strerror or err}), so no new "
                                       "runs are written over it") from None
    return (f"The runs file {path} {problem}; it was kept as {aside.name}, and "
            f"{recovered} valid run{'s' if recovered != 1 else ''} from it {'were' if recovered != 1 else 'was'} kept.")
