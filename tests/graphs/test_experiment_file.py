"""Experiment files: the bundled one reads; hostile ones are refused naming file and field."""

import json

import pytest

import resources
from graphs import GraphFileError
from graphs.experiment import MAX_VARIANTS, experiment_files, load_experiment
from tests.helpers import named_pipe, without_blocking


def test_the_bundled_vanishing_gradient_experiment_has_four_variants():
    files = experiment_files(resources.examples_folder())
    assert [f.name for f in files] == ["initialisation.experiment.json", "optimizers.experiment.json",
                                       "regularisation.experiment.json", "rnn_vs_lstm.experiment.json",
                                       "vanishing_gradients.experiment.json"]
    experiment = load_experiment(files[-1])
    assert [v.name for v in experiment.variants] == ["sigmoid", "ReLU", "ReLU with BatchNorm", "residual"]
    assert all(v.graph.is_file() for v in experiment.variants)


def write(tmp_path, variants, **extra):
    (tmp_path / "net.loom").write_text((resources.example("perceptron.loom")).read_text())
    path = tmp_path / "x.experiment.json"
    path.write_text(json.dumps({"format": "netloom.experiment", "format_version": 1, "title": "t",
                                "variants": variants} | extra))
    return path


@pytest.mark.parametrize("variants, where, problem", [
    ([{"name": "a", "graph": "/etc/passwd.loom"}], "variants[0].graph", "must stay inside"),
    ([{"name": "a", "graph": "../net.loom"}], "variants[0].graph", "must stay inside"),
    ([{"name": "a", "graph": "C:net.loom"}], "variants[0].graph", "must stay inside"),
    ([{"name": "a", "graph": "net.py"}], "variants[0].graph", "relative path of a .loom file"),
    ([{"name": "a", "graph": "other.loom"}], "variants[0].graph", "does not exist"),
    ([{"name": "a", "graph": "net.loom"}, {"name": "a", "graph": "net.loom"}], "variants[1].name", "used twice"),
    ([{"name": "", "graph": "net.loom"}], "variants[0].name", "printable"),
    ([{"name": "a", "graph": "net.loom", "run": "rm -rf /"}], "variants[0]", "exactly a name and a graph"),
    ([{"name": f"v{i}", "graph": "net.loom"} for i in range(MAX_VARIANTS + 1)], "variants", "1 to 8"),
    ([], "variants", "1 to 8"),
])
def test_hostile_experiments_are_refused_with_the_field(tmp_path, variants, where, problem):
    with pytest.raises(GraphFileError, match=problem) as caught:
        load_experiment(write(tmp_path, variants))
    assert caught.value.where == where and "x.experiment.json" in str(caught.value)


def test_files_that_are_not_experiments(tmp_path):
    path = tmp_path / "x.experiment.json"
    for text, where in (("{", ""), ('{"format": "netloom.graph"}', "format"), ("[" * 100_000, ""),
                        ('{"format": "netloom.experiment", "format_version": 7}', "format_version")):
        path.write_text(text)
        with pytest.raises(GraphFileError) as caught:
            load_experiment(path)
        assert caught.value.where == where
    with pytest.raises(GraphFileError, match="absent.experiment.json: no such file"):
        load_experiment(tmp_path / "absent.experiment.json")


def test_a_variant_cannot_leave_the_folder_through_a_symbolic_link(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.loom").write_text(resources.example("perceptron.loom").read_text())
    inside = tmp_path / "experiment"
    inside.mkdir()
    (inside / "linked.loom").symlink_to(outside / "secret.loom")
    (inside / "folder").symlink_to(outside, target_is_directory=True)
    for graph in ("linked.loom", "folder/secret.loom"):
        path = write(inside, [{"name": "a", "graph": graph}])
        with pytest.raises(GraphFileError, match="leads outside the experiment's folder") as caught:
            load_experiment(path)
        assert caught.value.where == "variants[0].graph"
    (inside / "inner").mkdir()
    (inside / "inner" / "net.loom").symlink_to(inside / "net.loom")     # a link that stays inside is fine
    assert load_experiment(write(inside, [{"name": "a", "graph": "inner/net.loom"}])).variants[0].name == "a"


def test_a_number_of_thousands_of_digits_is_refused_in_one_line(tmp_path):
    path = tmp_path / "x.experiment.json"
    path.write_text('{"format": "netloom.experiment", "format_version": 1, "title": ' + "9" * 5000 + "}")
    with pytest.raises(GraphFileError, match="holds a number JSON cannot carry here"):
        load_experiment(path)


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    pipe = named_pipe(tmp_path / "x.experiment.json")
    with pytest.raises(GraphFileError, match="is not a regular file"):
        without_blocking(lambda: load_experiment(pipe), [pipe])
