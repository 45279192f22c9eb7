"""Training in a child process: messages come back, buttons work, a dying child is reported."""

import os
import signal
import time
from pathlib import Path

import pytest

from engine.training import TrainingConfig
from engine.training.messages import EpochMetrics, Failed, Finished, RunStarted, StepMetrics
from engine.training.worker import TrainingWorker, WarmProcess
from graphs import load_graph

pytestmark = pytest.mark.slow     # training in worker processes

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "lenet_digits.loom"


def long_run():
    graph = load_graph(EXAMPLE)
    return TrainingWorker(graph, TrainingConfig.from_dict(graph.training).replace(epochs=500, log_every=1))


def wait_for(worker, kind, timeout=120):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        batch = worker.poll(timeout=0.05)
        seen += batch
        if any(isinstance(m, kind) for m in batch):
            return seen
        assert not worker.done, seen[-1:]
    raise AssertionError(f"no {kind.__name__} within {timeout} s")


def test_pause_resume_and_stop_from_the_parent():
    worker = long_run().start()
    try:
        first = wait_for(worker, EpochMetrics)
        assert isinstance(first[0], RunStarted)
        worker.pause()
        time.sleep(0.8)
        worker.poll()                      # whatever was already on its way
        time.sleep(0.5)
        assert not [m for m in worker.poll() if isinstance(m, StepMetrics)]
        worker.resume()
        wait_for(worker, StepMetrics)
        worker.stop()
        rest = worker.messages_until_done(timeout=60)
        assert isinstance(rest[-1], Finished) and rest[-1].reason == "stopped"
        assert worker.exit_code == 0 and not worker.alive
    finally:
        worker.kill()


def test_a_killed_worker_is_reported_and_the_parent_carries_on():
    worker = long_run().start()
    try:
        wait_for(worker, StepMetrics)
        os.kill(worker._process.pid, signal.SIGKILL)
        final = worker.messages_until_done(timeout=30)
        assert worker.done and isinstance(final[-1], Failed)     # noticed, not waited for until the timeout
        assert final[-1].reason == "the training process was killed (SIGKILL, exit code -9)"
        assert worker.poll() == []          # nothing more, and no hang
    finally:
        worker.kill()


def test_a_failure_inside_the_worker_comes_back_as_a_message():
    graph = load_graph(EXAMPLE)
    graph.set_params("input1", shape=[1, 9, 9])
    worker = TrainingWorker(graph, TrainingConfig.from_dict(graph.training)).start()
    messages = worker.messages_until_done(timeout=120)
    assert len(messages) == 1 and isinstance(messages[0], Failed) and messages[0].node == "input1"
    assert worker.exit_code == 0


def _state(pid: int) -> str | None:
    """The process's state letter (Z: ended but not collected), None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def test_a_run_on_a_process_started_ahead_trains_as_a_cold_one_and_leaves_nothing_behind():
    graph = load_graph(EXAMPLE)
    config = TrainingConfig.from_dict(graph.training).replace(epochs=2, probes=False)
    spare = WarmProcess()
    warm = TrainingWorker(graph, config, process=spare).start()
    assert not spare.usable                              # one run per process
    warm_messages = warm.messages_until_done(timeout=300)
    cold_messages = TrainingWorker(graph, config).start().messages_until_done(timeout=300)
    assert [type(m).__name__ for m in warm_messages] == [type(m).__name__ for m in cold_messages]
    warm_final, cold_final = warm_messages[-1], cold_messages[-1]
    assert isinstance(warm_final, Finished) and warm_final.val_accuracy == cold_final.val_accuracy   # seeded alike
    deadline = time.monotonic() + 30
    while not warm.exited() and time.monotonic() < deadline:     # what the window asks on a timer
        time.sleep(0.1)
    assert _state(spare.process.pid) is None              # collected, not left defunct
    unused = WarmProcess()
    unused.close()
    assert _state(unused.process.pid) is None and not unused.usable
