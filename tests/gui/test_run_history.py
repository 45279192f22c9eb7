"""Run histories: a damaged runs file is never overwritten, its valid runs are kept, and every run
is written into the history of the graph it was made from."""

import json
import os
import shutil
from pathlib import Path

import pytest

from engine.training import TrainingConfig, run_name
from graphs import load_graph
from gui.commands import files
from gui.main_window import EXAMPLES
from gui.training.run_history import load_runs, runs_path, save_runs
from gui.training.run_record import RunRecord
from tests.helpers import named_pipe, without_blocking

GOOD_RUN = {"name": "run 1", "settings": {}, "status": "finished",
            "curves": {"val_loss": [[1, 2], [0.5, 0.25]]}, "gradients": {}}


def write_runs(graph: Path, text: str) -> Path:
    path = runs_path(graph)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, problem, valid", [
    ('{"format": "netloom.runs", "runs": [' + json.dumps(GOOD_RUN), "is not complete JSON", 0),
    ('{"format": "other.tool", "runs": []}', "is not a NetLoom runs file (format 'other.tool')", 0),
    ('[1, 2, 3]', "is not a NetLoom runs file", 0),
    ('{"format": "netloom.runs", "runs": {"a": 1}}', "holds no list of runs", 0),
    (json.dumps({"format": "netloom.runs", "runs": [GOOD_RUN, {"name": 5}]}), "has 1 damaged run (run 2:", 1),
    (json.dumps({"format": "netloom.runs", "runs": [GOOD_RUN | {"curves": {"val_loss": [[1], [0.5, 2]]}},
                                                    GOOD_RUN]}), "curve val_loss must be two lists", 1),
    (json.dumps({"format": "netloom.runs", "runs": [GOOD_RUN | {"gradients": {"fc1": 3}}]}),
     "gradients of fc1 must be [mean, max]", 0),
    pytest.param(json.dumps({"format": "netloom.runs",
                             "runs": [GOOD_RUN, GOOD_RUN | {"curves": {"val_loss": [[1], [10**400]]}}]}),
                 "has 1 damaged run (run 2: holds a number no curve can hold)", 1, id="a 401-digit number"),
    pytest.param('{"format": "netloom.runs", "runs": [' + "9" * 5000 + "]}", "is not complete JSON (Exceeds the limit", 0,
                 id="a 5000-digit number"),
])
def test_a_damaged_runs_file_is_set_aside_its_valid_runs_kept_and_never_overwritten(tmp_path, text, problem, valid):
    graph = tmp_path / "model.loom"
    path = write_runs(graph, text)
    history = load_runs(graph)
    assert len(history.records) == valid
    assert history.problem.startswith(f"The runs file {path} ") and problem in history.problem
    aside = path.with_name("model.runs.json.unreadable")
    assert f"it was kept as {aside.name}" in history.problem
    assert aside.read_text(encoding="utf-8") == text and not path.exists()
    # Saving the history afterwards writes the valid runs and the new one, and leaves the old bytes aside.
    save_runs(history.records + [RunRecord("run 9", {})], graph)
    assert [r.name for r in load_runs(graph).records] == [r.name for r in history.records] + ["run 9"]
    assert aside.read_text(encoding="utf-8") == text


def test_saving_over_a_runs_file_damaged_meanwhile_sets_it_aside_first(tmp_path):
    graph = tmp_path / "model.loom"
    path = write_runs(graph, "{ truncated")
    said = save_runs([RunRecord("run 1", {})], graph)
    assert "is not complete JSON" in said
    assert path.with_name("model.runs.json.unreadable").read_text() == "{ truncated"
    write_runs(graph, "{ again")
    save_runs([RunRecord("run 1", {})], graph)
    assert path.with_name("model.runs.json.unreadable.2").read_text() == "{ again"


def test_runs_of_bundled_examples_go_to_the_user_data_folder(tmp_path):
    path = runs_path(EXAMPLES / "mlp_spiral.loom")
    assert not path.is_relative_to(EXAMPLES.parent) and path.name.startswith("mlp_spiral-")
    assert runs_path(tmp_path / "mine.loom") == tmp_path / "mine.runs.json"


