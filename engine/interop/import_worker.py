"""Importing a model in a child process, as training does.

Importing ``file.py:Class`` runs that file's code. In the editor it runs in a separate process
(``spawn``: a fresh interpreter), so that code which crashes, hangs or takes all memory never
takes the editor down; the editor polls for the result and can end the process at any time.
The graph comes back as file text and the weights as safetensors bytes: plain data both ways.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
from dataclasses import dataclass

import torch

from graphs import Graph, dumps_graph, loads_graph

from ..words import first_line
from .importer import ImportProblem, import_module
from .model_sources import load_source_module
from .pretrained import Pretrained, apply_pretrained, pretrained_weights


@dataclass
class ImportResult:
    graph: Graph | None = None
    state: dict[str, torch.Tensor] | None = None
    problem: str = ""           # why it failed, for the person
    # With pretrained weights: where they came from and the statistics their inputs were
    # normalised with, for the graph's start_from once the weights are saved beside it.
    pretrained: tuple[str, list[float], list[float]] | None = None


@dataclass
class Imported:
    graph: Graph
    state: dict[str, torch.Tensor]      # the graph's weights
    parameters: int                     # the module's parameter count
    pretrained: Pretrained | None       # the library's pretrained weights, when asked for


def import_source(spec: str, shape: list[int] | None, pretrained: bool = False, allow_download: bool = False
                  ) -> Imported:
    """A model by its source as a graph and its weights: the library's pretrained weights with
    ``pretrained`` (from its cache; downloaded only with ``allow_download``), else the module's own."""
    module, example = load_source_module(spec, shape)
    start = pretrained_weights(spec, allow_download) if pretrained else None
    if start is not None:
        apply_pretrained(module, start)
    graph, state = import_module(module, example)
    return Imported(graph, state, sum(p.numel() for p in module.parameters()), start)


def _child(spec: str, shape: list[int] | None, pretrained: bool, allow_download: bool, results) -> None:
    from safetensors.torch import save

    try:
        imported = import_source(spec, shape, pretrained, allow_download)
        start = imported.pretrained
        origin = None if start is None else (start.source, list(start.mean), list(start.std))
        results.put(("ok", dumps_graph(imported.graph), save({k: v.contiguous() for k, v in imported.state.items()}),
                     origin))
    except (ValueError, ImportProblem) as err:
        results.put(("error", str(err)))
    except BaseException as err:   # the model's own code failed: say so in one line
        results.put(("error", f"the model's code failed while importing: {type(err).__name__}: {first_line(err)}"))


class ImportJob:
    """One import in a child process; ``poll()`` returns the result once there is one."""

    def __init__(self, spec: str, shape: list[int] | None = None, pretrained: bool = False,
                 allow_download: bool = False) -> None:
        context = mp.get_context("spawn")
        self._results = context.Queue()
        self._process = context.Process(target=_child, args=(spec, shape, pretrained, allow_download, self._results),
                                        daemon=True, name="netloom-import")
        self.result: ImportResult | None = None

    def start(self) -> ImportJob:
        self._process.start()
        return self

    @property
    def done(self) -> bool:
        return self.result is not None

    def poll(self) -> ImportResult | None:
        if self.result is not None:
            return self.result
        try:
            kind, *payload = self._results.get_nowait()
        except queue.Empty:
            if not self._process.is_alive():
                # It may have put its result just before ending: look once more.
                try:
                    kind, *payload = self._results.get(timeout=0.5)
                except queue.Empty:
                    code = self._process.exitcode
                    self.result = ImportResult(problem=f"the import process ended without a result (exit code {code}): "
                                                       "the model's code crashed or ran out of memory")
                    return self.result
            else:
                return None
        if kind == "ok":
            from safetensors.torch import load
            graph_text, state_bytes, origin = payload
            self.result = ImportResult(loads_graph(graph_text, "<import>"), load(state_bytes), pretrained=origin)
        else:
            self.result = ImportResult(problem=payload[0])
        self._process.join(timeout=5)
        return self.result

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join(timeout=5)
