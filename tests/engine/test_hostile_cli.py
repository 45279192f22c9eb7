"""The command line with hostile input: every problem is one clear line, never a traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from graphs import dumps_graph
from tests.helpers import chain

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow     # each test starts the command line as a process


def netloom(*args, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_a_name_the_terminal_cannot_encode_is_printed_escaped(tmp_path):
    data = json.loads(dumps_graph(chain(("Linear", {"out_features": 3}), input_shape=[4], name="odd")))
    data["metadata"]["name"] = "odd\ud800"
    (tmp_path / "odd.loom").write_text(json.dumps(data))
    checked = netloom("check", tmp_path / "odd.loom")
    assert checked.returncode == 0 and "odd\\ud800: 3 nodes" in checked.stdout, checked.stderr[-2000:]
    exported = netloom("export", tmp_path / "odd.loom", "--to", "py", tmp_path / "odd.py")
    assert exported.returncode == 0 and "exported odd\\ud800" in exported.stdout, exported.stderr[-2000:]


def test_a_learning_rate_that_is_no_number_is_one_line():
    lenet = ROOT / "resources" / "examples" / "lenet_digits.loom"
    for value in ("nan", "inf", "-inf"):
        line = one_line_error(netloom("train", lenet, f"--lr={value}", "--epochs", "1"))
        assert line == f"error: --lr: must be a finite number, not {float(value)}", line


def test_an_input_shape_that_is_no_shape_is_one_line(tmp_path):
    for value in ("abc", "3,,4", "0,4", "-1", "9" * 400):
        line = one_line_error(netloom("import", "torchvision:resnet18", tmp_path / "r.loom", "--input-shape", value))
        assert "is not a shape; give positive sizes" in line
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("folder", ["{tmp}/elsewhere/ck", "../ck", "ck", "checkpoints", "checkpoints/../ck",
                                    "checkpoints/link/ck"])
def test_a_graph_file_cannot_make_training_create_folders_outside_checkpoints(tmp_path, folder):
    from engine.training import train
    from engine.training.messages import Failed
    from graphs import save_graph
    from tests.helpers import lenet
    work = tmp_path / "work"
    (work / "checkpoints").mkdir(parents=True)
    (work / "checkpoints" / "link").symlink_to(tmp_path, target_is_directory=True)
    graph = lenet()
    graph.training = graph.training | {"checkpoint_dir": folder.format(tmp=tmp_path), "epochs": 1}
    save_graph(graph, work / "g.loom")
    line = one_line_error(netloom("train", "g.loom", cwd=work))
    assert "training.checkpoint_dir:" in line and "is not inside checkpoints/ of the current folder" in line
    assert "--checkpoint-dir" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"] and sorted(p.name for p in work.iterdir()) == [
        "checkpoints", "g.loom"] and [p.name for p in (work / "checkpoints").iterdir()] == ["link"]
    os.chdir(work)
    try:
        failed = list(train(graph))                   # the API, with the file's own settings
    finally:
        os.chdir(ROOT)
    assert len(failed) == 1 and isinstance(failed[0], Failed) and "training.checkpoint_dir" in failed[0].reason


def test_a_checkpoint_folder_inside_checkpoints_or_named_on_the_command_line_is_used(tmp_path):
    from graphs import save_graph
    from tests.helpers import lenet
    graph = lenet()
    graph.training = graph.training | {"checkpoint_dir": "checkpoints/run1", "epochs": 1, "probes": False}
    save_graph(graph, tmp_path / "g.loom")
    assert netloom("train", "g.loom", cwd=tmp_path).returncode == 0
    assert (tmp_path / "checkpoints" / "run1" / "last.safetensors").exists()
    graph.training = graph.training | {"checkpoint_dir": "/nowhere/at/all"}
    save_graph(graph, tmp_path / "g.loom")
    chosen = tmp_path / "mine"
    assert netloom("train", "g.loom", "--checkpoint-dir", chosen, cwd=tmp_path).returncode == 0
    assert (chosen / "last.safetensors").exists() and not Path("/nowhere").exists()


def test_check_of_a_device_or_a_named_pipe_is_one_line_not_a_wait_or_a_memory_error(tmp_path):
    from tests.helpers import named_pipe
    pipe = named_pipe(tmp_path / "g.loom")
    for target in ("/dev/zero", pipe):
        result = netloom("check", target, timeout=120)
        assert result.returncode == 2
        assert one_line_error(result) == f"error: {target}: is not a regular file (a device, a pipe or a socket)"
