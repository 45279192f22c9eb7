"""The window's commands as functions of a document and its selection, run without a window: a
stand-in port answers their questions and holds the clipboard. Their declarations are checked
as the menus will read them."""

import json

import pytest

import resources
from graphs import Edge, GraphFileError, load_graph, save_graph
from graphs.layout import COLUMN_PITCH
from gui.commands import CANVAS_MENU, NODE_MENU, TOOLBAR, blocks, editing, files
from tests.helpers import chain, residual_graph


def test_copy_paste_duplicate_cut_and_delete_act_on_the_selection(on_graph):
    ctx = on_graph(chain(("Linear", {"out_features": 8}), "ReLU", input_shape=[4]))
    graph = ctx.document.graph
    ctx.selection.set(["fc1", "relu1"])
    assert editing.copy(ctx)
    assert json.loads(ctx.window.clipboard)["format"] == "netloom.fragment"      # text any window can read
    assert editing.paste(ctx)
    assert "fc2" in graph.nodes and "relu2" in graph.nodes and Edge("fc2", "relu2") in graph.edges
    assert graph.nodes["fc2"].params["out_features"] == 8
    assert sorted(ctx.selection.nodes) == ["fc2", "relu2"]                 # what was pasted, ready to move
    assert graph.positions["fc2"] == (graph.positions["fc1"][0] + 40, graph.positions["fc1"][1] + 40)
    assert editing.delete(ctx)
    assert "fc2" not in graph.nodes and "relu2" not in graph.nodes and not ctx.selection
    ctx.selection.set(["relu1"])
    assert editing.duplicate(ctx) and "relu2" in graph.nodes and ctx.selection.nodes == ("relu2",)
    ctx.selection.set(["fc1"])
    assert editing.cut(ctx)
    assert "fc1" not in graph.nodes and Edge("fc1", "relu1") not in graph.edges
    ctx.document.undo_stack.undo()
    assert "fc1" in graph.nodes and Edge("fc1", "relu1") in graph.edges


def test_paste_refuses_what_is_not_netloom_layers_and_says_so(on_graph):
    ctx = on_graph(chain("ReLU", input_shape=[4]))
    before = ctx.document.undo_stack.count()
    for text, words in (("hello", "the clipboard holds no NetLoom layers"),
                        ('{"format": "other"}', "the clipboard holds no NetLoom layers")):
        ctx.window.clipboard = text
        assert not editing.paste(ctx)
        assert ctx.window.said[-1] == words
    assert ctx.document.undo_stack.count() == before
    assert not editing.copy(ctx)                           # nothing selected: the clipboard is left alone
    assert ctx.window.clipboard == '{"format": "other"}'


def test_a_selected_wire_is_deleted_alone_and_select_all_takes_every_node(on_graph):
    ctx = on_graph(chain("ReLU", "Tanh", input_shape=[4]))
    ctx.selection.set(wires=[Edge("relu1", "tanh1")])
    assert editing.delete(ctx)
    assert Edge("relu1", "tanh1") not in ctx.document.graph.edges and "relu1" in ctx.document.graph.nodes
    editing.select_all(ctx)
    assert ctx.selection.nodes == ("input1", "relu1", "tanh1", "output1")


def test_a_layer_is_added_after_the_selected_node_or_at_the_centre_of_the_canvas(on_graph):
    ctx = on_graph(chain("ReLU", input_shape=[4]))
    graph = ctx.document.graph
    ctx.selection.set(["relu1"])
    added = editing.add_after_selection(ctx, "Linear")
    assert added == "fc1" and ctx.selection.nodes == ("fc1",) and ctx.window.shown_nodes[-1] == ("fc1", False)
    assert Edge("relu1", "fc1") in graph.edges and Edge("fc1", "output1") in graph.edges   # into the chain
    assert graph.positions["fc1"][0] == graph.positions["relu1"][0] + COLUMN_PITCH
    ctx.selection.clear()
    ctx.window.centre = (1000.0, 500.0)
    assert editing.add_after_selection(ctx, "Tanh") == "tanh1"
    assert graph.positions["tanh1"] == (1000.0, 500.0) and not graph.in_edges("tanh1")
    assert editing.add_here(ctx.at(point=(213.0, 48.0)), "GELU") == "gelu1"
    assert graph.positions["gelu1"] == (220.0, 40.0)                   # where the canvas was clicked, on the grid
    assert editing.add_at(ctx, "NoSuchLayer", 0, 0) is None and "NoSuchLayer" in ctx.window.said[-1]


def test_a_built_in_block_comes_with_its_definition_in_one_undo_step(on_graph):
    ctx = on_graph(chain("ReLU", input_shape=[4]))
    steps = ctx.document.undo_stack.count()
    use = editing.add_at(ctx, "VGGStage", 0, 300)
    graph = ctx.document.graph
    assert use is not None and graph.nodes[use].type == "VGGStage" and {"VGGStage", "ConvReLU"} <= set(graph.blocks)
    assert ctx.document.undo_stack.count() == steps + 1
    ctx.document.undo_stack.undo()
    assert not graph.blocks and use not in graph.nodes


