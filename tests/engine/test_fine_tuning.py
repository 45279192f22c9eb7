"""Fine-tuning as a person relies on it: frozen layers stay bit for bit, learning-rate factors
scale the rate, frozen BatchNorm keeps its statistics, the start weights load (or are refused
plainly), and a network trained on digits 0-4 gives 5-9 a better start than none."""

import pytest
import torch

from engine import compile_graph
from engine.interop import start_entry
from engine.training import TrainingConfig, load_weights, train
from engine.training.checkpoint import load_checkpoint, save_checkpoint
from engine.training.messages import Failed, Finished, RunStarted, StartWeights, StepMetrics
from graphs.editing import adapt_head_edit, freeze_up_to_edit, learning_rate_edit
from tests.helpers import chain, lenet

FIVE_TO_NINE = [5, 6, 7, 8, 9]


def run(graph, tmp_path=None, **changes):
    """Train on the CPU (exactly reproducible), probes off; checkpoints into tmp_path/ck when given."""
    settings = {"device": "cpu", "probes": False} | changes
    if tmp_path is not None:
        settings["checkpoint_dir"] = str(tmp_path / "ck")
    return list(train(graph, TrainingConfig.from_dict(graph.training).replace(**settings)))


def of(messages, kind):
    return [m for m in messages if isinstance(m, kind)]


def trained(tmp_path):
    return load_weights(tmp_path / "ck" / "last.safetensors")


# One step of plain SGD on 30 samples: the update is exactly -lr x factor x gradient.
ONE_STEP = {"optimizer": "sgd", "momentum": 0.0, "epochs": 1, "batch_size": 64, "dataset_options": {"per_class": 3}}


def test_a_learning_rate_factor_scales_the_update_of_its_node_alone(tmp_path):
    slow = lenet()
    slow.apply(learning_rate_edit(slow, ["fc1"], 0.1))
    messages = run(slow, tmp_path / "a", lr=0.05, **ONE_STEP)
    assert of(messages, StepMetrics)[0].lr == 0.05                  # the run's rate, as set
    a = trained(tmp_path / "a")
    run(lenet(), tmp_path / "b", lr=0.005, **ONE_STEP)               # everything at a tenth of the rate
    run(lenet(), tmp_path / "c", lr=0.05, **ONE_STEP)                # everything at the rate
    b, c = trained(tmp_path / "b"), trained(tmp_path / "c")
    assert torch.allclose(a["fc1.weight"], b["fc1.weight"], atol=1e-7)     # fc1 moved as at 0.005
    assert torch.allclose(a["fc2.weight"], c["fc2.weight"], atol=1e-7)     # the others as at 0.05
    assert not torch.allclose(a["fc1.weight"], c["fc1.weight"], atol=1e-5)


def test_frozen_layers_stay_bit_for_bit_and_the_run_counts_them(tmp_path):
    graph = lenet()
    graph.apply(freeze_up_to_edit(graph, "pool2"))
    torch.manual_seed(0)
    messages = run(graph, tmp_path, epochs=2)
    assert isinstance(messages[-1], Finished)
    started = of(messages, RunStarted)[0]
    assert (started.parameters, started.frozen_parameters) == (19754, 60 + 880)
    torch.manual_seed(0)
    initial = compile_graph(lenet()).state_dict()                   # the run's own start: the same seed
    after = trained(tmp_path)
    for name in ("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"):
        assert torch.equal(after[name], initial[name])
    assert not torch.equal(after["fc1.weight"], initial["fc1.weight"])


