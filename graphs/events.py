"""Change notifications of a graph document, so views can mirror it without a second copy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

# Event kinds
NODE_ADDED = "node_added"
NODE_REMOVED = "node_removed"
NODE_RENAMED = "node_renamed"
NODE_MOVED = "node_moved"
PARAMS_CHANGED = "params_changed"
EDGE_ADDED = "edge_added"
EDGE_REMOVED = "edge_removed"
METADATA_CHANGED = "metadata_changed"
TRAINING_CHANGED = "training_changed"


@dataclass(frozen=True)
class GraphEvent:
    kind: str
    node: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[GraphEvent], None]


class EventSource:
    """A minimal observer: listeners are called in subscription order."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)
        return unsubscribe

    def emit(self, event: GraphEvent) -> None:
        for listener in list(self._listeners):
            listener(event)
