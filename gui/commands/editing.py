"""Editing the shown graph: undo and redo, the clipboard, delete, select all, Auto Layout, and
adding a layer (at a point, after the selection, on a wire). Each is a function of a
``Context``; ``COMMANDS`` declares how the window offers them."""

from __future__ import annotations

import json
from collections.abc import Callable

from graphs import GraphError, categories
from graphs.editing import add_after_edit, add_at_edit, delete_edit
from graphs.edits import AddNode, Disconnect, Edit
from graphs.fragments import extract, paste_edit
from graphs.layout import layout_edit

from .base import CANVAS_MENU, NODE_MENU, TOOLBAR, WIRE_MENU, Choice, Command, Context, Place, counted
from .blocks import adding

# ---------------------------------------------------------------------- adding layers


def add_at(ctx: Context, type_name: str, x: float, y: float) -> str | None:
    """A new layer at a point of the canvas (a drop, Add Layer Here), selected; its id."""
    return _add(ctx, type_name, lambda: add_at_edit(ctx.document.shown, type_name, x, y))


def add_here(ctx: Context, type_name: str) -> str | None:
    """Add Layer Here: where the canvas was right-clicked."""
    x, y = ctx.point or ctx.window.canvas_centre()
    return add_at(ctx, type_name, x, y)


def add_after_selection(ctx: Context, type_name: str) -> str | None:
    """A layer after the one selected node (into its chain), or at the centre of the canvas."""
    source = ctx.selection.node
    if source is None:
        return add_at(ctx, type_name, *ctx.window.canvas_centre())
    return _add(ctx, type_name, lambda: add_after_edit(ctx.document.shown, source, type_name))


def insert_on_wire(ctx: Context, type_name: str) -> bool:
    """A layer on the wire a menu was opened on, between its ends."""
    wire, shown = ctx.wire, ctx.document.shown
    if wire is None:
        return False
    return ctx.document.try_edit(lambda: adding(shown, type_name, lambda: shown.insert_between_edit(wire, type_name)))


def _add(ctx: Context, type_name: str, make_edit: Callable[[], Edit]) -> str | None:
    try:
        edit = adding(ctx.document.shown, type_name, make_edit)
    except GraphError as err:
        ctx.window.say(str(err))
        return None
    added = edit.node.id if isinstance(edit, AddNode) else next(added_nodes(edit))
    if not ctx.document.push(edit):
        return None
    ctx.selection.set([added])
    ctx.window.show_node(added, centre=False)      # dropped nodes stay where they were dropped
    return added


def added_nodes(edit: Edit):
    """The nodes an edit adds, looking into compound edits (a built-in block and its use)."""
    for inner in getattr(edit, "edits", ()):
        if isinstance(inner, AddNode):
            yield inner.node.id
        else:
            yield from added_nodes(inner)


def reveal(ctx: Context, node_id: str) -> None:
    """Select a node and centre the canvas on it (a problem clicked, a layer found)."""
    if node_id in ctx.document.shown.nodes:
        ctx.selection.set([node_id])
        ctx.window.show_node(node_id, centre=True)


def layer_choices(ctx: Context) -> list[Choice]:
    """Every layer type, by category, as the palette lists them."""
    return [Choice(spec.type, spec.type, category) for category, specs in categories().items() for spec in specs]


# ---------------------------------------------------------------------- the selection


def delete(ctx: Context) -> bool:
    edit = delete_edit(ctx.document.shown, list(ctx.selection.nodes), list(ctx.selection.wires))
    return edit is not None and ctx.document.push(edit)


def disconnect(ctx: Context) -> bool:
    """Remove the wire a menu was opened on."""
    return ctx.wire is not None and ctx.document.push(Disconnect(ctx.wire))


def copy(ctx: Context) -> bool:
    nodes = ctx.selection.nodes
    if not nodes:
        return False
    # Plain text (JSON with a format name): it pastes into other NetLoom windows and can be read
    # in a text editor, and paste refuses anything that is not a fragment.
    ctx.window.set_clipboard_text(json.dumps(extract(ctx.document.shown, list(nodes))))
    return True


def cut(ctx: Context) -> bool:
    return copy(ctx) and delete(ctx)