def test_a_layer_goes_onto_the_wire_a_menu_was_opened_on_and_disconnect_removes_it(on_graph):
    ctx = on_graph(chain("ReLU", "Tanh", input_shape=[4]))
    graph = ctx.document.graph
    wire = ctx.at(wire=Edge("relu1", "tanh1"))
    assert editing.insert_on_wire(wire, "Dropout")
    assert [e.src for e in graph.in_edges("tanh1")] == ["drop1"] and graph.in_edges("drop1")[0].src == "relu1"
    assert editing.disconnect(ctx.at(wire=Edge("drop1", "tanh1")))
    assert graph.in_edges("tanh1") == []


def test_auto_layout_lays_out_for_the_canvas_and_fits_it_in_one_undo_step(on_graph):
    graph = chain("ReLU", "Sigmoid", input_shape=[4])
    for n in graph.nodes:
        graph.positions[n] = (0.0, 0.0)
    ctx = on_graph(graph)
    assert editing.auto_layout(ctx) and ctx.window.fitted == 1
    xs = [ctx.document.graph.positions[n][0] for n in ("input1", "relu1", "sigmoid1", "output1")]
    assert xs == sorted(xs) and len(set(xs)) == 4
    ctx.document.undo_stack.undo()
    assert ctx.document.graph.positions["relu1"] == (0.0, 0.0)


def test_group_asks_for_a_name_and_ungroup_writes_the_block_out_again(on_graph):
    ctx = on_graph(load_graph(resources.example("lenet_digits.loom")))
    graph, total = ctx.document.graph, ctx.document.report.total_params
    ctx.selection.set(["conv1", "relu1", "pool1"])
    ctx.window.text_answer = ""                        # the person cancels the name
    assert not blocks.group(ctx) and not graph.blocks
    ctx.window.text_answer = "Stem"
    assert blocks.group(ctx)
    assert graph.blocks.keys() == {"Stem"} and ctx.selection.nodes == ("stem",)
    assert graph.nodes["stem"].type == "Stem" and not {"conv1", "relu1", "pool1"} & set(graph.nodes)
    assert ctx.document.check_now().total_params == total
    assert blocks.ungroup(ctx)
    assert {"stem_conv1", "stem_relu1", "stem_pool1"} <= set(graph.nodes)
    assert ctx.document.check_now().total_params == total


def test_grouping_a_model_input_is_refused_with_a_reason(on_graph):
    ctx = on_graph(load_graph(resources.example("lenet_digits.loom")))
    ctx.selection.set(["input1", "conv1"])
    assert not blocks.group(ctx)
    assert "input1 is an Input of the model" in ctx.window.said[-1] and not ctx.document.graph.blocks
    ctx.selection.clear()
    assert not blocks.group(ctx) and ctx.window.said[-1] == "select the layers to group into a block first"


def test_make_unique_gives_the_clicked_use_a_copy_and_open_needs_one_block(on_graph):
    ctx = on_graph(residual_graph())
    graph = ctx.document.graph
    ctx.document.try_edit(lambda: graph.add_node_edit("Residual", id="layer2", channels=4))
    assert ctx.document.uses_of("Residual") == 2
    assert blocks.make_unique(ctx.at(node="layer2"))
    assert graph.nodes["layer2"].type == "Residual2" and graph.nodes["layer1"].type == "Residual"
    ctx.selection.set(["layer1", "layer2"])
    assert not blocks.open_block(ctx) and ctx.window.said[-1] == "select one block to open"
    ctx.selection.set(["layer1"])
    assert blocks.open_block(ctx) and ctx.document.levels == (("Residual", "layer1"),)


def test_when_each_command_applies(on_graph):
    ctx = on_graph(residual_graph())
    commands = {c.id: c for c in [*editing.COMMANDS, *blocks.COMMANDS]}

    def enabled(command_id, context=ctx):
        return commands[command_id].enabled(context)
    assert not enabled("edit.delete") and not enabled("edit.copy") and enabled("edit.paste")
    assert not enabled("block.close") and not enabled("block.open") and not enabled("edit.undo")
    ctx.selection.set(["layer1"])
    assert enabled("edit.delete") and enabled("block.open") and enabled("block.ungroup") and enabled("block.group")
    on_use = ctx.at(node="layer1")
    assert commands["block.open"].context_text(on_use) == "Open Residual"
    assert not enabled("block.make_unique", on_use)             # used once: a copy would change nothing
    on_input = ctx.at(node="image")
    ctx.selection.set(["image"])
    assert not enabled("block.group", on_input) and not enabled("block.open", on_input)   # a lone model input
    ctx.selection.set(["image", "flatten"])
    assert enabled("block.group", on_input) and commands["block.group"].context_text(on_input) == "Group into Block (2)"
    assert commands["edit.delete"].context_text(on_input) == "Delete (2)"
    editing.delete(ctx)
    assert enabled("edit.undo") and commands["edit.undo"].label(ctx).startswith("&Undo ")


