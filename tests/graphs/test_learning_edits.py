"""How nodes learn, as document edits: Freeze up to here, learning-rate factors, Adapt to data set,
a fresh start, and what grouping and ungrouping do with them."""

import pytest

from graphs import AdaptHead, Graph, GraphError, StartFresh, dumps_graph
from graphs.block_edits import group_edit, inline_edit
from graphs.editing import (
    adapt_head_edit,
    freeze_up_to_edit,
    head_layer,
    learning_rate_edit,
    start_fresh_edit,
    unfreeze_all_edit,
)
from graphs.edits import SetLearning
from graphs.events import LearningChanged
from tests.helpers import lenet, residual_graph


def learning(g: Graph) -> dict[str, tuple[float, bool]]:
    return {n.id: (n.lr_factor, n.fresh) for n in g.nodes.values() if (n.lr_factor, n.fresh) != (1.0, False)}


def test_freeze_up_to_a_node_freezes_it_and_everything_that_feeds_it_in_one_undo_step():
    g = lenet()
    before = dumps_graph(g)
    seen = []
    g.events.subscribe(lambda changes: seen.append(changes))
    edit = g.apply(freeze_up_to_edit(g, "pool2"))
    assert edit.label == "Freeze up to pool2"
    assert {n for n, (factor, _) in learning(g).items() if factor == 0} == {"norm", "conv1", "relu1", "pool1", "conv2",
                                                                            "relu2", "pool2"}
    assert not g.nodes["fc1"].frozen and not g.nodes["input1"].frozen     # what follows keeps learning
    assert len(seen) == 1 and {e.node for e in seen[0].of(LearningChanged)} == {"norm", "conv1", "relu1", "pool1",
                                                                                "conv2", "relu2", "pool2"}
    assert not seen[0].changes_model          # the same model: its runs and weights still apply
    g.revert(edit)
    assert dumps_graph(g) == before and learning(g) == {}
    g.apply(edit)                              # redo
    assert g.nodes["conv2"].frozen and '"lr_factor": 0,' in dumps_graph(g)


def test_freezing_follows_every_branch_that_feeds_the_node():
    g = residual_graph()
    g.apply(freeze_up_to_edit(g, "layer1"))
    assert set(learning(g)) == {"layer1"}      # the Input is no layer; fc comes after
    with pytest.raises(GraphError, match="image is an Input: nothing up to it learns"):
        freeze_up_to_edit(g, "image")


def test_learning_rate_factors_and_unfreezing():
    g = lenet()
    edit = g.apply(learning_rate_edit(g, ["fc1", "fc2"], 0.1))
    assert edit.label == "Learning rate of fc1, fc2 x0.1"
    assert learning(g) == {"fc1": (0.1, False), "fc2": (0.1, False)}
    g.apply(learning_rate_edit(g, ["conv1"], 0))
    assert unfreeze_all_edit(g).label == "Unfreeze conv1"
    g.apply(unfreeze_all_edit(g))
    assert learning(g) == {"fc1": (0.1, False), "fc2": (0.1, False)} and unfreeze_all_edit(g) is None
    with pytest.raises(GraphError, match="between 0 \\(frozen\\) and 100, not -1"):
        g.apply(learning_rate_edit(g, ["fc1"], -1))
    with pytest.raises(GraphError, match="there is no node 'ghost'"):
        learning_rate_edit(g, ["ghost"], 0.5)
    assert learning(g) == {"fc1": (0.1, False), "fc2": (0.1, False)}        # a refused edit changed nothing


def test_a_layer_inside_a_block_learns_as_its_uses_do():
    g = residual_graph()
    body = g.blocks["Residual"]
    with pytest.raises(GraphError, match="layers inside the block Residual learn as its uses do"):
        body.apply(SetLearning(("conv1",), lr_factor=0))
    with pytest.raises(GraphError, match="learn as its uses do"):
        freeze_up_to_edit(body, "conv2")


def test_the_head_is_found_back_from_the_output_through_layers_without_a_size():
    g = lenet()
    assert head_layer(g) == ("fc3", "out_features")
    g.apply(g.insert_between_edit(g.in_edges("output1")[0], "Softmax"))
    assert head_layer(g) == ("fc3", "out_features")


def test_adapt_to_data_set_resizes_the_head_and_starts_it_fresh_in_one_undo_step():
    g = lenet()
    g.apply(freeze_up_to_edit(g, "fc3"))             # even a frozen head: a new one must learn
    before = dumps_graph(g)
    edit = g.apply(adapt_head_edit(g, "fc3", 5))
    assert edit.label == "Adapt fc3 to the data set (5 outputs)"
    assert g.nodes["fc3"].params["out_features"] == 5
    assert (g.nodes["fc3"].lr_factor, g.nodes["fc3"].fresh) == (1.0, True)
    assert g.nodes["fc2"].frozen
    g.revert(edit)
    assert dumps_graph(g) == before


def test_the_fixes_for_fine_tuning_are_data_with_one_edit_each():
    g = lenet()
    adapt = AdaptHead("fc3", 5)
    assert adapt.label == "Adapt fc3 to the data set (5 outputs, fresh weights)"
    g.apply(adapt.edit(g))
    assert g.nodes["fc3"].params["out_features"] == 5 and g.nodes["fc3"].fresh
    fresh = StartFresh("").located(g, "conv1")
    assert fresh == StartFresh("conv1") and fresh.label == "Start conv1 from fresh weights"
    edit = g.apply(fresh.edit(g))
    assert g.nodes["conv1"].fresh and edit.label == "Start conv1 from fresh weights"
    g.apply(start_fresh_edit(g, "conv1", fresh=False))
    assert not g.nodes["conv1"].fresh


def test_grouping_keeps_how_the_layers_learned_on_the_use_and_ungrouping_gives_it_back():
    g = lenet()
    g.apply(freeze_up_to_edit(g, "pool1"))
    g.apply(group_edit(g, ["conv1", "relu1", "pool1"], "Stem"))
    assert g.nodes["stem"].frozen
    assert all(n.lr_factor == 1 for n in g.blocks["Stem"].nodes.values())      # the body is shared: it says nothing
    g.apply(inline_edit(g, "stem"))
    assert {n for n, (factor, _) in learning(g).items() if factor == 0} == {"norm", "stem_conv1", "stem_relu1", "stem_pool1"}


def test_a_group_of_layers_that_learn_differently_is_a_use_at_the_run_rate():
    g = lenet()
    g.apply(learning_rate_edit(g, ["conv1"], 0))
    g.apply(group_edit(g, ["conv1", "relu1"], "Half"))
    assert g.nodes["half"].lr_factor == 1.0
