"""Pause, resume and stop a running training, and choose what the probes look at.

``train`` polls a ``Control`` between steps; each request takes effect within one step. The
worker process uses a subclass whose state lives in multiprocessing events.
"""

from __future__ import annotations

import threading


class Control:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._pause = threading.Event()
        self.probe_sample: int | None = None       # None: the config's probe_sample
        self.probe_layers: tuple[str, ...] | None = None   # None: every layer that has maps
        self.feature_layer: str | None = None      # None: the features the classifier decides from

    def stop(self) -> None:
        self._stop.set()

    def pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        self._pause.clear()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return self._pause.is_set()
