"""Checks as the person sees them: shapes on every node, mistakes in plain words, fixes."""

import pytest
from torch import nn

from engine import Checker, check
from graphs import ERROR, WARNING, Graph
from tests.helpers import chain


def only(report, severity=ERROR):
    found = [d for d in report.diagnostics if d.severity == severity]
    assert len(found) == 1, report.diagnostics
    return found[0]


def test_shapes_params_and_macs_of_a_convnet_match_torch():
    g = chain(("Conv2d", {"out_channels": 6, "kernel_size": 5}), "ReLU", ("MaxPool2d", {"kernel_size": 2}),
              "Flatten", ("Linear", {"out_features": 10}), input_shape=(3, 32, 32))
    report = check(g)
    assert report.ok
    assert report.shapes == {"input1": (3, 32, 32), "conv1": (6, 28, 28), "relu1": (6, 28, 28),
                             "pool1": (6, 14, 14), "flatten1": (1176,), "fc1": (10,), "output1": (10,)}
    assert report.params["conv1"] == 6 * 3 * 25 + 6 and report.params["fc1"] == 1176 * 10 + 10
    assert report.macs["conv1"] == 6 * 28 * 28 * 3 * 25 and report.macs["fc1"] == 11760
    assert report.total_params == sum(p.numel() for p in nn.Conv2d(3, 6, 5).parameters()) + 11770


def test_kernel_larger_than_input_is_named_in_user_terms():
    g = chain(("Conv2d", {"out_channels": 4, "kernel_size": 3}), ("MaxPool2d", {"kernel_size": 2}),
              ("Conv2d", {"out_channels": 4, "kernel_size": 3}), ("Conv2d", {"out_channels": 4, "kernel_size": 5}),
              input_shape=(1, 8, 8))
    error = only(check(g))
    assert error.node == "conv3"
    assert error.message == ("conv3: kernel 5x5 is larger than its 1x1 input; conv1, pool1 and conv2 shrank "
                             "the 8x8 map to that: pad conv2 (padding 1) to keep its size?")
    g.set_params("conv3", kernel_size=1)
    assert check(g).ok


