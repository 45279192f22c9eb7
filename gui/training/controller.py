"""Runs training in the engine's worker process and turns its messages into run records.

A timer polls the worker about 30 times a second and takes whatever arrived (bounded per
tick, so a flood of messages never stalls the window); views redraw from the records on their
own timers. The run trains a snapshot of the graph: editing during a run is safe.

With ``keep_warm`` (a window a person uses) a training process is started ahead of time and
waits, loaded, for the next run, so that Train starts training at once; a new one is prepared
when a run ends, and finished processes are collected so that none lingers as a defunct one."""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from engine.training import TrainingConfig, TrainingWorker, WarmProcess, run_name
from engine.training import messages as M
from graphs import Graph, dumps_graph, loads_graph

from .run_record import RunRecord

POLL_MS = 33
MAX_MESSAGES_PER_TICK = 400
SPARE_DELAY_MS = 1500        # after the window opens: its own start comes first
REAP_MS = 500                # how often ended runs are looked at until their processes have exited


class TrainingController(QObject):
    started = Signal(object)       # RunRecord
    updated = Signal(object)       # RunRecord, after new messages
    ended = Signal(object)         # RunRecord, finished, stopped or failed

    def __init__(self, parent=None, keep_warm: bool = False) -> None:
        super().__init__(parent)
        self.keep_warm = keep_warm
        self.spare: WarmProcess | None = None
        self.runs: list[RunRecord] = []
        self.current: RunRecord | None = None
        self.worker: TrainingWorker | None = None
        self._probe: tuple = (None, None, None)      # sample, layers, feature layer: kept for the next run
        self._folder = tempfile.TemporaryDirectory(prefix="netloom-runs-")
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._ending: list[TrainingWorker] = []        # runs that ended, whose processes may not have exited
        self._reaper = QTimer(self, interval=REAP_MS)
        self._reaper.timeout.connect(self._reap)
        if keep_warm:
            QTimer.singleShot(SPARE_DELAY_MS, self, self.prepare_spare)

    def prepare_spare(self) -> None:
        """Start the process the next run will use, unless one is waiting or a run is going."""
        if self.keep_warm and self.spare is None and not self.running:
            self.spare = WarmProcess()

    def _reap(self) -> None:
        """Collect the processes of ended runs as they exit (none is left defunct); once they all
        have, the machine is free to prepare the next run's process."""
        self._ending = [worker for worker in self._ending if not worker.exited()]
        if not self._ending:
            self._reaper.stop()
            self.prepare_spare()

    @property
    def running(self) -> bool:
        return self.worker is not None and not self.worker.done

    @property
    def paused(self) -> bool:
        return self.running and self.current is not None and self.current.status == "paused"

    def start(self, graph: Graph, config: TrainingConfig, document: Path | None = None,
              allow_download: bool = False) -> RunRecord:
        """Train a snapshot of ``graph``; ``document`` is the file it was opened from (None: untitled)."""
        if self.running:
            raise RuntimeError("a run is already going")
        snapshot = loads_graph(dumps_graph(graph), "<snapshot>")
        number = len(self.runs) + 1
        folder = Path(self._folder.name) / f"run{number}"
        name = self.name_for(config, graph.model_fingerprint())
        config = config.replace(checkpoint_dir=str(folder))   # the Predict panel reads the weights here
        record = RunRecord(name, config.to_dict(), graph.model_fingerprint())
        record.graph_text = dumps_graph(snapshot)
        record.document = str(document) if document is not None else None
        self.runs.append(record)
        self.current = record
        spare, self.spare = self.spare, None
        # Start weights are named relative to the graph's file (an untitled graph's by their full path).
        graph_folder = str(document.parent) if document is not None else None
        self.worker = TrainingWorker(snapshot, config, allow_download=allow_download, graph_folder=graph_folder,
                                     process=spare).start()
        if self._probe != (None, None, None):
            self.worker.set_probe(*self._probe)
        self._timer.start()
        self.started.emit(record)
        return record

    def name_for(self, config: TrainingConfig, fingerprint: str) -> str:
        """A run's name from its settings ("SGD lr 0.1 momentum 0.9"), beside the earlier runs of the
        same graph: what differs from them; " (2)" when a name is taken."""
        beside = [r for r in self.runs if r.model_fingerprint == fingerprint]
        others = []
        for r in beside:
            try:
                others.append(TrainingConfig.from_dict(r.settings))
            except ValueError:
                pass                     # a run of an older version: named without it
        base = name = run_name(config, others)
        taken, copy = {r.name for r in self.runs}, 1
        while name in taken:
            copy += 1
            name = f"{base} ({copy})"
        return name

    def poll(self) -> None:
        if self.worker is None or self.current is None:
            return
        messages = self.worker.poll(max_messages=MAX_MESSAGES_PER_TICK)
        if not messages:
            return
        record = self.current
        for m in messages:
            record.absorb(m)
        self.updated.emit(record)
        if any(isinstance(m, (M.Finished, M.Failed)) for m in messages):
            self._timer.stop()
            self._ending.append(self.worker)
            self._reaper.start()
            self.worker = None
            self.ended.emit(record)

    def _live(self) -> tuple[TrainingWorker, RunRecord] | None:
        """The worker of the run going on, and its record; None when no run is going."""
        if self.worker is None or self.worker.done or self.current is None:
            return None
        return self.worker, self.current

    def pause(self) -> None:
        live = self._live()
        if live is not None:
            live[0].pause()
            live[1].status = "paused"
            self.updated.emit(live[1])

    def resume(self) -> None:
        live = self._live()
        if live is not None:
            live[0].resume()
            live[1].status = "running"
            self.updated.emit(live[1])

    def stop(self) -> None:
        live = self._live()
        if live is not None:
            live[0].stop()

    def set_probe(self, sample: int | None, layers: tuple[str, ...] | None = None) -> None:
        """The validation sample (and layers) the probes look at, from the next probe on."""
        self._probe = (sample, layers, self._probe[2])
        self._send_probe()

    def set_feature_layer(self, layer: str | None) -> None:
        """The layer whose feature space is projected, from the next epoch on."""
        self._probe = (*self._probe[:2], layer)
        self._send_probe()

    def _send_probe(self) -> None:
        live = self._live()
        if live is not None:
            live[0].set_probe(*self._probe)

    def shutdown(self) -> None:
        """Closing the window: end the worker at once, and let the waiting process go."""
        self._timer.stop()
        self._reaper.stop()
        self.keep_warm = False
        if self.spare is not None:
            self.spare.close()
            self.spare = None
        if self.worker is not None:
            self.worker.kill()
            self.worker = None
