"""``python main.py train`` as a person and a script use it."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from graphs import load_graph, save_graph

pytestmark = pytest.mark.slow     # each test trains through main.py in a fresh interpreter

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "resources/examples/lenet_digits.loom"


def run(*args, cwd, timeout=300):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "train", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def test_train_prints_progress_and_the_final_accuracy(tmp_path):
    result = run(str(ROOT / EXAMPLE), "--epochs", "30", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "training on cpu: 19,754 parameters, digits with 1,438 training / 359 validation samples" in result.stderr
    assert "epoch 30/30: loss" in result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("completed after 30 epochs (690 steps) in ")
    accuracy = float(last.split("validation accuracy ")[1].split("%")[0])
    assert accuracy >= 97.0
    assert (tmp_path / "checkpoints" / "lenet_digits" / "last.safetensors").exists()


def test_json_mode_prints_one_message_per_line(tmp_path):
    result = run(str(ROOT / EXAMPLE), "--epochs", "2", "--batch-size", "128", "--lr", "0.01", "--json",
                 "--checkpoint-dir", str(tmp_path / "ck"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    messages = [json.loads(line) for line in result.stdout.splitlines()]
    assert messages[0]["type"] == "RunStarted" and messages[0]["steps_per_epoch"] == 12
    assert messages[-1]["type"] == "Finished" and messages[-1]["epoch"] == 2
    steps = [m for m in messages if m["type"] == "StepMetrics"]
    assert steps[0]["lr"] == 0.01
    assert [m["path"] for m in messages if m["type"] == "CheckpointSaved"][0] == str(tmp_path / "ck" / "last.safetensors")


def test_resume_continues_from_the_checkpoint(tmp_path):
    run(str(ROOT / EXAMPLE), "--epochs", "2", "--checkpoint-dir", str(tmp_path / "ck"), cwd=tmp_path)
    result = run(str(ROOT / EXAMPLE), "--epochs", "3", "--json", "--resume", str(tmp_path / "ck"),
                 "--checkpoint-dir", str(tmp_path / "ck"), cwd=tmp_path)
    messages = [json.loads(line) for line in result.stdout.splitlines()]
    assert messages[0]["start_epoch"] == 2
    assert [m["epoch"] for m in messages if m["type"] == "EpochMetrics"] == [3]


def test_failures_exit_non_zero_with_the_reason(tmp_path):
    graph = load_graph(ROOT / EXAMPLE)
    graph.set_params("fc3", out_features=7)
    save_graph(graph, tmp_path / "wrong.loom")
    result = run(str(tmp_path / "wrong.loom"), "--epochs", "1", cwd=tmp_path)
    assert result.returncode == 1
    assert "error: the graph does not fit the digits data set" in result.stderr
    assert "fc3: gives 7 outputs but digits has 10 classes" in result.stderr
    result = run(str(ROOT / EXAMPLE), "--dataset", "imagenet", cwd=tmp_path)
    assert result.returncode == 1 and "unknown data set 'imagenet'" in result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_stops_cleanly_after_saving_a_checkpoint(tmp_path):
    process = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "train", str(ROOT / EXAMPLE), "--epochs",
                                "100000", "--json", "--checkpoint-dir", str(tmp_path / "ck")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    lines = []
    for line in process.stdout:
        lines.append(json.loads(line))
        if lines[-1]["type"] == "EpochMetrics":
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    lines += [json.loads(line) for line in out.splitlines()]
    assert process.returncode == 0, err
    assert lines[-1]["type"] == "Finished" and lines[-1]["reason"] == "stopped"
    assert lines[-2]["type"] == "CheckpointSaved" and lines[-2]["step"] == lines[-1]["step"]
    from engine.training.checkpoint import load_checkpoint
    assert load_checkpoint(tmp_path / "ck").step == lines[-1]["step"]


def test_the_teaching_probes_and_l1_reach_the_terminal_and_scripts(tmp_path):
    """The playground network with L1 and its landscape recorded: the L1 term on each epoch's line,
    and every new message (neurons, landscape, path, boundary with validation points) as JSON."""
    graph = load_graph(ROOT / "resources/examples/playground_features.loom")
    graph.set_training({**graph.training, "l1": 0.001, "landscape": True, "probe_every": 10})
    save_graph(graph, tmp_path / "play.loom")
    result = run(str(tmp_path / "play.loom"), "--epochs", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "epoch 2/2: loss " in result.stderr and " (+ L1 0.0" in result.stderr
    result = run(str(tmp_path / "play.loom"), "--epochs", "1", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    messages = {}
    for line in result.stdout.splitlines():
        message = json.loads(line)
        messages.setdefault(message["type"], message)
    assert {"NeuronPictures", "LossLandscape", "WeightPath", "DecisionBoundary"} <= set(messages)
    neurons = messages["NeuronPictures"]["layers"]
    assert [layer["layer"] for layer in neurons] == ["features", "hidden1", "hidden2", "classes"]
    assert neurons[0]["labels"] == ["x1", "x2", "x1²", "x2²"] and len(neurons[1]["pictures"]) == 4
    assert len(messages["LossLandscape"]["losses"]) == 21 and messages["WeightPath"]["steps"][0] == 0
    assert len(messages["DecisionBoundary"]["val_points"]) == 200
    assert messages["StepMetrics"]["penalty"] > 0