def paste(ctx: Context) -> bool:
    """Add what the clipboard holds, selected, ready to be moved."""
    try:
        fragment = json.loads(ctx.window.clipboard_text())
    except ValueError:
        ctx.window.say("the clipboard holds no NetLoom layers")
        return False
    try:
        pasted = paste_edit(ctx.document.shown, fragment)
    except GraphError as err:
        ctx.window.say(str(err))
        return False
    if not ctx.document.push(pasted):
        return False
    ctx.selection.set(e.node.id for e in pasted.edits if isinstance(e, AddNode))
    return True


def duplicate(ctx: Context) -> bool:
    return copy(ctx) and paste(ctx)


def select_all(ctx: Context) -> None:
    ctx.selection.set(ctx.document.shown.nodes)


def auto_layout(ctx: Context) -> bool:
    if not ctx.document.push(layout_edit(ctx.document.shown, ctx.window.canvas_size()), "Auto layout"):
        return False
    ctx.window.fit_view()
    return True


def rename(ctx: Context) -> None:
    """Rename (a node's menu): the inspector's name field, ready to type over."""
    ctx.window.focus_rename()


# ---------------------------------------------------------------------- undo and redo


def _undo_words(ctx: Context, name: str) -> str:
    stack = ctx.document.undo_stack
    what = stack.undoText() if name == "Undo" else stack.redoText()
    return f"{name} {what}" if what else name


def _has_nodes(ctx: Context) -> bool:
    return bool(ctx.selection.nodes)


EDIT = "&Edit"
COMMANDS = [
    Command("edit.undo", "&Undo", lambda ctx: ctx.document.undo_stack.undo(), (Place(EDIT, 0), Place(TOOLBAR)),
            standard_keys="Undo", enabled=lambda ctx: ctx.document.undo_stack.canUndo(), icon="mdi6.undo",
            label=lambda ctx: "&" + _undo_words(ctx, "Undo"), tip=lambda ctx: _undo_words(ctx, "Undo")),
    Command("edit.redo", "&Redo", lambda ctx: ctx.document.undo_stack.redo(), (Place(EDIT, 0), Place(TOOLBAR)),
            standard_keys="Redo", enabled=lambda ctx: ctx.document.undo_stack.canRedo(), icon="mdi6.redo",
            label=lambda ctx: "&" + _undo_words(ctx, "Redo"), tip=lambda ctx: _undo_words(ctx, "Redo")),
    Command("edit.add_here", "Add Layer Here", add_here, (Place(CANVAS_MENU + "/Add Layer Here", 0),),
            choices=layer_choices),
    Command("edit.add_after", "Add Layer After", add_after_selection, (Place(NODE_MENU + "/Add Layer After", 1),),
            choices=layer_choices),
    Command("edit.insert", "Insert Layer", insert_on_wire, (Place(WIRE_MENU + "/Insert Layer", 0),),
            choices=layer_choices),
    Command("edit.disconnect", "Disconnect", disconnect, (Place(WIRE_MENU, 0),)),
    Command("edit.rename", "Rename", rename, (Place(NODE_MENU, 1),)),
    Command("edit.cut", "Cu&t", cut, (Place(EDIT, 1),), standard_keys="Cut", enabled=_has_nodes),
    Command("edit.copy", "&Copy", copy, (Place(EDIT, 1), Place(NODE_MENU, 2)), standard_keys="Copy", enabled=_has_nodes),
    Command("edit.paste", "&Paste", paste, (Place(EDIT, 1), Place(CANVAS_MENU, 0)), standard_keys="Paste"),
    Command("edit.duplicate", "&Duplicate", duplicate, (Place(EDIT, 1), Place(NODE_MENU, 2)), keys="Ctrl+D",
            enabled=_has_nodes),
    Command("edit.delete", "De&lete", delete, (Place(EDIT, 1), Place(NODE_MENU, 2)), standard_keys="Delete",
            enabled=lambda ctx: bool(ctx.selection), context_text=counted("Delete")),
    Command("edit.select_all", "Select &All", select_all, (Place(EDIT, 1), Place(CANVAS_MENU, 1)),
            standard_keys="SelectAll", enabled=lambda ctx: bool(ctx.document.shown.nodes)),
    Command("edit.auto_layout", "Auto &Layout", auto_layout, (Place(EDIT, 3), Place(TOOLBAR), Place(CANVAS_MENU, 1)),
            keys="Ctrl+L", enabled=lambda ctx: bool(ctx.document.shown.nodes), icon="mdi6.sitemap-outline"),
]
