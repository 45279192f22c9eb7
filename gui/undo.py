"""Every edit of the document as one step on a QUndoStack."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from graphs import Graph
from graphs.edits import Edit, Move

_MOVE_ID = 1001


class EditCommand(QUndoCommand):
    """A thin wrapper: redo applies the document's reversible edit, undo reverts it."""

    def __init__(self, graph: Graph, edit: Edit, text: str | None = None, applied: bool = False,
                 reveal: Callable[[], None] | None = None) -> None:
        super().__init__(text or edit.label)
        self.graph, self.edit = graph, edit
        self._reveal = reveal or (lambda: None)     # show the level the edit changes (a block's body)
        # The document applies an edit before pushing it, so that a refused edit never reaches
        # the stack; the stack's first redo then has nothing left to do.
        self._skip_redo = applied

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        self._reveal()
        self.graph.apply(self.edit)

    def undo(self) -> None:
        self._reveal()
        self.graph.revert(self.edit)

    def id(self) -> int:
        return _MOVE_ID if isinstance(self.edit, Move) else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        """Successive moves of the same nodes (one drag, or nudges) are one undo step."""
        if isinstance(other, EditCommand) and other.graph is self.graph and isinstance(self.edit, Move) \
                and isinstance(other.edit, Move):
            return self.edit.merge(other.edit)
        return False
