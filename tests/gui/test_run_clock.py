"""The dashboard's clocks: elapsed counts from the run's own start as the worker reports it (one
clock, carried on between reports), the ETA comes from measured epochs only, and the finished
line says the time the worker reported last. Driven by messages and a controlled clock."""

import gc

import pytest

from engine.training import messages as M
from gui.training.dashboard import Dashboard
from gui.training.run_record import RunRecord


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def step(step: int, elapsed: float) -> M.StepMetrics:
    return M.StepMetrics(step, (step - 1) // 10, 1.0, 0.01, 100.0, elapsed_s=elapsed)


def epoch(number: int, elapsed: float) -> M.EpochMetrics:
    return M.EpochMetrics(number, number * 10, 1.0, 0.5, 1.0, 0.5, elapsed)


def status(dashboard: Dashboard) -> str:
    dashboard.mark_dirty()
    dashboard.redraw()
    return dashboard.status.text()


@pytest.fixture
def dashboard(qtbot):
    made = Dashboard()
    yield made
    # Collected here, on the GUI thread: left to the collector, a later test's background thread
    # could be the one that frees its Qt objects.
    made.deleteLater()
    qtbot.wait(1)
    del made
    gc.collect()


def test_elapsed_and_eta_follow_the_workers_clock(dashboard):
    clock = Clock(100.0)
    record = RunRecord("run 1", {"dataset": "xor"}, clock=clock)
    dashboard.show_runs(record, [record])

    # Pressed Train 9 s ago (a cold process): nothing has started, so no time is claimed.
    clock.now = 109.0
    assert "elapsed" not in status(dashboard) and "left" not in status(dashboard)

    record.absorb(M.RunStarted("cpu", 10, 100, 10, 10, 3, "xor"))
    clock.now = 110.5
    assert "elapsed 1.5 s" in status(dashboard)           # from the run's start, not from the button
    assert "left" not in status(dashboard)                 # no epoch measured: no guess

    record.absorb(step(5, 0.8))                            # the worker's report sets the clock right
    assert record.elapsed_now == 0.8
    clock.now = 111.0
    assert "elapsed 1.3 s" in status(dashboard)

    record.absorb(epoch(1, 2.0))                           # the first epoch took 2 s: 2 more to go
    assert record.epoch_s == 2.0 and record.eta_s == 4.0
    clock.now = 112.0
    assert "elapsed 3.0 s, about 3.0 s left" in status(dashboard)

    record.absorb(epoch(2, 5.0))                           # 3 s: smoothed with the 2 s before
    assert record.epoch_s == 2.5 and record.eta_s == 2.5
    clock.now = 117.0                                      # paused: the worker's clock goes on
    record.status = "paused"
    assert record.elapsed_now == 10.0 and record.eta_s == 0.0

    record.status = "running"
    record.absorb(M.Finished("completed", 3, 30, 1.0, 0.5, elapsed_s=7.4))
    clock.now = 200.0                                      # ended: the time stays what the worker said
    text = status(dashboard)
    assert "finished" in text and "elapsed 7.4 s" in text and "left" not in text
    assert record.eta_s is None


def test_durations_read_as_people_read_them():
    from gui.training.dashboard import seconds
    assert [seconds(v) for v in (0.04, 6.44, 59.6, 125)] == ["0.0 s", "6.4 s", "60 s", "2 min 05 s"]
