"""What changed in a graph document, as typed events announced once per edit.

Every primitive change of the document is one small frozen event (``NodeAdded``, ``EdgeRemoved``
...). ``Graph.apply`` and ``Graph.revert`` gather the events of one edit, however many primitive
changes it makes (a paste, a one-click fix, an undo), and announce them together as one
``Changes`` batch, so that a view redraws once per edit and only what the batch names. Views
subscribe to the kinds they draw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .graph import Edge


@dataclass(frozen=True)
class NodeAdded:
    node: str


@dataclass(frozen=True)
class NodeRemoved:
    node: str


@dataclass(frozen=True)
class NodeRenamed:
    old: str
    new: str


@dataclass(frozen=True)
class NodeMoved:
    node: str


@dataclass(frozen=True)
class WireRouted:
    """A wire's bend points changed (an Auto Layout, or a node moved away from its route)."""
    edge: Any


@dataclass(frozen=True)
class ParamsChanged:
    node: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class LearningChanged:
    """A node's learning-rate factor or its fresh start changed (how it trains, not what it computes)."""
    node: str


@dataclass(frozen=True)
class EdgeAdded:
    edge: Edge


@dataclass(frozen=True)
class EdgeRemoved:
    edge: Edge


@dataclass(frozen=True)
class BlockChanged:
    """A block was defined, replaced or removed (edits inside a body are the body's own events)."""
    name: str


@dataclass(frozen=True)
class MetadataChanged:
    key: str


@dataclass(frozen=True)
class TrainingChanged:
    pass


@dataclass(frozen=True)
class ViewChanged:
    pass


GraphEvent = (NodeAdded | NodeRemoved | NodeRenamed | NodeMoved | WireRouted | ParamsChanged | LearningChanged | EdgeAdded
              | EdgeRemoved | BlockChanged | MetadataChanged | TrainingChanged | ViewChanged)
# The kinds that change what the network computes; moving a node, renaming the graph,
# freezing a layer or changing its training settings leave the model as it was.
MODEL_EVENTS = (NodeAdded, NodeRemoved, NodeRenamed, ParamsChanged, EdgeAdded, EdgeRemoved, BlockChanged)
STRUCTURE_EVENTS = (NodeAdded, NodeRemoved, NodeRenamed, EdgeAdded, EdgeRemoved)


@dataclass(frozen=True)
class Changes:
    """All that one edit changed, in the order it happened."""
    events: tuple[Any, ...]

    def of(self, *kinds: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kinds)]

    def has(self, *kinds: type) -> bool:
        return any(isinstance(e, kinds) for e in self.events)

    @property
    def changes_model(self) -> bool:
        return self.has(*MODEL_EVENTS)


Listener = Callable[[Changes], None]


class EventSource:
    """Listeners are called in subscription order, each with the batches that hold a kind it
    asked for (all batches when it named none)."""

    def __init__(self) -> None:
        self._listeners: list[tuple[Listener, tuple[type, ...]]] = []
        self._pending: list[Any] | None = None
        self._depth = 0

    def subscribe(self, listener: Listener, kinds: tuple[type, ...] = ()) -> Callable[[], None]:
        entry = (listener, tuple(kinds))
        self._listeners.append(entry)

        def unsubscribe() -> None:
            if entry in self._listeners:
                self._listeners.remove(entry)
        return unsubscribe

    @property
    def has_listeners(self) -> bool:
        return bool(self._listeners)

    def batch(self) -> _Batch:
        """``with events.batch():`` gathers what happens inside into one announcement."""
        return _Batch(self)

    def record(self, event: Any) -> None:
        if self._pending is not None:
            self._pending.append(event)
        else:
            self.announce(Changes((event,)))

    def announce(self, changes: Changes) -> None:
        """Deliver a batch to the listeners that asked for one of its kinds."""
        for listener, kinds in list(self._listeners):
            if not kinds or changes.has(*kinds):
                listener(changes)


class _Batch:
    def __init__(self, source: EventSource) -> None:
        self.source = source

    def __enter__(self) -> None:
        s = self.source
        s._depth += 1
        if s._pending is None:
            s._pending = []

    def __exit__(self, *exc: Any) -> None:
        s = self.source
        s._depth -= 1
        if s._depth == 0:
            pending, s._pending = s._pending or [], None
            if pending:
                s.announce(Changes(tuple(pending)))
