"""A window a person uses keeps a training process loaded and waiting, so Train starts at once;
the process is used for the next run, a new one is prepared after it, and none is left behind."""

from pathlib import Path

import pytest

from engine.training import TrainingConfig
from engine.training import messages as M
from graphs import load_graph
from gui.training.controller import TrainingController

pytestmark = pytest.mark.slow     # training processes

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "lenet_digits.loom"


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


def test_the_next_run_uses_the_process_kept_warm_and_a_new_one_follows(qtbot):
    controller = TrainingController(keep_warm=True)
    try:
        qtbot.waitUntil(lambda: controller.spare is not None and controller.spare.ready, timeout=120_000)
        spare = controller.spare
        graph = load_graph(EXAMPLE)
        record = controller.start(graph, TrainingConfig.from_dict(graph.training).replace(epochs=1, probes=False))
        assert controller.worker._process is spare.process and controller.spare is None
        qtbot.waitUntil(lambda: isinstance(record.final, M.Finished), timeout=120_000)
        qtbot.waitUntil(lambda: _gone(spare.process.pid), timeout=30_000)          # collected, not defunct
        qtbot.waitUntil(lambda: controller.spare is not None, timeout=30_000)      # ready for the next run
        waiting = controller.spare.process.pid
    finally:
        controller.shutdown()
    assert controller.spare is None
    qtbot.waitUntil(lambda: _gone(waiting), timeout=10_000)


def test_a_window_in_a_test_or_a_screenshot_keeps_no_process_waiting(qtbot):
    controller = TrainingController()
    qtbot.wait(2_000)
    assert controller.spare is None
    controller.shutdown()
