"""Training in a separate process, so that a crash, a CUDA error or running out of memory there
never takes the editor down.

The child is started with ``spawn`` (a fresh interpreter: no state, threads or GPU context
inherited from the editor), receives the graph as file text and the settings as plain data,
and sends messages back through a queue. Pause and stop travel the other way as events. If the
child dies, the parent gets a ``Failed`` message with the exit code and never waits on it.

Starting an interpreter and loading torch takes seconds, most of the wait between pressing Train
and the first step. A ``WarmProcess`` does that ahead of time and then waits for one run; the
window keeps one ready. Each process still trains once and exits, so every run starts clean.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import time

import torch

from graphs import dumps_graph, loads_graph
from graphs.graph import Graph

from ..checking import check
from ..compiling import compile_graph
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


def _child(jobs, ready, messages, stop, pause, probe_queue) -> None:
    # The parent decides when to stop (Ctrl-C in a terminal reaches the whole process group).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Leave a core to the editor: a window that stutters while it trains is no use.
    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
    _warm_up()
    ready.set()
    job = jobs.get()
    if job is None:                 # let go unused (the window closed)
        return
    graph_text, config, resume, allow_download, graph_folder = job
    try:
        graph = loads_graph(graph_text, "<graph>")
        control = _EventControl(stop, pause, probe_queue)
        for message in train(graph, TrainingConfig.from_dict(config), control, resume=resume,
                             allow_download=allow_download, graph_folder=graph_folder):
            messages.put(message)
    except BaseException as err:   # report, then let the process end normally
        messages.put(Failed(f"the training process failed: {type(err).__name__}: {err}"))
    finally:
        messages.put(_END)


def _warm_up() -> None:
    """What every run does before its first step, done once while nobody waits: checking a graph
    on meta tensors (which loads torch's compiler stack), compiling it, a step of an optimizer
    (the first convolution and backward pass set up torch's kernels), and loading the library
    the bundled data sets come from."""
    import sklearn.datasets  # noqa: F401

    tiny = Graph(name="warm up")
    chain = [tiny.add_node("Input", shape=[1, 8, 8]), tiny.add_node("Conv2d", out_channels=2, kernel_size=3),
             tiny.add_node("ReLU"), tiny.add_node("Flatten"), tiny.add_node("Linear", out_features=2),
             tiny.add_node("Output")]
    for src, dst in zip(chain, chain[1:]):
        tiny.connect(src, dst)
    model = compile_graph(tiny, check(tiny))
    optimizer = torch.optim.Adam(model.parameters())
    torch.nn.functional.cross_entropy(model(torch.zeros(2, 1, 8, 8)), torch.zeros(2, dtype=torch.long)).backward()
    optimizer.step()


class WarmProcess:
    """A training process started ahead of time, waiting for the one run it will do. Hand it to
    ``TrainingWorker(..., process=...)``; ``close()`` lets an unused one go."""

    def __init__(self) -> None:
        context = mp.get_context("spawn")
        self.jobs = context.Queue()
        self._ready = context.Event()
        self.messages = context.Queue()
        self.stop, self.pause = context.Event(), context.Event()
        self.probe_queue = context.Queue()
        self.process = context.Process(target=_child, name="netloom-training", daemon=True,
                                       args=(self.jobs, self._ready, self.messages, self.stop, self.pause,
                                             self.probe_queue))
        self.process.start()
        self.taken = False

    @property
    def ready(self) -> bool:
        """Loaded and waiting: a run handed to it now starts at once."""
        return self._ready.is_set()

    @property
    def usable(self) -> bool:
        return not self.taken and self.process.is_alive()

    def close(self) -> None:
        """An unused process ends at once (it holds no work); a taken one is its worker's."""
        if not self.taken and self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)


class TrainingWorker:
    """Runs one training in a child process; ``poll()`` returns the messages that arrived.
    ``process``: a ``WarmProcess`` started earlier (its interpreter and torch already loaded);
    without one, a process is started now."""

    def __init__(self, graph: Graph, config: TrainingConfig | None = None, resume: str | None = None,
                 allow_download: bool = False, graph_folder: str | None = None,
                 process: WarmProcess | None = None) -> None:
        """``graph_folder``: the folder of the graph's file, which its start weights are named
        relative to (None for a graph never saved: its start weights are named by full path)."""
        config = config or TrainingConfig.from_file(graph.training)
        self._job = (dumps_graph(graph), config.to_dict(), resume, allow_download, graph_folder)
        self._given = process if process is not None and process.usable else None
        self.done = False

    def start(self) -> TrainingWorker:
        warm = self._given or WarmProcess()
        warm.taken = True
        self._warm = warm            # its queues must live as long as the child reads them
        self._process, self._messages = warm.process, warm.messages
        self._stop, self._pause, self._probe_queue = warm.stop, warm.pause, warm.probe_queue
        warm.jobs.put(self._job)
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

    def exited(self) -> bool:
        """Whether the child has exited, its status collected (never waits): a run has ended
        before its process has, since torch takes a moment to tear down."""
        return not self._process.is_alive()

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