def bn_graph():
    return chain(("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}), "BatchNorm2d", "ReLU", "Flatten",
                 ("Linear", {"out_features": 10}), name="bn")


@pytest.mark.parametrize("update", [False, True])
def test_a_frozen_batchnorm_keeps_its_statistics_unless_asked(tmp_path, update):
    graph = bn_graph()
    graph.apply(freeze_up_to_edit(graph, "bn1"))
    messages = run(graph, tmp_path, epochs=1, update_frozen_batchnorm=update)
    assert isinstance(messages[-1], Finished)
    after = trained(tmp_path)
    moved = not torch.equal(after["bn1.running_mean"], torch.zeros(4))
    assert moved == update
    assert int(after["bn1.num_batches_tracked"]) == (23 if update else 0)
    assert torch.equal(after["bn1.weight"], torch.ones(4))     # frozen either way


def test_a_graph_with_everything_frozen_is_refused_before_it_trains():
    graph = lenet()
    graph.apply(freeze_up_to_edit(graph, "fc3"))
    [failed] = run(graph, epochs=1)
    assert isinstance(failed, Failed)
    assert failed.reason == ("every node with weights is frozen, so nothing would learn: unfreeze the head (or any "
                             "layer) first")


def test_resuming_with_other_learning_rate_factors_is_refused(tmp_path):
    graph = lenet()
    settings = {"epochs": 1, "dataset_options": {"per_class": 10}, "checkpoint_dir": str(tmp_path / "ck")}
    run(graph, **settings)
    graph.apply(freeze_up_to_edit(graph, "pool1"))
    config = TrainingConfig.from_dict(graph.training).replace(device="cpu", probes=False, **settings | {"epochs": 2})
    failed = list(train(graph, config, resume=str(tmp_path / "ck")))[-1]
    assert failed.reason == (f"{tmp_path / 'ck' / 'last.safetensors'}: the checkpoint's run trained at learning-rate "
                             "factors x1 for 10 tensors; this graph trains x1 for 8 tensors: a layer was frozen or "
                             "given another factor since. Set them back to resume, or start a new run")


def test_the_start_weights_load_before_training_and_a_changed_or_moved_file_stops_the_run(tmp_path):
    source = lenet()
    few = {"epochs": 1, "dataset_options": {"per_class": 10}}
    run(source, tmp_path / "source", **few)
    weights = tmp_path / "source" / "ck" / "last.safetensors"
    graph = lenet()
    graph.set_training(graph.training | {"start_from": start_entry(weights, tmp_path / "model.loom")})
    config = TrainingConfig.from_dict(graph.training).replace(device="cpu", probes=False, **few)
    messages = list(train(graph, config, graph_folder=str(tmp_path)))
    [start] = of(messages, StartWeights)
    assert start.path == str(weights) and start.loaded == 10 and start.mismatches == ()
    assert start.summary == "10 of the file's 12 tensors loaded, 2 input statistics set by the normalize setting instead"
    (tmp_path / "elsewhere").mkdir()
    [moved] = list(train(graph, config, graph_folder=str(tmp_path / "elsewhere")))
    assert moved.reason == ("cannot start from the weights the settings name: weights file "
                            f"{tmp_path / 'elsewhere' / 'source' / 'ck' / 'last.safetensors'} does not exist")
    run(source, tmp_path / "source", **few | {"epochs": 2})         # the file is written again, other weights
    [changed] = list(train(graph, config, graph_folder=str(tmp_path)))
    assert changed.reason.startswith(f"cannot start from the weights the settings name: {weights}: this is not the "
                                     "file the graph was set to start from: its contents changed since")


@pytest.mark.slow
def test_a_network_trained_on_digits_0_to_4_starts_5_to_9_better_than_none(tmp_path):
    """The transfer, as a person does it: train LeNet on 0-4, start a copy from its weights with
    its convolutions frozen and a new head, train it on 50 samples of each of 5-9, and compare
    with the same graph trained from scratch on the same samples with the same settings and the
    same short budget (10 epochs of SGD: about 89% against about 58%). Given many more epochs,
    LeNet learns the 8x8 digits from 250 samples alone: the start's gain is learning faster."""
    source = lenet()
    source.apply(adapt_head_edit(source, "fc3", 5))
    finished = run(source, tmp_path / "source", epochs=15, dataset_options={"class_subset": [0, 1, 2, 3, 4]})[-1]
    assert isinstance(finished, Finished) and finished.val_accuracy > 0.95
    weights = tmp_path / "source" / "ck" / "last.safetensors"
    start = load_weights(weights)
    few = {"dataset_options": {"class_subset": FIVE_TO_NINE, "per_class": 50}, "epochs": 10, "batch_size": 32,
           "optimizer": "sgd", "lr": 0.01, "momentum": 0.9}
    for seed in (0, 1, 2):
        transfer = lenet()
        transfer.apply(freeze_up_to_edit(transfer, "pool2"))              # the convolutions
        transfer.apply(adapt_head_edit(transfer, "fc3", 5))               # a new head: fresh weights
        transfer.set_training(transfer.training | {"start_from": start_entry(weights, None)})
        messages = run(transfer, tmp_path / f"transfer{seed}", seed=seed, **few)
        assert of(messages, StartWeights)[0].replaced == ("fc3.weight", "fc3.bias")
        tuned = trained(tmp_path / f"transfer{seed}")
        for name in ("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"):
            assert torch.equal(tuned[name], start[name]), name             # frozen: bit for bit
        scratch = lenet()
        scratch.apply(adapt_head_edit(scratch, "fc3", 5))
        from_scratch = run(scratch, seed=seed, **few)[-1]
        assert messages[-1].val_accuracy > from_scratch.val_accuracy + 0.15, (seed, messages[-1], from_scratch)
        assert messages[-1].val_accuracy > 0.8
        # The head learned: its weights moved from where the run started them.
        torch.manual_seed(seed)
        fresh_head = compile_graph(transfer).state_dict()["fc3.weight"]
        assert not torch.equal(tuned["fc3.weight"], fresh_head)


def test_a_checkpoint_written_before_the_fine_tuning_settings_still_resumes(tmp_path):
    graph = lenet()
    settings = {"epochs": 1, "dataset_options": {"per_class": 10}, "checkpoint_dir": str(tmp_path / "ck")}
    run(graph, **settings)
    old = load_checkpoint(tmp_path / "ck")
    for name in ("start_from", "augment", "normalize", "update_frozen_batchnorm"):
        old.state["config"].pop(name)
    save_checkpoint(tmp_path / "ck", "last", old.weights, old.state, old.run_id)
    config = TrainingConfig.from_dict(graph.training).replace(device="cpu", probes=False, **settings | {"epochs": 2})
    assert isinstance(list(train(graph, config, resume=str(tmp_path / "ck")))[-1], Finished)
    save_checkpoint(tmp_path / "ck", "last", old.weights, old.state, old.run_id)
    flipped = config.replace(augment={"flip": True})
    failed = list(train(graph, flipped, resume=str(tmp_path / "ck")))[-1]
    assert failed.reason == (f"cannot resume {tmp_path / 'ck' / 'last.safetensors'} with augment {{'flip': True}}: the "
                             "checkpoint was written before that setting existed, by a run without it; leave it at "
                             "its default, or start a new run")
