"""How the model's nodes learn, for fine-tuning: Freeze Up to Here, Freeze and Unfreeze the
selection, a learning-rate factor, Start Fresh (leave a node out of the start weights), Adapt to
Data Set (the head gets the data set's classes and fresh weights) and Unfreeze All. Each is one
undo step, built by the edit builders of ``graphs.editing``.

Only the model's nodes and block uses learn at a rate of their own (a block's layers learn as
its use does), so these are offered while the canvas shows the model, not an opened block."""

from __future__ import annotations

from graphs import GraphError
from graphs.editing import (
    adapt_head_edit,
    freeze_up_to_edit,
    head_layer,
    learning_rate_edit,
    unfreeze_all_edit,
)
from graphs.edits import Edit, SetLearning
from graphs.values import lr_factor_problem

from .base import NODE_MENU, Command, Context, Place, counted

ENDS = ("Input", "Output")      # they pass data on: nothing in them learns


def _model_shown(ctx: Context) -> bool:
    return not ctx.document.levels


def chosen(ctx: Context) -> list[str]:
    """The model's nodes a command acts on: the selection (the node a menu was opened on is in
    it), without Inputs and Outputs."""
    if not _model_shown(ctx):
        return []
    nodes = ctx.document.graph.nodes
    return [n for n in ctx.selection.nodes if n in nodes and nodes[n].type not in ENDS]


def _one(ctx: Context) -> str | None:
    """The node of Freeze Up to Here: the one clicked, or the one selected."""
    node = ctx.node or ctx.selection.node
    return node if _model_shown(ctx) and node in ctx.document.graph.nodes else None


def _push(ctx: Context, make_edit) -> bool:
    """Build the edit (a GraphError is said, not raised) and apply it to the model as one undo step."""
    try:
        edit: Edit | None = make_edit()
    except GraphError as err:
        ctx.window.say(str(err))
        return False
    if edit is None:
        return False
    return ctx.document.push(edit, edit.label, at=())


# ---------------------------------------------------------------------- the commands
def freeze_up_to(ctx: Context) -> bool:
    """Freeze the node and everything that feeds it: what comes after it keeps learning."""
    node = _one(ctx)
    return node is not None and _push(ctx, lambda: freeze_up_to_edit(ctx.document.graph, node))


def freeze(ctx: Context) -> bool:
    nodes = [n for n in chosen(ctx) if not ctx.document.graph.nodes[n].frozen]
    return bool(nodes) and _push(ctx, lambda: learning_rate_edit(ctx.document.graph, nodes, 0.0))


def unfreeze(ctx: Context) -> bool:
    """The selected frozen nodes learn at the run's rate again."""
    nodes = [n for n in chosen(ctx) if ctx.document.graph.nodes[n].frozen]
    return bool(nodes) and _push(ctx, lambda: learning_rate_edit(ctx.document.graph, nodes, 1.0))


def set_learning_rate(ctx: Context) -> bool:
    """Ask for the factor the selected nodes' learning rate is the run's times."""
    nodes = chosen(ctx)
    if not nodes:
        ctx.window.say("select the layers whose learning rate to set")
        return False
    current = ctx.document.graph.nodes[nodes[0]].lr_factor
    names = nodes[0] if len(nodes) == 1 else f"the {len(nodes)} selected nodes"
    text = ctx.window.ask_text("Learning-Rate Factor", f"Learning rate of {names}, as a share of the run's "
                               "(0 freezes, 1 learns at the run's rate):", f"{current:g}")
    if text is None:
        return False
    try:
        factor = float(text.replace(",", "."))
    except ValueError:
        ctx.window.say(f"a learning-rate factor must be a number, not {text!r}")
        return False
    problem = lr_factor_problem(factor)
    if problem:
        ctx.window.say(problem)
        return False
    return _push(ctx, lambda: learning_rate_edit(ctx.document.graph, nodes, factor))


def start_fresh(ctx: Context) -> bool:
    """Leave the selected nodes out of the start weights (they keep new random weights), or,
    when all of them are so already, take them back in."""
    nodes = chosen(ctx)
    if not nodes:
        return False
    return _push(ctx, lambda: SetLearning(tuple(nodes), fresh=not _all_fresh(ctx)))


