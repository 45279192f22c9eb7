"""Checkpoints survive kills, full disks and tampering; every bad file gets one line naming it."""

import errno
import json
import multiprocessing as mp
import os
import random
import resource
import signal
import struct
import time
from pathlib import Path

import pytest
import torch

from engine.training import TrainingConfig, train
from engine.training.checkpoint import (
    CheckpointError,
    is_checkpoint,
    legacy_state_path,
    load_checkpoint,
    load_weights,
    save_checkpoint,
)
from engine.training.messages import CheckpointSaved, Failed, Finished, RunStarted, StepMetrics
from graphs import atomic, load_graph
from tests.helpers import lenet

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def config_for(graph, folder, **changes):
    return TrainingConfig.from_dict(graph.training).replace(
        **({"device": "cpu", "probes": False, "checkpoint_dir": str(folder)} | changes))


def trained(folder, epochs=1, **changes):
    """A real checkpoint: LeNet on the digits for ``epochs`` epochs."""
    graph = lenet()
    messages = list(train(graph, config_for(graph, folder, epochs=epochs, **changes)))
    assert isinstance(messages[-1], Finished), messages[-1]
    return folder / "last.safetensors"


def rewrite(path, metadata=None, tensors=None, state=None):
    """Write a checkpoint again with changed parts and a valid checksum (a careful forger)."""
    checkpoint = load_checkpoint(path)
    new_state = dict(checkpoint.state) if state is None else state
    save_checkpoint(path.parent, path.name.removesuffix(".safetensors"), tensors or checkpoint.weights,
                    new_state, checkpoint.run_id)


def resume(path, **changes):
    graph = lenet()
    return list(train(graph, config_for(graph, path.parent, **changes), resume=str(path)))


# ---------------------------------------------------------------------- one file, written whole
@pytest.mark.slow
def test_a_checkpoint_is_one_file_holding_weights_state_and_run_id(tmp_path):
    path = trained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.safetensors", "last.safetensors"]
    checkpoint = load_checkpoint(path)
    assert checkpoint.step == 23 and checkpoint.state["epoch"] == 1 and len(checkpoint.run_id) == 12
    assert is_checkpoint(path)
    assert set(load_weights(path)) == set(checkpoint.weights) and "conv1.weight" in checkpoint.weights


def _keep_saving(folder: str, ready) -> None:
    torch.set_num_threads(1)
    weights = {"fc.weight": torch.zeros(512, 512)}
    step = 0
    while True:
        step += 1
        weights["fc.weight"].fill_(float(step))
        save_checkpoint(folder, "last", weights, {"step": step, "optimizer": {"m": torch.full((256, 256), step)}},
                        "run")
        ready.set()


@pytest.mark.slow
def test_killing_the_writer_at_any_moment_leaves_a_whole_checkpoint(tmp_path):
    context = mp.get_context("fork")
    rng = random.Random(7)
    seen_steps = []
    for _attempt in range(12):
        ready = context.Event()
        child = context.Process(target=_keep_saving, args=(str(tmp_path), ready))
        child.start()
        assert ready.wait(20)
        time.sleep(rng.uniform(0.0, 0.08))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        checkpoint = load_checkpoint(tmp_path / "last.safetensors")   # verifies the checksum
        step = checkpoint.state["step"]
        assert torch.equal(checkpoint.weights["fc.weight"], torch.full((512, 512), float(step)))
        assert torch.equal(checkpoint.state["optimizer"]["m"], torch.full((256, 256), step))
        seen_steps.append(step)
    assert len(set(seen_steps)) > 1          # the kills landed at different moments
    # Leftover temporary files of the killed writers are removed at the next save.
    save_checkpoint(tmp_path, "last", {"w": torch.ones(1)}, {"step": 1}, "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.safetensors"]


@pytest.mark.slow
def test_a_killed_training_run_resumes_from_its_last_good_checkpoint(tmp_path):
    graph = lenet()
    from engine.training.worker import TrainingWorker
    worker = TrainingWorker(graph, config_for(graph, tmp_path, epochs=30, log_every=1)).start()
    saved = []
    deadline = time.monotonic() + 60
    while len({m.epoch for m in saved}) < 2 and time.monotonic() < deadline:
        saved += [m for m in worker.poll() if isinstance(m, CheckpointSaved)]
        time.sleep(0.01)
    worker.kill()                        # somewhere in epoch 3, maybe in the middle of a save
    assert len({m.epoch for m in saved}) >= 2
    epoch = load_checkpoint(tmp_path / "last.safetensors").state["epoch"]
    assert epoch >= 2
    messages = resume(tmp_path / "last.safetensors", epochs=epoch + 1)
    assert messages[0].start_epoch == epoch and isinstance(messages[-1], Finished)


