"""The run's model: built from the run's graph and newest weights with a checker of its own, so
that the document's checker goes on knowing the document (a check after it visits no node)."""

import torch
from PySide6.QtWidgets import QWidget
from safetensors.torch import save_file

from engine import compile_graph
from graphs import dumps_graph, loads_graph
from gui.document import Document
from gui.training.run_model import RunModel
from gui.training.run_record import RunRecord
from tests.helpers import chain


def test_building_a_run_model_leaves_the_documents_checker_untouched(qtbot, tmp_path):
    graph = chain(("Conv2d", {"out_channels": 4, "kernel_size": 3}), "ReLU", "Flatten", ("Linear", {"out_features": 3}))
    document = Document(graph)
    checker = document.checker
    report = checker.check(document.graph)
    assert checker.visits == 0                         # the document was checked when it opened
    snapshot = loads_graph(dumps_graph(graph), "<snapshot>")   # what a run trains: a copy of the graph
    trained = compile_graph(snapshot)
    save_file({k: v.contiguous() for k, v in trained.state_dict().items()}, str(tmp_path / "epoch1.safetensors"))
    record = RunRecord("run 1", {})
    record.graph_text = dumps_graph(snapshot)
    record.latest["checkpoint"] = str(tmp_path / "epoch1.safetensors")
    panel = QWidget()                  # the dashboard that owns it in the window
    qtbot.addWidget(panel)
    run_model = RunModel(panel)
    problems = []
    run_model.listeners.append(problems.append)
    run_model.follow(record)
    qtbot.waitUntil(lambda: run_model.model is not None, timeout=30_000)
    assert problems == [""] and run_model.checker is not checker and run_model.checker.visits == len(snapshot.nodes)
    x = torch.randn(2, 1, 8, 8)
    assert torch.equal(run_model.model(x), trained.eval()(x))          # the run's weights
    # The document's checker still follows the document: nothing to infer again, the same report.
    assert checker.check(document.graph) is report and checker.visits == 0
    document.try_edit(lambda: document.graph.set_params_edit("fc1", out_features=5))
    assert checker.check(document.graph).shapes["fc1"] == (5,) and checker.visits == 2      # fc1 and the output
