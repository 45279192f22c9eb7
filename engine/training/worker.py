"""Training in a separate process, so that a crash, a CUDA error or running out of memory there
never takes the editor down.

The child is started with ``spawn`` (a fresh interpreter: no state, threads or GPU context
inherited from the editor), receives the graph as file text and the settings as plain data,
and sends messages back through a queue. Pause and stop travel the other way as events. If the
child dies, the parent gets a ``Failed`` message with the exit code and never waits on it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import time
from typing import Any

import torch

from graphs import dumps_graph, loads_graph
from graphs.graph import Graph

from .config import TrainingConfig
from .control import Control
from .loop import train
from .messages import Failed

_END = "__end__"


class _EventControl(Control):
    """The child's view of the parent's buttons."""

    def __init__(self, stop, pause, probe_queue) -> None:
        super().__init__()
        self._stop, self._pause, self._probe_queue = stop, pause, probe_queue

    @property
    def paused(self) -> bool:
        self._read_probe_settings()
        return self._pause.is_set()

    def _read_probe_settings(self) -> None:
        try:
            while True:
                self.probe_sample, self.probe_layers, self.feature_layer = self._probe_queue.get_nowait()
        except queue.Empty:
            pass


def _child(graph_text: str, config: dict[str, Any], resume: str | None, allow_download: bool, messages, stop, pause,
           probe_queue) -> None:
    # The parent decides when to stop (Ctrl-C in a terminal reaches the whole process group).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Leave a core to the editor: a window that stutters while it trains is no use.
    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
    try:
        graph = loads_graph(graph_text, "<graph>")
        control = _EventControl(stop, pause, probe_queue)
        for message in train(graph, TrainingConfig.from_dict(config), control, resume=resume,
                             allow_download=allow_download):
            messages.put(message)
    except BaseException as err:   # report, then let the process end normally
        messages.put(Failed(f"the training process failed: {type(err).__name__}: {err}"))
    finally:
        messages.put(_END)


class TrainingWorker:
    """Runs one training in a child process; ``poll()`` returns the messages that arrived."""

    def __init__(self, graph: Graph, config: TrainingConfig | None = None, resume: str | None = None,
                 allow_download: bool = False) -> None:
        self._context = mp.get_context("spawn")
        self._messages = self._context.Queue()
        self._stop, self._pause = self._context.Event(), self._context.Event()
        self._probe_queue = self._context.Queue()
        config = config or TrainingConfig.from_file(graph.training)
        self._process = self._context.Process(
            target=_child, name="netloom-training", daemon=True,
            args=(dumps_graph(graph), config.to_dict(), resume, allow_download, self._messages, self._stop, self._pause,
                  self._probe_queue))
        self.done = False

    def start(self) -> TrainingWorker:
        self._process.start()
        return self

    def pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        self._pause.clear()

    def stop(self) -> None:
        self._stop.set()
        self._pause.clear()

    def set_probe(self, sample: int | None, layers: tuple[str, ...] | None = None,
                  feature_layer: str | None = None) -> None:
        self._probe_queue.put((sample, layers, feature_layer))

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    @property
    def exit_code(self) -> int | None:
        """The child's exit status once it has exited (None while it still winds down)."""
        return self._process.exitcode

    def poll(self, max_messages: int = 1000, timeout: float = 0.0) -> list:
        """Messages received so far (at most ``max_messages``); never blocks longer than ``timeout``."""
        received: list = []
        if self.done:
            return received
        wait = timeout
        while len(received) < max_messages:
            try:
                item = self._messages.get(timeout=wait) if wait > 0 else self._messages.get_nowait()
            except queue.Empty:
                break
            except (EOFError, OSError):   # the pipe broke with the child
                break
            wait = 0.0
            if item == _END:
                # The child still has to exit (torch teardown can take a second): never wait for
                # that here, the caller may be the editor's event loop.
                self.done = True
                return received
            received.append(item)
        if not received and not self._process.is_alive() and not self.done:
            # Dead without its end marker: killed, or crashed in native code.
            self._process.join(timeout=1)
            self.done = True
            received.append(Failed(_death_reason(self._process.exitcode)))
        return received

    def kill(self) -> None:
        """End the child at once (closing the app); no messages follow."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join(timeout=5)
        self.done = True

    def messages_until_done(self, timeout: float = 600.0) -> list:
        """Block until the run ends (for scripts and tests); returns every message."""
        deadline = time.monotonic() + timeout
        collected: list = []
        while not self.done and time.monotonic() < deadline:
            collected += self.poll(timeout=0.1)
        if not self.done:
            self.kill()
            collected.append(Failed(f"the training process did not finish within {timeout:g} s and was ended"))
        self._process.join(timeout=max(1.0, deadline - time.monotonic()))
        return collected


def _death_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the training process was killed ({name}, exit code {code})"
    return f"the training process ended unexpectedly (exit code {code})"

