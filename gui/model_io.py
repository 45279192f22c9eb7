"""File > Import PyTorch Model and File > Export: the engine's import and export in the window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer

from engine.interop import ExportError, ImportJob, export
from engine.training import export_note
from graphs import GraphFileError

from .commands import Choice, Command, Context, Place, files

FORMATS = {"pt2": ("PyTorch Program (recommended)", "torch.export programs (*.pt2)", ".pt2"),
           "py": ("Python File", "Python (*.py)", ".py"),
           "torchscript": ("TorchScript (deprecated by PyTorch)", "TorchScript (*.pt)", ".pt"),
           "onnx": ("ONNX", "ONNX (*.onnx)", ".onnx")}


class ModelIO(QObject):
    """``trained_weights``: the weights of the newest run when they belong to the graph as it is
    (the training side knows), else None."""

    def __init__(self, ctx: Context, trained_weights: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.trained_weights = ctx, trained_weights
        self.imported_state = None       # weights of the last import, while its graph is open
        self._imported_model = ""      # the fingerprint of the imported graph
        self.job: ImportJob | None = None       # an import running in its child process
        self._spec = ""
        self._timer = QTimer(self, interval=50)
        self._timer.timeout.connect(self._poll)

    def commands(self) -> list[Command]:
        return [
            Command("file.import", "&Import PyTorch Model...", lambda ctx: self.import_model(), (Place("&File"),)),
            Command("file.export", "Export", lambda ctx, kind: self.export_model(kind), (Place("&File/&Export"),),
                    choices=lambda ctx: [Choice(f"as {title}...", kind) for kind, (title, _, _) in FORMATS.items()]),
        ]

    # ------------------------------------------------------------------ import
    @property
    def importing(self) -> bool:
        return self.job is not None

    def import_model(self, spec: str | None = None, shape: list[int] | None = None) -> bool:
        """Start importing; the graph opens when the child process is done (True: started)."""
        w = self.ctx.window
        if self.job is not None:
            w.say("An import is already running")
            return False
        if spec is None:
            spec = w.ask_text("Import PyTorch model", "torchvision:NAME, timm:NAME, transformers:NAME, "
                              "path/to/file.py:Class or path/to/model.onnx\n(a Python file's code is run to build the "
                              "model: import only files you trust; it runs in a separate process)", "torchvision:resnet18")
            if not spec:
                return False
        if not files.maybe_save(self.ctx):
            return False
        self.job, self._spec = ImportJob(spec, shape).start(), spec
        self._timer.start()
        w.say(f"Importing {spec}...")
        return True

    def _poll(self) -> None:
        if self.job is None:
            return
        result = self.job.poll()
        if result is None:
            return
        self._timer.stop()
        self.job, spec = None, self._spec
        if result.graph is None:
            self.ctx.window.show_error("The model cannot be imported", result.problem)
            return
        self._open(spec, result.graph, result.state)

    def _open(self, spec: str, graph, state) -> None:
        w = self.ctx.window
        graph.set_metadata("name", spec.rpartition(":")[2])
        graph.set_metadata("description", f"Imported from {spec}.")
        self.ctx.document.replace(graph, None)
        self.imported_state, self._imported_model = state, graph.model_fingerprint()
        w.fit_view()
        w.say(f"Imported {spec}: {len(graph.nodes)} nodes, with its weights for export")

    def shutdown(self) -> None:
        if self.job is not None:
            self.job.kill()
            self.job = None

    # ------------------------------------------------------------------ export
    def current_weights(self):
        """Trained weights that belong to the graph as it is: the last run's, or the import's."""
        trained = self.trained_weights()
        if trained is not None:
            return trained
        model = self.ctx.document.graph.model_fingerprint()
        if self.imported_state is not None and self._imported_model == model:
            return self.imported_state
        return None

    def export_model(self, kind: str, path: str | None = None) -> bool:
        w, document = self.ctx.window, self.ctx.document
        title, pattern, suffix = FORMATS[kind]
        if path is None:
            path = w.choose_save_path(f"Export as {title}", str(Path(document.path or document.graph.name).with_suffix(suffix)),
                                      pattern)
            if not path:
                return False
        graph, state = document.graph, self.current_weights()
        note = export_note(graph, state)
        try:
            export(graph, kind, path, state, note=note)
        except (ExportError, GraphFileError, RuntimeError) as err:
            w.show_error("The graph cannot be exported", str(err))
            return False
        w.say(f"Exported {graph.name} to {path}" + (" with its trained weights" if state is not None else "")
              + (f". {note}" if note else ""))
        return True

