"""Every file NetLoom writes goes through one atomic writer: the old file stays whole until the
new one is complete, a link is written through, a file the command reads is never written over,
and a file the person did not name (the weights beside an export or an import) is never
replaced without being asked."""

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine import compile_graph
from engine.interop import ExportError, export
from engine.training import TrainingConfig, train
from engine.training.checkpoint import load_checkpoint
from engine.training.messages import Finished
from graphs import atomic, load_graph, save_graph
from tests.helpers import chain, lenet

ROOT = Path(__file__).resolve().parents[2]


def netloom(*args, cwd):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def one_line_error(result) -> str:
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """LeNet trained one epoch, its checkpoint in ck/."""
    folder = tmp_path_factory.mktemp("trained")
    graph = lenet()
    save_graph(graph, folder / "lenet.loom")
    config = TrainingConfig.from_dict(graph.training).replace(epochs=1, device="cpu", probes=False,
                                                              checkpoint_dir=str(folder / "ck"))
    assert isinstance(list(train(graph, config))[-1], Finished)
    return folder / "ck" / "last.safetensors"


# ---------------------------------------------------------------------- the writer
def test_saving_through_a_link_writes_the_file_it_names_and_keeps_the_link(tmp_path):
    real = tmp_path / "models" / "net.loom"
    real.parent.mkdir()
    save_graph(chain("ReLU", input_shape=[4], name="first"), real)
    link = tmp_path / "net.loom"
    link.symlink_to(real)
    save_graph(chain("ReLU", input_shape=[4], name="second"), link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert load_graph(real).name == "second"
    assert sorted(p.name for p in real.parent.iterdir()) == ["net.loom"]      # no temporary left beside it


def test_an_output_that_is_an_input_is_refused_by_any_name(tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(b"input")
    os.link(source, tmp_path / "hard.bin")
    (tmp_path / "soft.bin").symlink_to(source)
    for name in ("in.bin", "hard.bin", "soft.bin", "sub/../in.bin"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(atomic.SameAsInput):
            atomic.write_atomically(tmp_path / name, b"output", inputs=[source])
    assert source.read_bytes() == b"input"


def test_a_file_not_to_be_replaced_is_refused_and_kept(tmp_path):
    target = tmp_path / "w.safetensors"
    target.write_bytes(b"mine")
    with pytest.raises(FileExistsError):
        atomic.write_atomically(target, b"theirs", replace=False)
    assert target.read_bytes() == b"mine" and sorted(p.name for p in tmp_path.iterdir()) == ["w.safetensors"]
    atomic.write_atomically(tmp_path / "new.safetensors", b"theirs", replace=False)
    assert (tmp_path / "new.safetensors").read_bytes() == b"theirs"


@pytest.mark.filterwarnings("ignore")       # TorchScript and ONNX say at length that torch.export is their future
@pytest.mark.parametrize("kind", ["pt2", "torchscript", "onnx", "py"])
def test_an_export_on_a_full_disk_says_so_and_leaves_the_previous_export_whole(tmp_path, monkeypatch, kind):
    graph = chain(("Linear", {"out_features": 3}), input_shape=[4], name="small")
    target = tmp_path / f"small.{kind}"
    export(graph, kind, target)
    before = target.read_bytes()

    def full_disk(fd):
        os.close(fd)
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(atomic, "_open_for_writing", full_disk)
    with pytest.raises(ExportError, match=f"{target}: cannot be written \\(the disk is full\\); the file on disk was "
                                          "left as it was"):
        export(chain(("Linear", {"out_features": 5}), input_shape=[4], name="small"), kind, target)
    assert target.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [target.name]


# ---------------------------------------------------------------------- the command line
@pytest.mark.slow     # command-line processes
def test_export_never_writes_over_the_graph_it_reads(tmp_path):
    graph = tmp_path / "g.loom"
    save_graph(chain(("Linear", {"out_features": 3}), input_shape=[4], name="g"), graph)
    before = graph.read_bytes()
    os.link(graph, tmp_path / "same.loom")
    for out in ("g.loom", "same.loom", "./g.loom"):
        line = one_line_error(netloom("export", "g.loom", "--to", "pt2", out, cwd=tmp_path))
        assert "which this export reads; name another file to write" in line
    assert graph.read_bytes() == before and load_graph(graph).name == "g"


@pytest.mark.slow     # command-line processes
def test_a_python_export_beside_a_checkpoint_never_replaces_it(tmp_path, checkpoint):
    folder = checkpoint.parent
    before = checkpoint.read_bytes()
    line = one_line_error(netloom("export", folder.parent / "lenet.loom", "--to", "py", folder / "last.py",
                                  "--weights", checkpoint, "--force", cwd=tmp_path))
    assert "last.safetensors is a file this export reads; the weights need another name" in line
    assert checkpoint.read_bytes() == before and not (folder / "last.py").exists()
    load_checkpoint(checkpoint)                    # still a checkpoint a run can resume from


@pytest.mark.slow     # command-line processes
def test_the_weights_beside_a_python_export_replace_nothing_unless_asked(tmp_path, checkpoint):
    graph = checkpoint.parent.parent / "lenet.loom"
    (tmp_path / "net.safetensors").write_bytes(b"someone's weights")
    line = one_line_error(netloom("export", graph, "--to", "py", "net.py", "--weights", checkpoint, cwd=tmp_path))
    assert line == ("error: net.safetensors exists; name the weights file with --weights-out FILE, or pass --force "
                    "to replace it")
    assert (tmp_path / "net.safetensors").read_bytes() == b"someone's weights" and not (tmp_path / "net.py").exists()
    named = netloom("export", graph, "--to", "py", "net.py", "--weights", checkpoint, "--weights-out", "w/n.safetensors",
                    cwd=tmp_path)
    assert named.returncode == 1 and "cannot be written" in named.stderr         # no folder is made for it
    (tmp_path / "w").mkdir()
    named = netloom("export", graph, "--to", "py", "net.py", "--weights", checkpoint, "--weights-out", "w/n.safetensors",
                    cwd=tmp_path)
    assert named.returncode == 0, named.stderr
    assert "WEIGHTS = 'w/n.safetensors'" in (tmp_path / "net.py").read_text()
    forced = netloom("export", graph, "--to", "py", "net.py", "--weights", checkpoint, "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    ran = subprocess.run([sys.executable, "-I", str(tmp_path / "net.py")], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0 and "output 1: (2, 10)" in ran.stdout, ran.stderr


@pytest.mark.slow     # command-line processes
def test_weights_that_belong_to_another_graph_are_refused_by_tensor(tmp_path, checkpoint):
    other = chain(("Linear", {"out_features": 10}), input_shape=[64], name="other")
    save_graph(other, tmp_path / "other.loom")
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in compile_graph(other).state_dict().items()}, str(tmp_path / "o.safetensors"))
    graph = checkpoint.parent.parent / "lenet.loom"
    for kind, weights in (("py", tmp_path / "o.safetensors"), ("pt2", tmp_path / "o.safetensors"), ("py", checkpoint)):
        target = "other" if weights == checkpoint else "lenet"
        used = tmp_path / "other.loom" if target == "other" else graph
        line = one_line_error(netloom("export", used, "--to", kind, f"x.{kind}", "--weights", weights, cwd=tmp_path))
        assert "belong to another graph" in line or "which the graph needs" in line, line
        assert not (tmp_path / f"x.{kind}").exists()


@pytest.mark.slow     # command-line processes
def test_an_import_never_replaces_weights_it_was_not_told_to(tmp_path):
    (tmp_path / "tiny.py").write_text("import torch\nclass Tiny(torch.nn.Module):\n    example_input_shape = [4]\n"
                                      "    def __init__(self):\n        super().__init__()\n"
                                      "        self.fc = torch.nn.Linear(4, 2)\n    def forward(self, x):\n"
                                      "        return self.fc(x)\n")
    (tmp_path / "tiny.safetensors").write_bytes(b"mine")
    line = one_line_error(netloom("import", "tiny.py:Tiny", "tiny.loom", cwd=tmp_path))
    assert line == "error: tiny.safetensors exists; name the weights file with --weights-out FILE, or pass --force to " \
                   "replace it"
    assert (tmp_path / "tiny.safetensors").read_bytes() == b"mine" and not (tmp_path / "tiny.loom").exists()
    assert netloom("import", "tiny.py:Tiny", "tiny.loom", "--weights-out", "t2.safetensors", cwd=tmp_path).returncode == 0
    assert (tmp_path / "tiny.safetensors").read_bytes() == b"mine" and (tmp_path / "t2.safetensors").stat().st_size > 64
    line = one_line_error(netloom("import", "tiny.py:Tiny", "tiny.py", "--force", cwd=tmp_path))
    assert "is the file the model is imported from" in line and "class Tiny" in (tmp_path / "tiny.py").read_text()
    assert netloom("import", "tiny.py:Tiny", "tiny.loom", "--force", cwd=tmp_path).returncode == 0
    assert (tmp_path / "tiny.safetensors").read_bytes() != b"mine"
    weights = __import__("safetensors.torch").torch.load_file(str(tmp_path / "tiny.safetensors"))
    assert set(weights) == {"fc.weight", "fc.bias"} and isinstance(weights["fc.weight"], torch.Tensor)