def test_the_declarations_are_whole_and_their_keys_distinct():
    from PySide6.QtGui import QKeySequence

    from gui.actions import MENU_BAR
    declared = [*files.COMMANDS, *editing.COMMANDS, *blocks.COMMANDS]
    assert len({c.id for c in declared}) == len(declared)
    for command in declared:
        assert command.places, command.id
        for place in command.places:
            assert place.where.split("/")[0] in (*MENU_BAR, TOOLBAR, NODE_MENU, CANVAS_MENU, "wire"), command.id
    keys = [QKeySequence(getattr(QKeySequence.StandardKey, c.standard_keys) if c.standard_keys else c.keys).toString()
            for c in declared if c.keys or c.standard_keys]
    assert len(keys) == len(set(keys)) and "Ctrl+G" in keys and "Alt+Down" in keys


def test_new_and_open_ask_before_unsaved_work_goes(on_graph, tmp_path):
    ctx = on_graph(chain("ReLU", input_shape=[4], name="mine"))
    ctx.document.try_edit(lambda: ctx.document.graph.add_node_edit("Tanh"))
    assert ctx.document.modified
    ctx.window.save_answer = "cancel"
    assert not files.new_document(ctx) and ctx.document.graph.name == "mine"
    ctx.window.save_answer = "save"
    ctx.window.save_path = str(tmp_path / "mine")               # the suffix is added
    assert files.new_document(ctx)
    assert (tmp_path / "mine.loom").exists() and ctx.document.graph.name == "untitled"
    assert files.recent_files(ctx) == [str((tmp_path / "mine.loom").resolve())]
    assert files.open_file(ctx, tmp_path / "mine.loom") and ctx.document.path == (tmp_path / "mine.loom").resolve()
    assert ctx.window.view["zoom"] > 0                          # the view saved with the file


def test_a_file_that_cannot_be_read_or_written_is_said_and_changes_nothing(on_graph, tmp_path):
    ctx = on_graph(chain("ReLU", input_shape=[4], name="kept"))
    bad = tmp_path / "bad.loom"
    bad.write_text('{"format": "netloom.graph", "format_version": 7}')
    assert not files.open_file(ctx, bad)
    assert ctx.document.graph.name == "kept" and "written by a newer NetLoom" in ctx.window.errors[-1][1]
    ctx.window.save_path = str(tmp_path / "no such folder" / "x.loom")
    assert not files.save(ctx) and ctx.window.errors[-1][0] == "The file cannot be saved"
    assert ctx.document.path is None
    ctx.window.open_path = ""                                   # the person closes the dialog
    assert not files.open_file(ctx)


def test_saving_an_opened_block_keeps_the_models_view(on_graph, tmp_path):
    ctx = on_graph(residual_graph())
    ctx.window.view = {"zoom": 0.5, "center": [10.0, 20.0]}
    blocks.open_block(ctx, "layer1")
    ctx.window.view = {"zoom": 2.0, "center": [0.0, 0.0]}      # the body's view: not the model's
    ctx.window.save_path = str(tmp_path / "r.loom")
    assert files.save_as(ctx)
    assert load_graph(tmp_path / "r.loom").view == {}
    blocks.close_block(ctx)
    ctx.window.view = {"zoom": 0.5, "center": [10.0, 20.0]}
    assert files.save(ctx) and load_graph(tmp_path / "r.loom").view == {"zoom": 0.5, "center": [10.0, 20.0]}


@pytest.mark.parametrize("name", ["lenet_digits.loom", "resnet18.loom"])
def test_examples_open_untitled(on_graph, name):
    ctx = on_graph(chain("ReLU", input_shape=[4]))
    assert files.open_example(ctx, resources.example(name))
    assert ctx.document.path is None and ctx.window.fitted == 1
    assert any(title == ctx.document.graph.name for title, _ in files.example_titles())


def test_saving_writes_what_loads_back(on_graph, tmp_path):
    ctx = on_graph(chain(("Linear", {"out_features": 3}), input_shape=[4], name="round"))
    ctx.window.save_path = str(tmp_path / "round.loom")
    assert files.save(ctx) and not ctx.document.modified
    assert ctx.window.said[-1] == f"Saved {tmp_path / 'round.loom'}"
    save_graph(ctx.document.graph, tmp_path / "again.loom")
    assert (tmp_path / "round.loom").read_text() == (tmp_path / "again.loom").read_text()
    with pytest.raises(GraphFileError):
        load_graph(tmp_path / "missing.loom")