# ---------------------------------------------------------------------- a full disk
class FullDisk:
    """Writes to temporary files fail with ENOSPC after ``room`` bytes."""

    def __init__(self, room: int) -> None:
        self.room = room

    def __call__(self, fd):
        room = self.room
        real = os.fdopen(fd, "wb")

        class Writer:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                real.close()

            def write(self, data):
                nonlocal room
                if len(data) > room:
                    real.write(bytes(data[:room]))
                    room = 0
                    raise OSError(errno.ENOSPC, "No space left on device")
                room -= len(data)
                return real.write(data)

            def flush(self):
                real.flush()

            def fileno(self):
                return real.fileno()
        return Writer()


def test_a_full_disk_is_reported_as_such_and_the_last_good_checkpoint_is_kept(tmp_path, monkeypatch):
    path = trained(tmp_path)
    before = path.read_bytes()
    monkeypatch.setattr(atomic, "_open_for_writing", FullDisk(room=4096))
    graph = lenet()
    messages = list(train(graph, config_for(graph, tmp_path, epochs=3), resume=str(path)))
    failed = messages[-1]
    assert isinstance(failed, Failed)
    assert failed.reason.startswith(f"the disk is full: checkpoint {path} could not be written; the last good "
                                    f"checkpoint, {path}, is kept as it was")
    monkeypatch.undo()
    assert path.read_bytes() == before and load_checkpoint(path).step == 23
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# ---------------------------------------------------------------------- tampering
def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_an_edited_tensor_byte_is_caught_by_the_checksum(tmp_path):
    path = trained(tmp_path)
    _flip_byte(path, len(path.read_bytes()) - 100)
    with pytest.raises(CheckpointError, match=f"^{path}: checksum: the file's contents do not match"):
        load_checkpoint(path)
    failed = resume(path, epochs=2)[-1]
    assert isinstance(failed, Failed) and "checksum" in failed.reason


def test_a_one_byte_header_edit_is_caught(tmp_path):
    path = trained(tmp_path)
    data = path.read_bytes()
    header = data[8:8 + struct.unpack("<Q", data[:8])[0]]
    offset = 8 + header.index(b'"step":"23"') + len(b'"step":"2')     # 23 -> 22: still valid JSON
    _flip_byte(path, offset)
    with pytest.raises(CheckpointError, match="checksum"):
        load_checkpoint(path)


def test_the_state_of_another_run_cannot_be_mixed_in(tmp_path):
    """Weights of one run with the header of another at the same step: refused."""
    a, b = trained(tmp_path / "a"), trained(tmp_path / "b", seed=5)
    data_a, data_b = a.read_bytes(), b.read_bytes()
    size_a, size_b = (struct.unpack("<Q", d[:8])[0] for d in (data_a, data_b))
    mixed = tmp_path / "mixed.safetensors"
    mixed.write_bytes(data_a[:8 + size_a] + data_b[8 + size_b:])
    with pytest.raises(CheckpointError, match=f"^{mixed}: (checksum|not a readable)"):
        load_checkpoint(mixed)


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("optimizer"), "optimizer: missing"),
    (lambda s: s.update(rng=torch.zeros(3)), r"rng: must be a tensor of torch.uint8"),
    (lambda s: s.update(step="23"), "step: must be an integer, not '23'"),
    (lambda s: s.update(scheduler={"last_epoch": "x"}), "scheduler.base_lrs: missing"),
    (lambda s: s.update(epoch=1_000_000, step=1_000_000 * 23), "nothing is left to train"),
    (lambda s: s.update(batch_in_epoch=5), "step: 23 does not follow from epoch 1 and batch 5"),
])
def test_a_state_that_breaks_the_schema_gets_one_line_naming_file_and_field(tmp_path, change, message):
    path = trained(tmp_path)
    state = dict(load_checkpoint(path).state)
    change(state)
    rewrite(path, state=state)
    failed = resume(path, epochs=2)
    assert len(failed) == 1 and isinstance(failed[0], Failed)
    assert failed[0].reason.startswith(str(path)) and message in failed[0].reason
    assert "\n" not in failed[0].reason