def test_a_linear_layer_on_channels_last_tokens_is_no_mistake_but_on_a_map_or_an_image_it_is():
    """ConvNeXt permutes its maps to channels-last and applies Linear to the channels on purpose;
    the same Linear on the channels-first map, or on an image input, acts on a row of pixels."""
    permuted = chain(("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}), ("Permute", {"dims": [1, 2, 0]}),
                     ("LayerNorm", {}), ("Linear", {"out_features": 32}), "GELU", ("Linear", {"out_features": 8}),
                     ("Permute", {"dims": [2, 0, 1]}), input_shape=(3, 6, 6))
    assert check(permuted).diagnostics == []
    on_map = chain(("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}), "ReLU",
                   ("Linear", {"out_features": 32}), input_shape=(3, 6, 6))
    assert [d.node for d in check(on_map).warnings] == ["fc1"]
    on_image = chain(("Linear", {"out_features": 32}), input_shape=(1, 8, 8))
    assert [d.message for d in check(on_image).warnings] == [
        "fc1: gets a 1x8x8 feature map and would act on its last axis only: insert Flatten?"]


def test_a_block_fed_channels_last_tokens_keeps_them_channels_last_inside():
    """Inside a block, an Input stands for what the use feeds it: a Linear in a block fed
    permuted tokens is right, the same block fed a convolution's map is not."""
    def model(permute: bool) -> Graph:
        g = Graph(name="blocks")
        body = g.define_block("Mlp")
        x = body.add_node("Input", id="x", shape=[6, 6, 8])
        fc = body.add_node("Linear", out_features=8)
        body.connect(x, fc); body.connect(fc, body.add_node("Output", id="out"))
        prev = g.add_node("Input", shape=[3, 6, 6])
        for layer, params in [("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1})] + (
                [("Permute", {"dims": [1, 2, 0]})] if permute else []):
            node = g.add_node(layer, **params)
            g.connect(prev, node)
            prev = node
        use = g.add_node("Mlp")
        g.connect(prev, use); g.connect(use, g.add_node("Output"))
        return g
    assert check(model(permute=True)).diagnostics == []
    fed_a_map = check(model(permute=False))
    assert [d.node for d in fed_a_map.warnings] == ["mlp1"] and "inside Mlp: fc1: gets a 8x6x6 feature map" in \
        fed_a_map.warnings[0].message


def test_padding_is_mentioned_when_it_is_not_enough():
    g = chain(("Conv2d", {"out_channels": 4, "kernel_size": 7, "padding": 1}), input_shape=(1, 4, 4))
    assert only(check(g)).message == "conv1: kernel 7x7 is larger than its 4x4 input (padded to 6x6)"


def test_linear_on_a_feature_map_warns_and_offers_flatten_as_one_edit():
    g = chain(("Conv2d", {"out_channels": 16, "kernel_size": 3}), ("MaxPool2d", {"kernel_size": 2}),
              ("Linear", {"out_features": 10}), input_shape=(1, 12, 12))
    warning = only(check(g), WARNING)
    assert warning.message == "fc1 gets a 16x5x5 feature map and would act on its last axis only: insert Flatten?".replace(
        "fc1 gets", "fc1: gets")
    assert warning.fix.label == "Insert Flatten before fc1"
    edit = g.apply(warning.fix.edit(g))
    report = check(g)
    assert report.diagnostics == [] and report.shapes["fc1"] == (10,) and report.shapes["flatten1"] == (400,)
    g.revert(edit)
    assert "flatten1" not in g.nodes and only(check(g), WARNING).node == "fc1"


@pytest.mark.parametrize("layers, shape, node, text", [
    ([("Conv2d", {"out_channels": 4})], (64,), "conv1",
     "needs a 3-D input per sample (channels x height x width) but gets 64 (1-D); use Reshape to make it an image"),
    ([("LSTM", {"hidden_size": 8})], (1, 8, 8), "lstm1",
     "needs a 2-D input per sample (sequence length x features) but gets 1x8x8 (3-D)"),
    ([("Conv2d", {"out_channels": 6, "groups": 4})], (8, 8, 8), "conv1", "groups=4 must divide out_channels=6"),
    ([("MultiheadAttention", {"num_heads": 3})], (10, 16), "attn1", "num_heads=3 must divide its 16 features"),
    ([("GroupNorm", {"num_groups": 3})], (8, 4, 4), "gn1", "num_groups=3 must divide its 8 channels"),
    ([("Reshape", {"shape": [5, 5]})], (1, 8, 8), "reshape1", "cannot reshape 1x8x8 (64 values) into 5x5 (25 values)"),
    ([("Permute", {"dims": [0, 0]})], (4, 5), "permute1",
     "dims [0, 0] must order the 2 axes of its 4x5 input: each of 0..1 once"),
    ([("Embedding", {"num_embeddings": 10})], (5,), "embed1",
     "needs integer token ids but gets float values: set its Input's dtype to int64"),
    ([("MaxPool2d", {"kernel_size": 2, "padding": 2})], (1, 8, 8), "pool1", "padding 2 is more than half of its window 2"),
    ([("Flatten", {"start_dim": 0})], (1, 8, 8), "flatten1", "start_dim=0 would merge samples of the batch; use 1"),
])
def test_mistakes_are_explained_on_the_node(layers, shape, node, text):
    error = only(check(chain(*layers, input_shape=shape)))
    assert (error.node, error.message) == (node, f"{node}: {text}")


def test_integer_tokens_into_a_float_layer():
    error = only(check(chain(("Linear", {"out_features": 4}), input_shape=(5,), dtype="int64")))
    assert error.message == "fc1: gets integer token ids; put an Embedding before it to turn them into vectors"


def test_add_with_mismatched_branches_names_both_shapes():
    g = Graph()
    x = g.add_node("Input", shape=[3, 8, 8])
    a = g.add_node("Conv2d", out_channels=16, kernel_size=3, padding=1)
    b = g.add_node("Conv2d", out_channels=32, kernel_size=3, padding=1)
    add = g.add_node("Add")
    for src, dst in ((x, a), (x, b), (a, add), (b, add), (add, g.add_node("Output"))):
        g.connect(src, dst)
    error = only(check(g))
    assert error.message == "add1: its inputs have shapes 16x8x8 and 32x8x8, which do not match"
    assert "output1" not in check(g).shapes       # nothing is guessed downstream of an error


def test_fixes_that_set_a_parameter_apply_in_one_click():
    g = chain(("TransformerEncoderLayer", {"nhead": 5}), input_shape=(10, 12))
    error = only(check(g))
    assert error.fix.label == "Set nhead of encoder1 to 4"
    g.apply(error.fix.edit(g))
    assert check(g).ok


def test_torch_refusals_still_land_on_the_node(monkeypatch):
    # A mistake that no rule anticipates still becomes a message on its node, not a crash.
    g = chain(("ConvTranspose2d", {"out_channels": 4, "kernel_size": 3, "stride": 2, "output_padding": 1,
                                   "dilation": 1}), input_shape=(2, 4, 4))
    assert check(g).ok
    import engine.layers.inference as inference
    monkeypatch.setattr(inference, "build_module", lambda *a: (_ for _ in ()).throw(RuntimeError("boom\ndetail")))
    error = only(Checker().check(g))
    assert error.message == "deconv1: torch rejects this layer: boom"


def test_recurrent_ports_and_multi_input_shapes():
    g = Graph()
    tokens = g.add_node("Input", shape=[20], dtype="int64")
    emb = g.add_node("Embedding", num_embeddings=100, embedding_dim=32)
    lstm = g.add_node("LSTM", hidden_size=48, bidirectional=True, num_layers=2)
    fc = g.add_node("Linear", out_features=5)
    g.connect(tokens, emb); g.connect(emb, lstm); g.connect(lstm, fc, src_port="last")
    seq_out = g.add_node("Output"); g.connect(lstm, seq_out, src_port="seq")
    g.connect(fc, g.add_node("Output"))
    report = check(g)
    assert report.ok, report.diagnostics
    assert report.tensors[("lstm1", "seq")].shape == (20, 96) and report.tensors[("lstm1", "last")].shape == (96,)
    assert report.shapes["output1"] == (20, 96) and report.shapes["fc1"] == (5,)
    assert report.params["lstm1"] == sum(p.numel() for p in nn.LSTM(32, 48, 2, bidirectional=True).parameters())


def test_a_recheck_after_one_edit_infers_only_what_changed():
    layers = []
    for _i in range(30):
        layers += [("Linear", {"out_features": 32}), "ReLU"]
    g = chain(*layers, input_shape=(32,))
    checker = Checker()
    checker.check(g)
    misses = checker.cache.misses
    g.set_params("fc29", out_features=16)       # changes fc29's and everything after it
    report = checker.check(g)
    assert report.ok and report.shapes["output1"] == (32,)
    assert checker.cache.misses - misses == 3    # fc29, relu29 (new input), fc30 (new input)
    g.set_params("fc29", out_features=32)
    checker.check(g)
    assert checker.cache.misses - misses == 3    # back to known inputs: all cached


def test_cycles_do_not_stop_the_rest_of_the_check():
    from graphs import Edge
    g = chain(("Linear", {"out_features": 4}), "ReLU", input_shape=(4,))
    loop_a, loop_b = g.add_node("Sigmoid"), g.add_node("Tanh")
    g.edges += [Edge(loop_a, loop_b), Edge(loop_b, loop_a)]
    report = check(g)
    assert any("loops back" in d.message for d in report.errors)
    assert report.shapes["relu1"] == (4,)


def long_chain(blocks=30):
    layers = []
    for _i in range(blocks):
        layers += [("Linear", {"out_features": 32}), "ReLU"]
    return chain(*layers, input_shape=(32,))


def test_an_edit_that_changes_no_downstream_shape_rechecks_one_node():
    g = long_chain()
    checker = Checker()
    first = checker.check(g)
    assert checker.visits == len(g.nodes)              # the first check infers every node once
    g.set_params("fc12", bias=False)                  # fewer parameters, the same shapes after it
    report = checker.check(g)
    assert checker.visits == 1
    assert report.params["fc12"] == first.params["fc12"] - 32
    assert checker.check(g) is report and checker.visits == 0        # nothing changed: nothing done


def test_layout_and_name_edits_are_not_checked_again_but_training_settings_are():
    g = long_chain()
    checker = Checker()
    report = checker.check(g)
    g.move("fc12", 500, 120)
    g.set_metadata("description", "moved a node")
    assert checker.check(g) is report and checker.visits == 0         # the same report, nothing inferred
    g.set_training({"loss": "mse", "batch_size": 4})                  # lints read the loss and the batch
    assert checker.check(g) is not report


def test_an_edit_that_changes_a_shape_rechecks_until_shapes_agree_again():
    g = long_chain()
    checker = Checker()
    checker.check(g)
    g.set_params("fc12", out_features=16)
    report = checker.check(g)
    assert checker.visits == 3                          # fc12, relu12 (new input), fc13 (new input)
    assert report.shapes["relu12"] == (16,) and report.shapes["fc13"] == (32,)


def test_incremental_reports_equal_a_fresh_check_after_any_edits():
    import random

    from graphs.edits import Connect, Disconnect
    from graphs.graph import Edge as E
    rng = random.Random(3)
    g = long_chain(8)
    checker = Checker()
    checker.check(g)
    applied = []
    for step in range(60):
        linears = [n for n in g.nodes if n.startswith("fc")]
        action = rng.random()
        try:
            if action < 0.5:
                edit = g.set_params_edit(rng.choice(linears), out_features=rng.choice([8, 16, 32, 64]))
            elif action < 0.7:
                wires = [e for e in g.edges if e.dst.startswith(("fc", "relu"))]
                edit = Disconnect(rng.choice(wires))
            elif action < 0.85:
                node = rng.choice(linears)
                free = [n for n in g.nodes if not g.in_edges(n) and n not in ("input1",)]
                if not free:
                    continue
                edit = Connect(E(node, rng.choice(free)))
            elif applied:
                g.revert(applied.pop())
                edit = None
            else:
                continue
            if edit is not None:
                applied.append(g.apply(edit))
        except Exception:     # an edit the document refuses (a cycle, a full port) changes nothing
            continue
        incremental = checker.check(g)
        fresh = Checker().check(g)
        assert [d.message for d in incremental.diagnostics] == [d.message for d in fresh.diagnostics], step
        assert incremental.shapes == fresh.shapes and incremental.params == fresh.params, step
        assert incremental.tensors == fresh.tensors and incremental.macs == fresh.macs, step


@pytest.mark.parametrize("last, loss, words, fixable", [
    ("Softmax", "cross_entropy", "the cross_entropy loss applies softmax itself, so it is applied twice", True),
    ("Softmax", "nll", "the nll loss expects log-probabilities, and Softmax gives probabilities", False),
    ("Sigmoid", "bce_with_logits", "the bce_with_logits loss applies the sigmoid itself", True),
    ("ReLU", "cross_entropy", "a ReLU right before the cross_entropy loss cuts off every negative score", True),
])
def test_design_lints_name_the_layer_before_the_loss_and_offer_its_removal(last, loss, words, fixable):
    from graphs import dumps_graph
    g = chain(("Linear", {"out_features": 10}), last, input_shape=(16,))
    g.set_training({"loss": loss})
    node = [n for n in g.nodes if g.nodes[n].type == last][0]
    report = Checker().check(g)
    lint = [d for d in report.warnings if d.node == node]
    assert len(lint) == 1 and lint[0].message.startswith(f"{node}: ") and words in lint[0].message
    assert (lint[0].fix is not None) == fixable
    if fixable:
        before = dumps_graph(g)
        edit = g.apply(lint[0].fix.edit(g))
        assert node not in g.nodes and [(e.src, e.dst) for e in g.edges] == [("input1", "fc1"), ("fc1", "output1")]
        assert not [d for d in Checker().check(g).warnings if "loss" in d.message]
        g.revert(edit)
        assert dumps_graph(g) == before


@pytest.mark.parametrize("between", [(), ("Dropout",), ("Identity", "Dropout")])
def test_two_linear_layers_without_an_activation_collapse_to_one(between):
    g = chain(("Linear", {"out_features": 32}), *between, ("Linear", {"out_features": 3}), input_shape=(2,))
    report = Checker().check(g)
    assert [d.message for d in report.warnings] == [
        "fc2: follows fc1 with no activation between them, and two linear layers in a row collapse to one (W2·W1 is "
        "one matrix): fc2 adds weights but no power; insert a ReLU?"]
    fix = report.warnings[0].fix
    assert fix.label == "Insert ReLU before fc2"
    g.apply(fix.edit(g))
    assert not Checker().check(g).warnings
    assert [g.nodes[e.src].type for e in g.in_edges("fc2")] == ["ReLU"]


def test_linear_layers_with_an_activation_or_a_branch_between_are_fine():
    assert not Checker().check(chain(("Linear", {"out_features": 8}), "Tanh", ("Linear", {"out_features": 3}),
                                     input_shape=(2,))).warnings
    assert not Checker().check(chain(("Linear", {"out_features": 8}), "BatchNorm1d", "ReLU", "Dropout",
                                     ("Linear", {"out_features": 3}), input_shape=(2,))).warnings


def test_a_softmax_is_fine_where_the_loss_does_not_apply_one():
    g = chain(("Linear", {"out_features": 10}), "Softmax", input_shape=(16,))
    g.set_training({"loss": "mse"})
    assert not Checker().check(g).warnings


def test_one_cause_gives_one_problem_not_a_flood():
    import resources
    from graphs import load_graph

    # an unwired Output: the error, and one warning where the unused chain stops, not fourteen
    g = load_graph(resources.example("lenet_digits.loom"))
    g.disconnect(g.in_edges("output1")[0])
    report = check(g)
    assert [(d.severity, d.node) for d in report.diagnostics] == [("error", "output1"), ("warning", "fc3")]
    assert "nor are the 13 nodes before it" in report.diagnostics[1].message
    # a missing Flatten: fc1's warning and its fix; fc2 and fc3 see maps only because of it
    g = load_graph(resources.example("lenet_digits.loom"))
    g.apply(g.bypass_edit("flatten1"))
    report = check(g)
    assert [d.node for d in report.diagnostics] == ["fc1"]
    g.apply(report.diagnostics[0].fix.edit(g))
    assert check(g).diagnostics == [] and check(g).shapes["fc3"] == (10,)


def test_a_window_too_large_for_its_input_blames_the_layers_that_shrank_it_and_offers_padding():
    import resources
    from graphs import load_graph

    g = load_graph(resources.example("lenet_digits.loom"))
    g.set_params("conv1", padding=0)
    g.set_params("conv2", padding=0)
    report = check(g)
    assert [d.node for d in report.errors] == ["pool2"]
    message = report.errors[0].message
    assert message.startswith("pool2: window 2x2 is larger than its 1x1 input")
    assert "conv1, pool1 and conv2 shrank the 8x8 map to that" in message
    assert report.errors[0].fix.label == "Set padding of conv2 to 1"
    g.apply(report.errors[0].fix.edit(g))
    assert check(g).ok and check(g).shapes["pool2"] == (16, 1, 1)


def test_padding_same_keeps_the_size_compiles_exports_and_imports():
    import torch

    from engine import compile_graph
    from engine.interop.exporter import python_source
    from engine.interop.importer import import_module
    from graphs import GraphError, dumps_graph, loads_graph

    g = chain(("Conv2d", {"out_channels": 4, "kernel_size": 5, "padding": "same"}), input_shape=(1, 8, 8))
    assert check(g).ok and check(g).shapes["conv1"] == (4, 8, 8)
    assert compile_graph(g)(torch.randn(2, 1, 8, 8)).shape == (2, 4, 8, 8)
    assert loads_graph(dumps_graph(g)).nodes["conv1"].params["padding"] == "same"
    assert "padding='same'" in python_source(g)
    g.set_params("conv1", stride=2)                 # torch pads 'same' only with stride 1
    error = only(check(g))
    assert error.message.startswith("conv1: padding 'same' keeps the size only with stride 1, not 2")
    assert error.fix.label == "Set padding of conv1 to 2"
    with pytest.raises(GraphError, match="'padding' must be integers or 'same', not 'full'"):
        g.set_params("conv1", padding="full")
    with pytest.raises(GraphError):
        chain(("MaxPool2d", {"kernel_size": 2, "padding": "same"}), input_shape=(1, 8, 8))   # pools take numbers
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3, padding="same"), torch.nn.ReLU())
    imported, _ = import_module(net, torch.randn(1, 1, 6, 6))
    assert [n.params["padding"] for n in imported.nodes.values() if n.type == "Conv2d"] == ["same"]


# ---------------------------------------------------------------------- what the forward pass would hit
def _forward_passes(graph, *shapes) -> bool:
    import torch

    from engine import compile_graph
    model = compile_graph(graph)
    for mode in (model.train, model.eval):
        mode()
        try:
            model(*(torch.randn(2, *s) for s in shapes))
        except (RuntimeError, NotImplementedError, TypeError) as err:
            return print(err) or False
    return True


def _after_a_comparison(type_name: str, shape, **params) -> Graph:
    g = Graph(name="compared")
    x = g.add_node("Input", shape=list(shape))
    compared = g.add_node("Function", op="gt", args=[{"tensor": 0}, 0.0])
    layer = g.add_node(type_name, **params)
    g.connect(x, compared)
    g.connect(compared, layer)
    g.connect(layer, g.add_node("Output"))
    return g


def test_true_false_values_into_a_layer_that_computes_on_numbers_are_an_error_on_the_layer():
    from graphs import CATALOG
    shapes = {1: [8], 2: [4, 8], 3: [4, 8, 8], 4: [2, 4, 8, 8]}
    refused = []
    for name, spec in CATALOG.items():
        if name in ("Input", "Output", "Function", "Parameter", "Constant") or len(spec.inputs) != 1:
            continue
        shape = shapes[(spec.input_ranks or (3,))[0]]
        g = Graph(name="compared")
        x = g.add_node("Input", shape=shape)
        compared = g.add_node("Function", op="gt", args=[{"tensor": 0}, 0.0])
        layer = g.add_node(name)
        g.connect(x, compared)
        g.connect(compared, layer)
        g.connect(layer, g.add_node("Output"), src_port=spec.outputs[0].name)
        report = check(g)
        if report.ok:      # what the check lets through, the forward runs
            assert _forward_passes(g, shape), name
        else:
            refused.append(name)
    assert {"ReLU", "Linear", "Dropout", "GELU", "Softmax", "MaxPool2d", "MultiheadAttention"} <= set(refused)
    message = check(_after_a_comparison("ReLU", [4])).errors[0].message
    assert message.startswith("relu1: gets true/false values (the result of a comparison) but computes on numbers")


def test_every_operation_given_true_false_values_is_refused_or_runs():
    from graphs.operations import OPERATIONS, example_args
    for op in OPERATIONS:
        args = example_args(op)
        wires = max([a["tensor"] for a in args if isinstance(a, dict) and "tensor" in a] + [0]) + 1
        g = Graph(name="f")
        call = g.add_node("Function", op=op, args=args)
        for _ in range(wires):
            x = g.add_node("Input", shape=[4, 8, 8])
            compared = g.add_node("Function", op="gt", args=[{"tensor": 0}, 0.0])
            g.connect(x, compared)
            g.connect(compared, call)
        g.connect(call, g.add_node("Output"))
        if check(g).ok:
            assert _forward_passes(g, *[[4, 8, 8]] * wires), op


def test_a_local_response_norm_that_would_allocate_a_terabyte_is_an_error():
    for args, kwargs in (([{"tensor": 0}, 2**31], {}), ([{"tensor": 0}], {"size": 2**31}), ([{"tensor": 0}, 0], {})):
        g = chain(("Function", {"op": "local_response_norm", "args": args, "kwargs": kwargs}), input_shape=[3, 8, 8])
        report = check(g)
        assert not report.ok and report.errors[0].message.startswith(
            "function1: local_response_norm's size must be 1 to 1,024 neighbouring channels, not "), report.errors
    assert check(chain(("Function", {"op": "local_response_norm", "args": [{"tensor": 0}, 5]}), input_shape=[3, 8, 8])).ok
