"""The run's model: built from the run's graph and newest weights with a checker of its own, so
that the document's checker goes on knowing the document (a check after it visits no node), and
rebuilt whenever a checkpoint holds newer weights, even under the same file name."""

import torch

from engine import compile_graph
from engine.training import TrainingConfig, load_checkpoint, train
from engine.training import messages as M
from engine.training.checkpoint import save_checkpoint
from graphs import dumps_graph, loads_graph
from gui.document import Document
from gui.training.run_model import RunModel
from gui.training.run_record import RunRecord
from tests.helpers import chain, lenet


def test_building_a_run_model_leaves_the_documents_checker_untouched(qtbot, tmp_path):
    graph = chain(("Conv2d", {"out_channels": 4, "kernel_size": 3}), "ReLU", "Flatten", ("Linear", {"out_features": 3}))
    document = Document(graph)
    checker = document.checker
    report = checker.check(document.graph)
    assert checker.visits == 0                         # the document was checked when it opened
    snapshot = loads_graph(dumps_graph(graph), "<snapshot>")   # what a run trains: a copy of the graph
    trained = compile_graph(snapshot)
    path = save_checkpoint(tmp_path, "last", trained.state_dict(), {"step": 5, "epoch": 1}, "abc")
    record = RunRecord("run 1", {})
    record.graph_text = dumps_graph(snapshot)
    record.absorb(M.CheckpointSaved(str(path), 1, 5))
    run_model = RunModel()
    problems = []
    run_model.listeners.append(problems.append)
    run_model.follow(record)
    assert run_model.building and problems == [""]      # heard when it starts, and when it is done
    qtbot.waitUntil(lambda: run_model.model is not None, timeout=30_000)
    assert problems == ["", ""] and run_model.checker is not checker and run_model.checker.visits == len(snapshot.nodes)
    assert (run_model.epoch, run_model.step) == (1, 5) and run_model.weights_from() == "run 1, epoch 1 (step 5)"
    x = torch.randn(2, 1, 8, 8)
    assert torch.equal(run_model.model(x), trained.eval()(x))          # the run's weights
    # The document's checker still follows the document: nothing to infer again, the same report.
    assert checker.check(document.graph) is report and checker.visits == 0
    document.try_edit(lambda: document.graph.set_params_edit("fc1", out_features=5))
    assert checker.check(document.graph).shapes["fc1"] == (5,) and checker.visits == 2      # fc1 and the output

    # Another run shown (or none): the model is dropped at once, never used for the other run.
    run_model.follow(RunRecord("run 2", {}))
    assert run_model.model is None and run_model.weights_from() == ""


def test_the_views_get_the_newest_epochs_weights_when_every_epoch_saves_best(qtbot, tmp_path):
    """Validation loss improves at every epoch of this run, so each epoch's newest checkpoint is
    best.safetensors, under the same name: the dashboard's calls, replayed over the run."""
    graph = lenet()
    config = TrainingConfig.from_dict(graph.training).replace(epochs=3, device="cpu", probes=False,
                                                              checkpoint_dir=str(tmp_path))
    record = RunRecord("run 1", config.to_dict())
    record.graph_text = dumps_graph(graph)
    run_model = RunModel()
    saved, built = [], []
    for message in train(graph, config):
        record.absorb(message)
        if isinstance(message, M.CheckpointSaved):
            saved.append(message)
            run_model.follow(record)           # the dashboard follows the run on its timer
            qtbot.waitUntil(lambda step=message.step: run_model.step == step, timeout=60_000)
            built.append(run_model.model)
    assert [s.epoch for s in saved if s.path.endswith("best.safetensors")] == [1, 2, 3]
    newest = load_checkpoint(saved[-1].path)
    assert saved[-1].path.endswith("best.safetensors") and newest.epoch == 3
    assert (run_model.epoch, run_model.step) == (3, newest.step) == (3, record.step)
    weights = run_model.model.state_dict()
    assert weights.keys() == newest.weights.keys()
    assert all(torch.equal(weights[name], tensor) for name, tensor in newest.weights.items())
    assert len({id(model) for model in built}) == 3               # a model for each epoch's weights
    assert not torch.equal(built[0].state_dict()["fc3.weight"], newest.weights["fc3.weight"])