def copy_example(name: str, folder: Path, epochs: int) -> Path:
    from graphs import load_graph, save_graph
    target = folder / name
    shutil.copy(EXAMPLES / name, target)
    graph = load_graph(target)
    graph.training = TrainingConfig.from_dict(graph.training).replace(epochs=epochs, probes=False,
                                                                      device="cpu").to_dict()
    save_graph(graph, target)
    return target


@pytest.mark.slow
def test_runs_are_written_into_the_history_of_the_graph_they_came_from(window, qtbot, tmp_path):
    a = copy_example("mlp_spiral.loom", tmp_path, epochs=40)
    b = copy_example("perceptron.loom", tmp_path, epochs=1)
    save_runs([RunRecord("run 1", {"note": "B's earlier run"})], b)
    assert files.open_file(window.context, a)
    window.commands.action("train.start").trigger()
    qtbot.waitUntil(lambda: window.training.controller.current.step > 0, timeout=60_000)
    assert files.open_file(window.context, b)                    # A's run goes on while B is open
    name_a = run_name(TrainingConfig.from_dict(load_graph(a).training))        # runs are named by their settings
    assert [r.name for r in window.training.controller.runs] == ["run 1"]        # B's kept run is the one listed
    qtbot.waitUntil(lambda: not window.training.controller.running, timeout=120_000)
    assert [r.name for r in load_runs(a).records] == [name_a]
    assert load_runs(b).records[0].settings == {"note": "B's earlier run"} and len(load_runs(b).records) == 1
    window.commands.action("train.start").trigger()
    qtbot.waitUntil(lambda: not window.training.controller.running, timeout=120_000)
    kept = load_runs(b).records
    name_b = run_name(TrainingConfig.from_dict(load_graph(b).training))
    assert [r.name for r in kept] == ["run 1", name_b] and kept[0].settings == {"note": "B's earlier run"}
    assert kept[1].document == str(b.resolve()) and len(load_runs(a).records) == 1


@pytest.mark.slow
def test_opening_another_graph_clears_the_old_runs_from_the_dashboard(window, qtbot, tmp_path):
    a = copy_example("perceptron.loom", tmp_path, epochs=1)
    assert files.open_file(window.context, a)
    window.commands.action("train.start").trigger()
    qtbot.waitUntil(lambda: not window.training.controller.running, timeout=120_000)
    assert window.training.legend.isVisible()
    files.open_example(window.context, EXAMPLES / "lenet_digits.loom")
    assert window.training.controller.runs == [] and not window.training.legend.isVisible()
    assert window.training.dashboard.status.text() == "No runs of this graph yet: press Train (F5)."


@pytest.mark.slow
def test_runs_of_an_untitled_graph_are_kept_once_it_is_saved(window, qtbot, tmp_path, monkeypatch):
    files.open_example(window.context, EXAMPLES / "perceptron.loom")
    graph = window.document.graph
    graph.training = TrainingConfig.from_dict(graph.training).replace(epochs=1, probes=False,
                                                                      device="cpu").to_dict()
    window.commands.action("train.start").trigger()
    qtbot.waitUntil(lambda: not window.training.controller.running, timeout=120_000)
    target = tmp_path / "saved.loom"
    monkeypatch.setattr(window.port, "choose_save_path", lambda *a: str(target))
    assert files.save(window.context)
    assert [r.name for r in load_runs(target).records] == [run_name(TrainingConfig.from_dict(graph.training))]


@pytest.mark.parametrize("kind", ["pipe", "device"])
def test_a_runs_file_that_is_a_pipe_or_a_device_is_set_aside_without_reading_it(tmp_path, kind):
    graph = tmp_path / "model.loom"
    path = runs_path(graph)
    if kind == "pipe":
        named_pipe(path)
    else:
        path.symlink_to("/dev/zero")                    # reading it would never end
    history = without_blocking(lambda: load_runs(graph), [path])
    assert history.records == [] and "is not a regular file (a device, a pipe or a socket)" in history.problem
    assert not os.path.lexists(path) and os.path.lexists(path.with_name("model.runs.json.unreadable"))
    save_runs([RunRecord("run 1", {})], graph)
    assert [r.name for r in load_runs(graph).records] == ["run 1"]
