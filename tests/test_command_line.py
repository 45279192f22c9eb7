"""``python main.py check`` as a person runs it."""

import subprocess
import sys
from pathlib import Path

import pytest

import resources
from graphs import save_graph
from tests.helpers import chain

pytestmark = pytest.mark.slow     # each test runs main.py in a fresh interpreter

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_check_prints_a_table_and_totals_for_the_bundled_example():
    result = run("check", "resources/examples/lenet_digits.loom")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["node", "type", "output", "params", "MACs"]
    assert any(line.split()[:4] == ["conv1", "Conv2d", "6x8x8", "60"] for line in lines)
    assert any(line.split()[:3] == ["fc3", "Linear", "10"] for line in lines)
    assert "LeNet for digits: 15 nodes, 19,754 parameters, 35,880 multiply-adds per sample" in result.stdout
    assert "No problems found." in result.stdout


def test_check_exits_1_and_lists_diagnostics_with_fixes(tmp_path):
    g = chain(("Conv2d", {"out_channels": 16, "kernel_size": 3}), ("Linear", {"out_features": 10}),
              ("Conv2d", {"out_channels": 4, "kernel_size": 7}), name="broken")
    save_graph(g, tmp_path / "broken.loom")
    result = run("check", str(tmp_path / "broken.loom"))
    assert result.returncode == 1
    assert "1 error(s), 1 warning(s):" in result.stdout
    assert ("warning fc1: gets a 16x6x6 feature map and would act on its last axis only: insert Flatten?"
            "  [fix: Insert Flatten before fc1]") in result.stdout
    assert "error   conv2: kernel 7x7 is larger than its 6x10 input" in result.stdout
    assert any(line.split()[:3] == ["conv2", "Conv2d", "?"] for line in result.stdout.splitlines())


def test_a_broken_file_gets_one_clear_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.loom"
    bad.write_text('{"format": "netloom.graph", "format_version": 1, "nodes": [{"id": "a", "type": "Lambda"}]}')
    result = run("check", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {bad}: node 'a'.type: unknown layer type 'Lambda'"
    assert "Traceback" not in result.stderr


def test_check_also_checks_the_graph_against_its_data_set(tmp_path):
    from graphs import load_graph
    graph = load_graph(ROOT / "resources" / "examples" / "mlp_spiral.loom")
    graph.set_params("fc3", out_features=4)
    save_graph(graph, tmp_path / "spiral4.loom")
    result = run("check", str(tmp_path / "spiral4.loom"))
    assert result.returncode == 1
    assert ("error   fc3: gives 4 outputs but spiral has 3 classes  [fix: Set out_features of fc3 to 3]"
            in result.stdout)
    assert "Checked against spiral: 960 training and 240 validation samples of 2, 3 classes." in result.stdout


def test_the_vanishing_gradient_experiment_from_the_command_line():
    """All four variants train in their own run; the sigmoid network's first layer receives a
    gradient orders of magnitude below the residual network's."""
    import re
    experiment = resources.examples_folder() / "vanishing_gradients.experiment.json"
    done = subprocess.run([sys.executable, "main.py", "experiment", str(experiment), "--epochs", "1"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    for name in ("sigmoid", "ReLU", "ReLU with BatchNorm", "residual"):
        assert f"{name}: completed after 1 epochs" in done.stdout
    first_layer = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(.+?): fc1 (\S+)", done.stdout, re.M)}
    assert set(first_layer) == {"sigmoid", "ReLU", "ReLU with BatchNorm", "residual"}
    assert first_layer["sigmoid"] < 1e-3 * first_layer["residual"], first_layer
    assert first_layer["ReLU with BatchNorm"] > 100 * first_layer["sigmoid"]


def test_the_optimizers_experiment_draws_three_paths_on_one_landscape(tmp_path):
    import json
    experiment = resources.examples_folder() / "optimizers.experiment.json"
    done = subprocess.run([sys.executable, "main.py", "experiment", str(experiment), "--epochs", "2", "--landscape",
                           str(tmp_path / "land.json")], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "loss landscape around the weights the variants start from (loss 0." in done.stdout
    assert "along the paths' principal directions" in done.stdout
    for name in ("SGD lr 0.1", "SGD lr 0.1 momentum 0.9", "Adam lr 0.01"):
        assert f"\n{name}: completed after 2 epochs" in done.stdout
        assert f"\n{name}: " in done.stdout.split("loss landscape around")[1]
    written = json.loads((tmp_path / "land.json").read_text())
    assert len(written["alphas"]) == len(written["losses"][0]) == 31
    assert set(written["paths"]) == {"SGD lr 0.1", "SGD lr 0.1 momentum 0.9", "Adam lr 0.01"}
    assert all(path["points"][0] == [0.0, 0.0] or max(map(abs, path["points"][0])) < 1e-5
               for path in written["paths"].values())


def test_the_rnn_and_lstm_experiment_shows_the_rnns_gradient_vanishing_through_time():
    """Four recurrent networks remember the first of 50 steps: the gradient that reaches the RNN's
    first step is orders of magnitude below the one reaching the LSTM's (open forget gates), and
    the clipped RNN says how often clipping cut its gradient."""
    import re
    experiment = resources.examples_folder() / "rnn_vs_lstm.experiment.json"
    done = subprocess.run([sys.executable, "main.py", "experiment", str(experiment), "--epochs", "1"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    names = ("RNN", "LSTM", "LSTM, PyTorch's starting forget gates", "RNN, clipped at 0.5")
    for name in names:
        assert f"{name}: completed after 1 epochs" in done.stdout
    profile = {m.group(1): (float(m.group(2)), float(m.group(3)))
               for m in re.finditer(r"^(.+?) \(memory\): step 1 (\S+) .* 50 (\S+)$", done.stdout, re.M)}
    assert set(profile) == set(names), done.stdout
    first, last = (lambda name: profile[name][0]), (lambda name: profile[name][1])
    assert first("RNN") < 1e-3 * first("LSTM"), profile
    assert first("RNN") / last("RNN") < 1e-6 < first("LSTM") / last("LSTM"), profile
    assert first("LSTM, PyTorch's starting forget gates") < 1e-3 * first("LSTM"), profile
    assert re.search(r"^RNN, clipped at 0.5: clipping cut the gradient at [1-9]\d* of 50 steps", done.stdout, re.M)