def test_nan_weights_are_refused_before_training(tmp_path):
    path = trained(tmp_path)
    weights = dict(load_checkpoint(path).weights)
    weights["fc1.weight"] = torch.full_like(weights["fc1.weight"], float("nan"))
    rewrite(path, tensors=weights)
    failed = resume(path, epochs=2)
    assert len(failed) == 1 and "weight 'fc1.weight' holds NaN or infinite values" in failed[0].reason


def test_a_pickled_state_file_of_the_old_format_is_refused_in_one_line(tmp_path):
    from safetensors.torch import save_file
    save_file({"w": torch.ones(2)}, str(tmp_path / "last.safetensors"), metadata={"step": "1"})

    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))
    torch.save({"step": 1, "x": Payload()}, tmp_path / "last.state.pt")
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(tmp_path)
    text = str(caught.value)
    assert text == (f"{tmp_path / 'last.state.pt'}: holds Python objects, not plain training data; NetLoom never "
                    "runs code from a checkpoint, so it cannot be loaded")


def test_checkpoints_of_the_first_format_still_resume(tmp_path):
    path = trained(tmp_path)
    checkpoint = load_checkpoint(path)
    from safetensors.torch import save_file
    save_file(checkpoint.weights, str(path), metadata={"step": str(checkpoint.step)})
    torch.save(checkpoint.state, legacy_state_path(path))
    messages = resume(path, epochs=2)
    assert isinstance(messages[-1], Finished) and messages[0].start_epoch == 1
    assert not legacy_state_path(path).exists()     # the new checkpoint replaced the pair


