"""The selection is the document's plain data: it follows deletes, renames, undo, another graph
and another level, and each change is announced once on the document's channel."""

from graphs import Changes, Edge
from graphs.edits import Rename
from graphs.events import EdgeRemoved, NodeRemoved, NodeRenamed
from gui.commands import blocks, editing
from gui.document import Opened, Replaced
from gui.selection import Selection, SelectionChanged
from tests.helpers import chain, residual_graph


def test_a_selection_is_announced_once_per_change_and_in_the_order_chosen():
    told = []
    selection = Selection(lambda: told.append(1))
    assert selection.set(["b", "a"], [Edge("a", "b")])
    assert selection.nodes == ("b", "a") and selection.wires == (Edge("a", "b"),) and told == [1]
    assert not selection.set(["b", "a"], [Edge("a", "b")]) and told == [1]      # the same: nothing to say
    assert selection.node is None and "a" in selection and Edge("a", "b") in selection
    selection.set(["c"])
    assert selection.node == "c" and selection.wires == () and told == [1, 1]
    assert selection.replace(["d"]) and told == [1, 1]               # the document announces it with its batch
    assert selection.clear() and not selection and told == [1, 1, 1]


def test_a_selection_follows_what_a_batch_removes_and_renames():
    selection = Selection()
    selection.replace(["a", "b", "c"], [Edge("a", "b"), Edge("b", "c", "out", "in")])
    assert selection.follow(Changes((NodeRenamed("b", "mid"),)))
    assert selection.nodes == ("a", "mid", "c") and selection.wires == (Edge("a", "mid"), Edge("mid", "c"))
    assert selection.follow(Changes((NodeRemoved("a"),)))
    assert selection.nodes == ("mid", "c") and selection.wires == (Edge("mid", "c"),)     # its wire went with it
    assert selection.follow(Changes((EdgeRemoved(Edge("mid", "c")),))) and selection.wires == ()
    assert not selection.follow(Changes((EdgeRemoved(Edge("x", "y")),)))


def test_deleting_the_selection_empties_it_in_the_same_batch_and_undo_leaves_it_empty(on_graph):
    ctx = on_graph(chain("ReLU", "Tanh", input_shape=[4]))
    batches = []
    ctx.document.subscribe(batches.append, kinds=(SelectionChanged,))
    ctx.selection.set(["relu1"], [Edge("relu1", "tanh1")])
    assert batches[-1].events == (SelectionChanged(),)
    assert editing.delete(ctx)
    assert not ctx.selection and "relu1" not in ctx.document.graph.nodes
    last = batches[-1].events
    assert isinstance(last[0], (NodeRemoved, EdgeRemoved)) and last[-1] == SelectionChanged()   # one batch
    ctx.document.undo_stack.undo()
    assert "relu1" in ctx.document.graph.nodes and not ctx.selection


def test_a_renamed_node_stays_selected_under_its_new_name(on_graph):
    ctx = on_graph(chain("ReLU", input_shape=[4]))
    ctx.selection.set(["relu1"], [Edge("input1", "relu1")])
    ctx.document.push(Rename("relu1", "act"))
    assert ctx.selection.nodes == ("act",) and ctx.selection.wires == (Edge("input1", "act"),)
    ctx.document.undo_stack.undo()
    assert ctx.selection.nodes == ("relu1",) and ctx.selection.wires == (Edge("input1", "relu1"),)


def test_another_graph_starts_with_nothing_selected(on_graph):
    ctx = on_graph(chain("ReLU", input_shape=[4]))
    ctx.selection.set(["relu1"])
    batches = []
    ctx.document.subscribe(batches.append, kinds=(Replaced,))
    ctx.document.replace(chain("Tanh", input_shape=[4]), None)
    assert not ctx.selection and batches[-1].has(SelectionChanged)


def test_opening_a_block_starts_a_new_selection_and_closing_it_selects_the_use_left(on_graph):
    ctx = on_graph(residual_graph())
    use = next(n for n, node in ctx.document.graph.nodes.items() if node.type == "Residual")
    ctx.selection.set([use, "image"])
    assert blocks.open_block(ctx, use) and ctx.window.kept_views == 1
    assert ctx.document.levels == (("Residual", use),) and not ctx.selection
    ctx.selection.set(["conv1"])
    opened = []
    ctx.document.subscribe(opened.append, kinds=(Opened,))
    assert blocks.close_block(ctx)
    assert ctx.document.levels == () and ctx.selection.nodes == (use,)
    assert opened[-1].events == (Opened(), SelectionChanged())
    assert not blocks.close_block(ctx)                       # nothing is open


def test_undo_that_opens_another_level_starts_a_new_selection(on_graph):
    ctx = on_graph(residual_graph())
    use = next(n for n, node in ctx.document.graph.nodes.items() if node.type == "Residual")
    blocks.open_block(ctx, use)
    ctx.document.try_edit(lambda: ctx.document.shown.set_params_edit("conv1", kernel_size=5))
    blocks.close_block(ctx)
    assert ctx.selection.nodes == (use,)
    ctx.document.undo_stack.undo()                          # the edit was made inside the block: it opens
    assert ctx.document.levels and not ctx.selection