def adapt_to_data_set(ctx: Context) -> bool:
    """The head (the layer making the first Output's values) gets as many outputs as the data set
    has classes, and fresh weights; it learns if it was frozen."""
    document = ctx.document
    head = head_layer(document.graph)
    if head is None:
        ctx.window.say("no layer makes the Output's values directly (a Linear or a convolution before it), "
                       "so there is no head to adapt")
        return False
    data = document.data
    if data is None or not data.num_classes:
        name = document.graph.training.get("dataset", "the data set")
        why = (f"the data set cannot be read: {document.data_problem}" if document.data_problem
               else f"{name} is still being read" if data is None else f"{name} has no classes")
        ctx.window.say(f"Adapt to Data Set needs the classes of the data set: {why}")
        return False
    return _push(ctx, lambda: adapt_head_edit(document.graph, head[0], data.num_classes, head[1]))


def unfreeze_all(ctx: Context) -> bool:
    return _push(ctx, lambda: unfreeze_all_edit(ctx.document.graph))


# ---------------------------------------------------------------------- when they apply
def _all_fresh(ctx: Context) -> bool:
    nodes = chosen(ctx)
    return bool(nodes) and all(ctx.document.graph.nodes[n].fresh for n in nodes)


def _freezes_up_to(ctx: Context) -> bool:
    node = _one(ctx)
    return node is not None and ctx.document.graph.nodes[node].type != "Input"


def _adapts(ctx: Context) -> bool:
    """On a node's menu only for the head; in the menu bar whenever the model has one."""
    head = head_layer(ctx.document.graph) if _model_shown(ctx) else None
    return head is not None and (ctx.node is None or ctx.node == head[0])


def _any_frozen(ctx: Context) -> bool:
    return _model_shown(ctx) and any(n.frozen for n in ctx.document.graph.nodes.values())


TRAIN = "&Train"
COMMANDS = [
    Command("learn.freeze_up_to", "Freeze &Up to Here", freeze_up_to, (Place(TRAIN, 2), Place(NODE_MENU, 3)),
            enabled=_freezes_up_to,
            tip=lambda ctx: "Freeze the selected node and every node that feeds it: what comes after keeps learning"),
    Command("learn.freeze", "&Freeze", freeze, (Place(TRAIN, 2), Place(NODE_MENU, 3)), keys="Ctrl+K",
            enabled=lambda ctx: any(not ctx.document.graph.nodes[n].frozen for n in chosen(ctx)),
            context_text=counted("Freeze")),
    Command("learn.unfreeze", "U&nfreeze", unfreeze, (Place(TRAIN, 2), Place(NODE_MENU, 3)), keys="Ctrl+Shift+K",
            enabled=lambda ctx: any(ctx.document.graph.nodes[n].frozen for n in chosen(ctx)),
            context_text=counted("Unfreeze")),
    Command("learn.rate", "Learning-Rate &Factor...", set_learning_rate, (Place(TRAIN, 2), Place(NODE_MENU, 3)),
            enabled=lambda ctx: bool(chosen(ctx))),
    Command("learn.fresh", "Start Fr&esh", start_fresh, (Place(TRAIN, 2), Place(NODE_MENU, 3)),
            enabled=lambda ctx: bool(chosen(ctx)), checked=_all_fresh,
            context_text=lambda ctx: "Load Its Start Weights" if _all_fresh(ctx) else "Start Fresh",
            tip=lambda ctx: "Leave the selected nodes out of the start weights: they start from new random weights"),
    Command("learn.adapt", "&Adapt to Data Set", adapt_to_data_set, (Place(TRAIN, 2), Place(NODE_MENU, 3)),
            enabled=_adapts,
            tip=lambda ctx: "Give the last layer as many outputs as the data set has classes, with fresh weights"),
    Command("learn.unfreeze_all", "Unfreeze A&ll", unfreeze_all, (Place(TRAIN, 2),), enabled=_any_frozen),
]
