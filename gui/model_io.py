"""File > Import PyTorch Model and File > Export: the engine's import and export in the window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu

from engine.interop import ExportError, ImportJob, export
from graphs import GraphFileError

FORMATS = {"pt2": ("PyTorch Program (recommended)", "torch.export programs (*.pt2)", ".pt2"),
           "py": ("Python File", "Python (*.py)", ".py"),
           "torchscript": ("TorchScript (deprecated by PyTorch)", "TorchScript (*.pt)", ".pt"),
           "onnx": ("ONNX", "ONNX (*.onnx)", ".onnx")}


class ModelIO(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.imported_state = None       # weights of the last import, while its graph is open
        self._imported_model = ""      # the fingerprint of the imported graph
        self.job: ImportJob | None = None       # an import running in its child process
        self._spec = ""
        self._timer = QTimer(self, interval=50)
        self._timer.timeout.connect(self._poll)
        importing = window.make_action("&Import PyTorch Model...", lambda: self.import_model())
        export_menu = QMenu("&Export", window)
        for kind, (title, _, _) in FORMATS.items():
            window.make_action(f"as {title}...", lambda checked=False, k=kind: self.export_model(k), menu=export_menu)
        window.add_to_file_menu(importing, export_menu)

    # ------------------------------------------------------------------ import
    @property
    def importing(self) -> bool:
        return self.job is not None

    def import_model(self, spec: str | None = None, shape: list[int] | None = None) -> bool:
        """Start importing; the graph opens when the child process is done (True: started)."""
        w = self.window
        if self.job is not None:
            w.say("An import is already running")
            return False
        if spec is None:
            spec, ok = QInputDialog.getText(
                w, "Import PyTorch model", "torchvision:NAME, path/to/file.py:Class or path/to/model.onnx\n(a Python "
                "file's code is run to build the model: import only files you trust; it runs in a separate process)",
                text="torchvision:resnet18")
            if not ok or not spec:
                return False
        if not w.maybe_save():
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
            self.window.show_error("The model cannot be imported", result.problem)
            return
        self._open(spec, result.graph, result.state)

    def _open(self, spec: str, graph, state) -> None:
        w = self.window
        graph.set_metadata("name", spec.rpartition(":")[2])
        graph.set_metadata("description", f"Imported from {spec}.")
        w.document.replace(graph, None)
        self.imported_state, self._imported_model = state, graph.model_fingerprint()
        w.view.fit_all()
        w.say(f"Imported {spec}: {len(graph.nodes)} nodes, with its weights for export")

    def shutdown(self) -> None:
        if self.job is not None:
            self.job.kill()
            self.job = None

    # ------------------------------------------------------------------ export
    def current_weights(self):
        """Trained weights that belong to the graph as it is: the last run's, or the import's."""
        model = self.window.document.graph.model_fingerprint()
        record = self.window.training.controller.current
        checkpoint = record.latest.get("checkpoint") if record else None
        if checkpoint and record.model_fingerprint == model:
            from engine.training import load_weights
            return load_weights(checkpoint)
        if self.imported_state is not None and self._imported_model == model:
            return self.imported_state
        return None

    def export_model(self, kind: str, path: str | None = None) -> bool:
        w = self.window
        title, pattern, suffix = FORMATS[kind]
        if path is None:
            start = str(Path(w.document.path or w.document.graph.name).with_suffix(suffix))
            path = QFileDialog.getSaveFileName(w, f"Export as {title}", start, pattern)[0]
            if not path:
                return False
        graph, state = w.document.graph, self.current_weights()
        try:
            export(graph, kind, path, state)
        except (ExportError, GraphFileError, RuntimeError) as err:
            w.show_error("The graph cannot be exported", str(err))
            return False
        w.say(f"Exported {graph.name} to {path}" + (" with its trained weights" if state is not None else ""))
        return True

