"""The same training under torchrun: two CPU processes with gloo agree with each other and with
a single process evaluating the weights they wrote."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from engine import compile_graph
from engine.data import as_graph_takes, load_dataset
from engine.training.checkpoint import load_weights
from graphs import load_graph

pytestmark = pytest.mark.slow     # two training processes

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "resources" / "examples" / "lenet_digits.loom"


def _torchrun(folder: Path, *args: str) -> tuple[subprocess.CompletedProcess, list[Path]]:
    """``main.py train`` as two gloo ranks; the result and each rank's stderr file, rank 0 first."""
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
         "--log-dir", str(folder / "logs"), "--redirects", "3",     # each rank's output in its own file
         str(Path(__file__).with_name("rank_watch.py")),      # main.py, counting what outlives the group
         "train", str(EXAMPLE), "--epochs", "2", *args],
        capture_output=True, text=True, timeout=300, cwd=folder)
    return result, sorted((folder / "logs").rglob("stderr.log"))


def test_two_gloo_ranks_agree(tmp_path):
    result, logs = _torchrun(tmp_path, "--json", "--checkpoint-dir", str(tmp_path))
    ranks = "".join(f"\n--- {log}:\n{log.read_text()[-1500:]}" for log in logs)
    assert result.returncode == 0, result.stderr[-1000:] + ranks
    # Each rank let its DDP wrapper go before leaving the group (the cause of an abort at exit).
    said = [line for log in logs for line in log.read_text().splitlines() if line.startswith("wrappers alive")]
    assert said == ["wrappers alive when the group was destroyed: 0"] * 2, ranks
    outputs = sorted((tmp_path / "logs").rglob("stdout.log"))
    assert len(outputs) == 2
    messages = [json.loads(line) for out in outputs for line in out.read_text().splitlines() if line.startswith("{")]
    started = [m for m in messages if m["type"] == "RunStarted"]
    assert len(started) == 1 and started[0]["world_size"] == 2
    assert started[0]["steps_per_epoch"] == 12           # each rank trains on half of the 1,438 samples
    finals = {m.get("rank", 0): m for m in messages if m["type"] == "Finished"}
    assert set(finals) == {0, 1}
    assert finals[0]["val_loss"] == finals[1]["val_loss"] and finals[0]["val_accuracy"] == finals[1]["val_accuracy"]
    # Rank 0 wrote the checkpoint; evaluated alone on the whole validation set it gives the same numbers.
    model = compile_graph(load_graph(EXAMPLE))
    model.load_state_dict(load_weights(tmp_path / "last.safetensors"))
    model.eval()
    data = as_graph_takes(load_dataset("digits"), load_graph(EXAMPLE))     # raw pixels: its Normalize step scales them
    with torch.no_grad():
        out = model(data.x_val)
    assert abs(F.cross_entropy(out, data.y_val).item() - finals[0]["val_loss"]) < 1e-5
    correct = int((out.argmax(1) == data.y_val).sum())
    assert correct == round(finals[0]["val_accuracy"] * len(data.y_val))


def test_a_rank_that_cannot_start_stops_both_with_its_reason(tmp_path):
    # Only rank 0 writes checkpoints, so only rank 0 finds the folder unwritable.
    (tmp_path / "taken").write_text("a file, not a folder")
    result, logs = _torchrun(tmp_path, "--checkpoint-dir", str(tmp_path / "taken" / "runs"))
    assert result.returncode != 0
    said = [[line for line in log.read_text().splitlines() if line.startswith("error:")] for log in logs]
    reason = f"checkpoint folder {tmp_path / 'taken' / 'runs'} cannot be written"
    assert len(said) == 2 and said[0][0].startswith(f"error: {reason}")
    # Rank 1 was ready; it says why it stops too, rather than a lost connection in DDP's broadcast.
    assert said[1] == [f"error: training process 0 could not start, so none does: {said[0][0].removeprefix('error: ')}"]
    assert not any("abort" in log.read_text().lower() or "connection closed" in log.read_text() for log in logs)
    assert not list(tmp_path.glob("*.safetensors"))
