"""File > Import PyTorch Model and File > Export: the engine's import and export in the window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu

from engine.exporter import ExportError, export
from engine.importer import ImportProblem, import_module
from engine.model_sources import load_source_module
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
        importing = window.make_action("&Import PyTorch Model...", lambda: self.import_model())
        export_menu = QMenu("&Export", window)
        for kind, (title, _, _) in FORMATS.items():
            window.make_action(f"as {title}...", lambda checked=False, k=kind: self.export_model(k), menu=export_menu)
        window.add_to_file_menu(importing, export_menu)

    # ------------------------------------------------------------------ import
    def import_model(self, spec: str | None = None, shape: list[int] | None = None) -> bool:
        w = self.window
        if spec is None:
            spec, ok = QInputDialog.getText(w, "Import PyTorch model", "torchvision:NAME or path/to/file.py:Class",
                                            text="torchvision:resnet18")
            if not ok or not spec:
                return False
        if not w.maybe_save():
            return False
        try:
            module, example = load_source_module(spec, shape)
            graph, state = import_module(module, example)
        except (ValueError, ImportProblem) as err:
            w.show_error("The model cannot be imported", str(err))
            return False
        graph.set_metadata("name", spec.rpartition(":")[2])
        graph.set_metadata("description", f"Imported from {spec}.")
        w.document.replace(graph, None)
        self.imported_state, self._imported_model = state, graph.model_fingerprint()
        w.view.fit_all()
        w.say(f"Imported {spec}: {len(graph.nodes)} nodes, with its weights for export")
        return True

    # ------------------------------------------------------------------ export
    def current_weights(self):
        """Trained weights that belong to the graph as it is: the last run's, or the import's."""
        model = self.window.document.graph.model_fingerprint()
        record = self.window.training.controller.current
        checkpoint = record.latest.get("checkpoint") if record else None
        if checkpoint and record.model_fingerprint == model:
            from engine.training.checkpoint import load_weights
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

