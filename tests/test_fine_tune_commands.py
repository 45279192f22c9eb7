"""Fine-tuning from the command line: ``train --weights``, ``import --pretrained`` from the cache
(and its one-line refusal offline), and ``check`` with frozen layers and start weights."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from engine import compile_graph
from engine.cli.model_io import run_import
from engine.interop import ImportJob, read_weights, start_entry
from graphs import load_graph, save_graph
from graphs.editing import adapt_head_edit, freeze_up_to_edit
from tests.helpers import lenet

pytestmark = pytest.mark.slow     # each test runs main.py in a fresh interpreter

ROOT = Path(__file__).resolve().parent.parent


def run(*args, cwd, env=None, timeout=300):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env=None if env is None else os.environ | env)


def lenet_weights(path: Path) -> Path:
    torch.manual_seed(3)
    save_file({k: v.contiguous() for k, v in compile_graph(lenet()).state_dict().items()}, path)
    return path


def test_train_starts_from_the_weights_it_is_given(tmp_path):
    lenet_weights(tmp_path / "w.safetensors")
    graph = lenet()
    graph.apply(adapt_head_edit(graph, "fc3", 5))
    graph.set_training(graph.training | {"dataset_options": {"class_subset": [5, 6, 7, 8, 9], "per_class": 20}})
    save_graph(graph, tmp_path / "five.loom")
    result = run("train", "five.loom", "--weights", "w.safetensors", "--epochs", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (f"starting from {tmp_path / 'w.safetensors'}: 8 of the file's 12 tensors loaded, 2 replaced by fresh "
            "weights as asked, 2 input statistics set by the normalize setting instead") in result.stderr
    evil = tmp_path / "evil.pt"
    evil.write_bytes(b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.")
    result = run("train", "five.loom", "--weights", "evil.pt", "--epochs", "1", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (f"error: cannot start from the weights the settings name: {evil}: holds Python "
                                     "objects, not plain tensors; NetLoom never runs code from a weights file, so it "
                                     "cannot be used (save the model's state_dict(), or use safetensors)")


def test_check_prints_trainable_and_frozen_parameters_and_how_the_start_weights_fit(tmp_path):
    weights = lenet_weights(tmp_path / "w.safetensors")
    graph = lenet()
    graph.apply(freeze_up_to_edit(graph, "pool2"))
    graph.apply(adapt_head_edit(graph, "fc3", 5))
    graph.set_training(graph.training | {"start_from": start_entry(weights, tmp_path / "model.loom"),
                                         "dataset_options": {"class_subset": [5, 6, 7, 8, 9]}})
    graph.set_params("fc2", out_features=80)          # its tensors and fc3's inputs no longer fit
    save_graph(graph, tmp_path / "model.loom")
    result = run("check", "model.loom", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert ("17,885 trainable and 940 frozen parameters; frozen: norm, conv1, relu1, pool1, conv2, relu2, pool2; fresh "
            "weights: fc3") in result.stdout
    assert ("warning fc2: the start weights w.safetensors hold fc2.weight as 84x120 where it is 80x120, fc2.bias as "
            "84 where it is 80: those start from fresh weights  [fix: Start fc2 from fresh weights]") in result.stdout
    assert (f"Starts from {weights}: 6 of the file's 12 tensors loaded, 2 replaced by fresh weights as asked, 2 input "
            "statistics set by the normalize setting instead, 2 of the wrong shape.") in result.stdout
    save_file({"x": torch.zeros(1)}, weights)             # the file changed since it was chosen
    result = run("check", "model.loom", cwd=tmp_path)
    assert f"Not checked against its start weights: {weights}: this is not the file the graph was set to start " \
           "from: its contents changed since" in result.stdout


def fake_cache(home: Path) -> Path:
    """torch hub's cache holding squeezenet1_1's weights file (these weights are untrained: the
    test only needs the file where torchvision keeps it)."""
    import torchvision.models as models
    cached = home / "hub" / "checkpoints" / "squeezenet1_1-b8a52dc0.pth"
    cached.parent.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(models.squeezenet1_1().state_dict(), cached)
    return cached


def test_import_pretrained_uses_the_cache_and_records_the_start_weights(tmp_path):
    cached = fake_cache(tmp_path / "torch")
    result = run("import", "torchvision:squeezenet1_1", "squeeze.loom", "--pretrained", "--input-shape", "3,64,64",
                 cwd=tmp_path, env={"TORCH_HOME": str(tmp_path / "torch")})
    assert result.returncode == 0, result.stderr
    assert ("-> squeeze.loom, torchvision:squeezenet1_1 (SqueezeNet1_1_Weights.IMAGENET1K_V1)'s pretrained weights "
            "-> squeeze.safetensors") in result.stdout
    graph = load_graph(tmp_path / "squeeze.loom")
    start = graph.training["start_from"]
    assert start["path"] == "squeeze.safetensors" and graph.training["normalize"] == "weights"
    assert start["sha256"] == read_weights(tmp_path / "squeeze.safetensors").sha256
    assert start["mean"] == pytest.approx([0.485, 0.456, 0.406])
    assert start["std"] == pytest.approx([0.229, 0.224, 0.225])
    cache = torch.load(cached, weights_only=True)
    imported = read_weights(tmp_path / "squeeze.safetensors").tensors
    assert torch.equal(imported["features_0.weight"], cache["features.0.weight"])   # the cache's, not fresh ones
    result = run("check", "squeeze.loom", cwd=tmp_path)
    assert "Starts from" in result.stdout and "52 of the file's 52 tensors loaded." in result.stdout


def test_import_pretrained_without_the_weights_in_the_cache_fails_with_one_line(tmp_path):
    result = run("import", "torchvision:squeezenet1_1", "squeeze.loom", "--pretrained", cwd=tmp_path,
                 env={"TORCH_HOME": str(tmp_path / "empty")})
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        "error: the pretrained weights of torchvision:squeezenet1_1 (SqueezeNet1_1_Weights.IMAGENET1K_V1) are not in "
        f"the cache ({tmp_path / 'empty' / 'hub' / 'checkpoints' / 'squeezenet1_1-b8a52dc0.pth'}); NetLoom downloads "
        "them (5 MB) only when asked: add --allow-download (online)\n")
    assert not (tmp_path / "squeeze.loom").exists()


def test_a_download_that_fails_offline_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))

    def offline(url, dst, **_):
        raise OSError("<urlopen error [Errno -3] Temporary failure in name resolution>")
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    status = run_import("torchvision:squeezenet1_1", str(tmp_path / "s.loom"), None, sys.stderr, pretrained=True,
                        allow_download=True)
    assert status == 1
    assert capsys.readouterr().err == (
        "error: torchvision:squeezenet1_1 (SqueezeNet1_1_Weights.IMAGENET1K_V1): downloading "
        "https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth failed (<urlopen error [Errno -3] Temporary "
        "failure in name resolution>)\n")


def test_the_window_import_job_brings_pretrained_weights_and_where_they_came_from(tmp_path, monkeypatch):
    cached = fake_cache(tmp_path / "torch")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))        # the child process is spawned with it
    job = ImportJob("torchvision:squeezenet1_1", [3, 64, 64], pretrained=True).start()
    deadline = time.monotonic() + 300
    while job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    result = job.result
    assert result is not None and result.problem == "" and result.state is not None
    source, mean, std = result.pretrained
    assert source == "torchvision:squeezenet1_1 (SqueezeNet1_1_Weights.IMAGENET1K_V1)"
    assert mean == pytest.approx([0.485, 0.456, 0.406]) and std == pytest.approx([0.229, 0.224, 0.225])
    assert torch.equal(result.state["features_0.weight"], torch.load(cached, weights_only=True)["features.0.weight"])
    refused = ImportJob("torchvision:squeezenet1_1", [3, 64, 64], pretrained=True)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    refused.start()
    while refused.poll() is None:
        time.sleep(0.1)
    assert refused.result.problem.startswith("the pretrained weights of torchvision:squeezenet1_1")