# ---------------------------------------------------------------------- problems found early
def test_a_checkpoint_folder_that_cannot_be_written_is_refused_before_training(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    graph = lenet()
    messages = list(train(graph, config_for(graph, blocker / "checkpoints", epochs=1)))
    assert len(messages) == 1 and isinstance(messages[0], Failed)
    assert messages[0].reason.startswith(f"checkpoint folder {blocker / 'checkpoints'} cannot be written")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_checkpoint_folder_is_refused_before_training(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    graph = lenet()
    messages = list(train(graph, config_for(graph, folder, epochs=1)))
    assert len(messages) == 1 and "cannot be written" in messages[0].reason


@pytest.mark.slow
def test_resume_applies_a_new_learning_rate_and_says_so(tmp_path):
    path = trained(tmp_path)
    messages = resume(path, epochs=2, lr=0.01)
    started = messages[0]
    assert isinstance(started, RunStarted)
    assert started.notes == ("learning rate: 0.01 from here on (the checkpoint's run had 0.002)",
                             "epochs: 2 (the checkpoint's run had 1)")
    assert isinstance(messages[-1], Finished)
    assert {m.lr for m in messages if isinstance(m, StepMetrics)} == {0.01}


@pytest.mark.slow
def test_resume_refuses_a_setting_the_saved_state_depends_on(tmp_path):
    path = trained(tmp_path)
    failed = resume(path, epochs=2, batch_size=32)
    assert len(failed) == 1 and failed[0].reason.startswith(
        f"cannot resume {path} with batch_size 32: it was trained with 64")


@pytest.mark.slow
def test_the_train_command_prints_the_changes_it_applied_on_resume(tmp_path):
    import subprocess
    import sys
    trained(tmp_path)
    result = subprocess.run([sys.executable, "main.py", "train", str(EXAMPLES / "lenet_digits.loom"), "--epochs",
                             "2", "--lr", "0.004", "--device", "cpu", "--checkpoint-dir", str(tmp_path),
                             "--resume", str(tmp_path)], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert result.returncode == 0, result.stderr
    assert "resuming with learning rate: 0.004 from here on (the checkpoint's run had 0.002)" in result.stderr


# ---------------------------------------------------------------------- temporary files
def test_temporary_files_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    target = tmp_path / "last.safetensors"
    dead = tmp_path / ".last.safetensors.999999999.x1.tmp"
    live = tmp_path / f".last.safetensors.{os.getppid()}.x2.tmp"
    other = tmp_path / ".best.safetensors.999999999.x3.tmp"
    for p in (dead, live, other):
        p.write_bytes(b"partial")
    save_checkpoint(tmp_path, "last", {"w": torch.ones(1)}, {"step": 1}, "run")
    assert not dead.exists() and live.exists() and other.exists()
    assert load_checkpoint(target).step == 1


def test_a_missing_checkpoint_is_named(tmp_path):
    failed = list(train(lenet(), resume=str(tmp_path / "missing.safetensors")))
    assert len(failed) == 1 and failed[0].reason == f"{tmp_path / 'missing.safetensors'}: no such file"


def test_graph_saves_and_opens_clean_up_after_interrupted_saves(tmp_path):
    from graphs import Graph, save_graph
    target = tmp_path / "g.loom"
    save_graph(Graph(name="g"), target)
    leftover = tmp_path / ".g.loom.999999999.abc.tmp"
    leftover.write_text("{")
    load_graph(target)
    assert not leftover.exists()
    json.loads(target.read_text())


@pytest.mark.slow
def test_a_checkpoint_written_before_a_setting_existed_still_resumes(tmp_path):
    """Settings added to NetLoom after a checkpoint was written (here the recurrent ones) take
    their defaults on resume instead of making the checkpoint's state look incomplete."""
    path = trained(tmp_path)
    checkpoint = load_checkpoint(path)
    state = dict(checkpoint.state)
    state["config"] = {k: v for k, v in state["config"].items()
                       if k not in ("truncate_bptt", "lstm_forget_bias", "negative_samples")}
    save_checkpoint(tmp_path, "last", checkpoint.weights, state, checkpoint.run_id)
    messages = resume(path, epochs=2)
    assert isinstance(messages[-1], Finished) and messages[0].start_epoch == 1


def test_a_state_key_no_dictionary_can_take_is_refused_in_one_line(tmp_path):
    """A checksum is no signature: a file whose state holds a list inside a tuple key, with its
    checksum recomputed, is hostile input like any other."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from engine.training.checkpoint import _checksum
    path = trained(tmp_path)
    with safe_open(str(path), "pt") as opened:
        metadata = dict(opened.metadata())
    tensors = load_file(str(path))
    state = json.loads(metadata["state"])
    state["optimizer"]["state"] = {"$dict": [[{"$tuple": [[1, 2]]}, {}]]}
    metadata["state"] = json.dumps(state)
    metadata["checksum"] = _checksum(metadata, tensors)
    save_file(tensors, str(path), metadata=metadata)
    failed = resume(path, epochs=2)
    assert len(failed) == 1 and isinstance(failed[0], Failed) and "\n" not in failed[0].reason
    assert failed[0].reason.startswith(f"{path}: state: optimizer.state[0]: a key must be a number, text")


@pytest.mark.parametrize("kind", ["pipe", "device", "sparse", "folder of a pipe"])
def test_resume_and_weights_refuse_what_is_no_regular_file_without_reading_it(tmp_path, kind):
    from tests.helpers import named_pipe, without_blocking
    if kind == "pipe":
        path = named_pipe(tmp_path / "last.safetensors")
    elif kind == "device":
        path = tmp_path / "last.safetensors"
        path.symlink_to("/dev/zero")
    elif kind == "sparse":
        path = tmp_path / "last.safetensors"
        with open(path, "wb") as f:
            f.truncate(3 << 30)                   # 3 GB of zeros that take no disk
    else:
        named_pipe(tmp_path / "last.safetensors")
        path = tmp_path                           # a folder stands for its last.safetensors
    pipes = [tmp_path / "last.safetensors"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    failed = without_blocking(lambda: resume(path, epochs=2), pipes)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 500_000      # KB: nothing like 3 GB read
    expected = "not a readable safetensors file" if kind == "sparse" else "is not a regular file"
    assert len(failed) == 1 and isinstance(failed[0], Failed) and expected in failed[0].reason, failed
    with pytest.raises(CheckpointError, match=expected):
        without_blocking(lambda: load_weights(path), pipes)


def test_a_header_that_describes_other_bytes_than_the_file_holds_is_refused_before_reading_them(tmp_path):
    path = trained(tmp_path)
    with open(path, "ab") as f:
        f.write(b"\0" * 1000)
    with pytest.raises(CheckpointError, match=r"its header describes [\d,]+ bytes of tensors, the file holds"):
        load_checkpoint(path)
