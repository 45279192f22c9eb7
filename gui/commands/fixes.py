"""The fixes the checks offer, one click each: in the Problems list, and on the menu of the node
a problem is about ("Start fc3 from fresh weights", "Insert Flatten before fc1")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphs import ChooseDataPath, Diagnostic

from .base import NODE_MENU, Choice, Command, Context, Place, WindowPort

if TYPE_CHECKING:
    from ..document import Document


def apply_fix(document: Document, diagnostic: Diagnostic, window: WindowPort) -> bool:
    """Apply a diagnostic's fix to the graph it is about (the one shown) as one undo step; a fix
    that needs the training data's folder or file asks ``window`` for it first."""
    fix = diagnostic.fix
    if isinstance(fix, ChooseDataPath):
        what = "folder" if fix.folder else "file"
        chosen = (window.choose_folder(f"Choose the {what} of the training data") if fix.folder
                  else window.choose_open_path(f"Choose the {what} of the training data", "All files (*)"))
        return bool(chosen) and document.try_edit(lambda: fix.edit_with(document.graph, chosen), fix.label)
    return fix is not None and document.try_edit(lambda: fix.edit(document.shown), fix.label)


def node_fixes(ctx: Context) -> list[Choice]:
    """The fixes of the problems of the node a menu was opened on."""
    if ctx.node is None:
        return []
    return [Choice(d.fix.label, d) for d in ctx.document.shown_report.for_node(ctx.node) if d.fix is not None]


COMMANDS = [
    Command("problems.fix", "Fix", lambda ctx, diagnostic: apply_fix(ctx.document, diagnostic, ctx.window),
            (Place(NODE_MENU, -1),), choices=node_fixes),
]
