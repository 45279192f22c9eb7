"""Blocks: Group into Block (Ctrl+G), Ungroup (Ctrl+Shift+G), opening and closing a block's
body (Alt+Down, Alt+Up), Make Unique; and the built-in blocks (ResNet, VGG, Inception,
Transformer), whose definition comes along in the same undo step when one is added."""

from __future__ import annotations

import functools
from collections.abc import Callable

import resources
from graphs import Graph, GraphError, GraphFileError, load_graph
from graphs.block_edits import group_edit, inline_edit
from graphs.block_library import with_blocks
from graphs.blocks import Library
from graphs.edits import AddNode, Edit

from .base import CANVAS_MENU, NODE_MENU, Command, Context, Place, counted


@functools.cache
def builtin_blocks() -> tuple[Library, str]:
    """The built-in blocks, read once, and what went wrong when they cannot be read (a damaged
    installation: the palette goes without them)."""
    try:
        return load_graph(resources.builtin_blocks_file()).blocks, ""
    except GraphFileError as err:
        return {}, f"Built-in blocks not available: {err}"


def adding(shown: Graph, type_name: str, make_edit: Callable[[], Edit]) -> Edit:
    """The edit that adds a node of ``type_name``, with the built-in definition it needs."""
    return with_blocks(shown, builtin_blocks()[0], type_name, make_edit)


def block_uses(ctx: Context) -> list[str]:
    """The selected nodes that use a block."""
    shown, blocks = ctx.document.shown, ctx.document.graph.blocks
    return [n for n in ctx.selection.nodes if n in shown.nodes and shown.nodes[n].type in blocks]


def _clicked_block(ctx: Context) -> str | None:
    node = ctx.document.shown.nodes.get(ctx.node or "")
    return ctx.node if node is not None and node.type in ctx.document.graph.blocks else None


def group(ctx: Context) -> bool:
    """Group the selected layers into a new block, used by one node where they were."""
    document, chosen = ctx.document, list(ctx.selection.nodes)
    if not chosen:
        ctx.window.say("select the layers to group into a block first")
        return False
    taken = set(document.graph.blocks)
    suggestion = next(f"Block{i}" for i in range(1, len(taken) + 2) if f"Block{i}" not in taken)
    name = ctx.window.ask_text("Group into Block", "Name of the new block:", suggestion)
    if not name:
        return False
    shapes = {key: (list(info.shape), info.dtype) for key, info in document.shown_report.tensors.items()}
    try:
        edit = group_edit(document.shown, chosen, name, shapes)
    except GraphError as err:
        ctx.window.say(str(err))
        return False
    if not document.push(edit):
        return False
    use = next(e.node.id for e in edit.edits if isinstance(e, AddNode))
    ctx.selection.set([use])
    ctx.window.show_node(use, centre=False)
    return True


def ungroup(ctx: Context) -> bool:
    """Write each selected block use out as the layers of its block, one undo step each."""
    uses = block_uses(ctx)
    if not uses:
        ctx.window.say("select a block to ungroup")
        return False
    for use in uses:
        try:
            if not ctx.document.push(inline_edit(ctx.document.shown, use)):
                return False
        except GraphError as err:
            ctx.window.say(str(err))
            return False
    return True


def open_block(ctx: Context, use: str | None = None) -> bool:
    """Show the body of a block use: the one given, the node a menu was opened on, or the one
    selected block; the canvas comes back to this view when the block is closed."""
    uses = block_uses(ctx)
    use = use or _clicked_block(ctx) or (uses[0] if len(uses) == 1 else None)
    node = ctx.document.shown.nodes.get(use or "")
    if use is None or node is None or node.type not in ctx.document.graph.blocks:
        ctx.window.say("select one block to open")
        return False
    ctx.window.keep_view()
    return ctx.document.open_block(use)


def close_block(ctx: Context) -> bool:
    """Back up one level, with the block just left selected."""
    return ctx.document.close_to(len(ctx.document.levels) - 1)


def make_unique(ctx: Context) -> bool:
    """Give a use (the node a menu was opened on, or each selected one) a copy of its block."""
    uses = [ctx.node] if ctx.node else block_uses(ctx)
    if not uses:
        ctx.window.say("select a block to make unique")
        return False
    return all([ctx.document.make_unique(use) for use in uses])


def _opens(ctx: Context) -> bool:
    return _clicked_block(ctx) is not None if ctx.node else len(block_uses(ctx)) == 1


def _unique_enabled(ctx: Context) -> bool:
    """On a node's menu only for a block used more than once (a copy would change nothing)."""
    if ctx.node:
        clicked = _clicked_block(ctx)
        return clicked is not None and ctx.document.uses_of(ctx.document.shown.nodes[clicked].type) > 1
    return bool(block_uses(ctx))


def _groups(ctx: Context) -> bool:
    """On a node's menu, a lone model Input or Output is not offered (grouping one is refused)."""
    nodes = ctx.selection.nodes
    if ctx.node and len(nodes) <= 1:
        node = ctx.document.shown.nodes.get(ctx.node)
        return node is not None and node.type not in ("Input", "Output")
    return bool(nodes)


EDIT = "&Edit"
COMMANDS = [
    Command("block.open", "&Open Block", lambda ctx: open_block(ctx), (Place(EDIT, 2, 2), Place(NODE_MENU, 0)),
            keys="Alt+Down", enabled=_opens,
            context_text=lambda ctx: f"Open {ctx.document.shown.nodes[ctx.node].type}" if ctx.node else "Open Block"),
    Command("block.make_unique", "Make Block &Unique", make_unique, (Place(EDIT, 2, 4), Place(NODE_MENU, 0)),
            enabled=_unique_enabled),
    Command("block.ungroup", "U&ngroup Block", ungroup, (Place(EDIT, 2, 1), Place(NODE_MENU, 0)), keys="Ctrl+Shift+G",
            enabled=lambda ctx: _clicked_block(ctx) is not None if ctx.node else bool(block_uses(ctx))),
    Command("block.group", "&Group into Block", group, (Place(EDIT, 2), Place(NODE_MENU, 1)), keys="Ctrl+G",
            enabled=_groups, context_text=counted("Group into Block")),
    Command("block.close", "&Close Block", close_block, (Place(EDIT, 2, 3), Place(CANVAS_MENU, 1)), keys="Alt+Up",
            enabled=lambda ctx: bool(ctx.document.levels)),
]
