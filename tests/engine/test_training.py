"""Training as a person relies on it: it learns, reports, probes, stops, resumes and fails well."""

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.training import Control, TrainingConfig, train
from engine.training.checkpoint import load_checkpoint
from engine.training.messages import (
    ActivationMaps,
    CheckpointSaved,
    ConfusionMatrix,
    DeadUnits,
    DecisionBoundary,
    EpochMetrics,
    Failed,
    Filters,
    Finished,
    GradientFlow,
    Histograms,
    RunStarted,
    SampleOutputs,
    StepMetrics,
)
from graphs import Graph, load_graph
from tests.helpers import chain, lenet

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def run(graph, **changes):
    """Train on the CPU, where runs are exactly reproducible (GPU runs: test_cuda.py)."""
    config = TrainingConfig.from_dict(graph.training).replace(**({"device": "cpu"} | changes))
    return list(train(graph, config))


def of(messages, kind):
    return [m for m in messages if isinstance(m, kind)]


@pytest.mark.slow
def test_lenet_learns_the_bundled_digits():
    messages = run(lenet())          # the file's own settings: 30 epochs
    final = messages[-1]
    assert isinstance(final, Finished) and final.reason == "completed" and final.epoch == 30
    assert final.val_accuracy >= 0.97
    epochs = of(messages, EpochMetrics)
    assert [e.epoch for e in epochs] == list(range(1, 31))
    assert epochs[-1].train_loss < epochs[0].train_loss / 10


@pytest.mark.slow
def test_mlp_learns_the_spiral():
    final = run(load_graph(EXAMPLES / "mlp_spiral.loom"))[-1]
    assert isinstance(final, Finished) and final.val_accuracy >= 0.95


def test_messages_describe_the_run_and_the_probes():
    messages = run(lenet(), epochs=2, probe_every=10)
    started = messages[0]
    assert isinstance(started, RunStarted)
    assert (started.device, started.parameters, started.train_samples, started.val_samples) == ("cpu", 19754, 1438, 359)
    assert started.steps_per_epoch == 23 and started.class_names[3] == "3"
    steps = of(messages, StepMetrics)
    assert [s.step for s in steps] == [10, 20, 23, 33, 43, 46]
    assert all(s.loss > 0 and s.samples_per_s > 0 and s.lr == 0.002 for s in steps)
    # One clock for the run, from its start: steps, epochs and the end read it in order.
    clock = [m.elapsed_s for m in messages if isinstance(m, (StepMetrics, EpochMetrics, Finished))]
    assert clock == sorted(clock) and clock[0] > 0 and isinstance(messages[-1], Finished)
    flow = of(messages, GradientFlow)
    assert [f.step for f in flow] == [10, 20, 30, 40]
    assert [layer.layer for layer in flow[0].layers] == ["conv1", "conv2", "fc1", "fc2", "fc3"]
    assert all(0 < layer.mean_abs_grad <= layer.max_abs_grad and layer.weight_norm > 0 for layer in flow[0].layers)
    histograms = of(messages, Histograms)
    assert [h.step for h in histograms] == [10, 20, 30, 40]
    conv1 = histograms[0].layers[0]
    assert conv1.layer == "conv1" and conv1.weight_counts.sum() == 60 and len(conv1.grad_counts) == 32
    assert conv1.grad_range[0] < 0 < conv1.grad_range[1]
    filters = of(messages, Filters)
    assert {f.layer: f.weights.shape for f in filters[:2]} == {"conv1": (6, 1, 3, 3), "conv2": (16, 6, 3, 3)}
    maps = {m.layer: m.maps.shape for m in of(messages, ActivationMaps) if m.step == 10}
    assert maps["conv1"] == (6, 8, 8) and maps["pool2"] == (16, 2, 2) and maps["fc3"] == (10,)
    dead = of(messages, DeadUnits)[0]
    assert [name for name, _ in dead.fractions] == ["relu1", "relu2", "relu3", "relu4"]
    assert all(0 <= share <= 1 for _, share in dead.fractions)
    confusion = of(messages, ConfusionMatrix)
    assert len(confusion) == 2 and confusion[-1].matrix.shape == (10, 10) and confusion[-1].matrix.sum() == 359
    accuracy = np.trace(confusion[-1].matrix) / 359
    assert accuracy == pytest.approx(of(messages, EpochMetrics)[-1].val_accuracy)


def test_activation_maps_follow_the_chosen_sample_and_layers():
    control = Control()
    control.probe_sample, control.probe_layers = 5, ("conv2",)
    graph = lenet()
    config = TrainingConfig.from_dict(graph.training).replace(epochs=1, probe_every=20, device="cpu")
    maps = of(list(train(graph, config, control)), ActivationMaps)
    assert {(m.layer, m.sample) for m in maps} == {("conv2", 5)}


def test_decision_boundary_for_two_dimensional_data():
    messages = run(load_graph(EXAMPLES / "mlp_spiral.loom"), epochs=2)
    boundary = of(messages, DecisionBoundary)
    assert len(boundary) == 2
    b = boundary[-1]
    assert b.classes.shape == (80, 80) and set(np.unique(b.classes)) <= {0, 1, 2}
    assert b.x_range[0] < -1 < 1 < b.x_range[1] and np.all((b.confidence > 0.33) & (b.confidence <= 1))


def test_regression_with_mse():
    g = chain(("Linear", {"out_features": 32}), "Tanh", ("Linear", {"out_features": 1}), input_shape=(1,))
    messages = run(g, dataset="sine", loss="mse", lr=0.01, epochs=40, batch_size=32)
    epochs = of(messages, EpochMetrics)
    assert epochs[-1].val_accuracy is None and epochs[-1].val_loss < 0.05 < epochs[0].val_loss
    # each epoch, predictions against targets for the dashboard, as good as the loss says
    shown = of(messages, SampleOutputs)
    assert len(shown) == 40 and shown[-1].outputs.shape == shown[-1].targets.shape
    assert float(np.mean((shown[-1].outputs - shown[-1].targets) ** 2)) < 0.05


def test_an_autoencoder_sends_its_reconstructions_beside_their_inputs():
    messages = run(load_graph(EXAMPLES / "conv_autoencoder.loom"), epochs=1)
    shown = of(messages, SampleOutputs)[-1]
    assert shown.inputs.shape == shown.outputs.shape == shown.targets.shape == (8, 1, 8, 8)


@pytest.mark.parametrize("optimizer, schedule", [("sgd", "step"), ("adamw", "cosine"), ("rmsprop", "one_cycle"),
                                                 ("adagrad", "plateau"), ("adadelta", "none")])
def test_every_optimizer_and_schedule_runs(optimizer, schedule):
    messages = run(lenet(), epochs=2, optimizer=optimizer, schedule=schedule, lr=0.05 if optimizer != "adadelta" else 1.0,
                   probes=False)
    assert isinstance(messages[-1], Finished), messages[-1]


def test_learning_rate_follows_the_schedule():
    steps = of(run(lenet(), epochs=3, schedule="step", step_size=1, gamma=0.5, probes=False), StepMetrics)
    assert sorted({s.lr for s in steps}, reverse=True) == [0.002, 0.001, 0.0005]


@pytest.mark.slow
def test_early_stopping_ends_the_run_when_validation_stops_improving():
    messages = run(lenet(), epochs=200, early_stopping=3, lr=0.01, probes=False)
    final = messages[-1]
    assert isinstance(final, Finished) and final.reason == "early stopping" and final.epoch < 200
    val = [e.val_loss for e in of(messages, EpochMetrics)]
    assert min(val[-3:]) >= min(val[:-3])      # three epochs without a new best
    assert len(val) == final.epoch


def test_nan_loss_stops_at_its_step_and_keeps_the_last_good_checkpoint(tmp_path):
    graph = lenet()
    good = run(graph, epochs=1, checkpoint_dir=str(tmp_path), probes=False)
    assert isinstance(good[-1], Finished)
    before = (tmp_path / "last.safetensors").read_bytes()
    messages = run(graph, epochs=3, lr=1e6, optimizer="sgd", checkpoint_dir=str(tmp_path), probes=False)
    failed = messages[-1]
    assert isinstance(failed, Failed) and not of(messages, CheckpointSaved)
    assert "the loss became NaN at step" in failed.reason or "infinite at step" in failed.reason
    assert failed.step is not None and f"step {failed.step} (epoch 1)" in failed.reason
    assert "lower learning rate" in failed.reason
    assert (tmp_path / "last.safetensors").read_bytes() == before


def test_weights_that_diverge_between_loss_reports_are_named_not_a_histogram_error():
    graph = lenet()
    messages = run(graph, epochs=2, lr=1e9, optimizer="sgd", probe_every=1, log_every=50)
    failed = messages[-1]
    assert isinstance(failed, Failed)
    assert "histc" not in failed.reason and "training diverged" in failed.reason
    assert failed.reason.startswith(("the weights of", "the loss became"))


def test_a_graph_with_errors_is_refused_before_anything_starts():
    graph = chain(("Conv2d", {"out_channels": 4, "kernel_size": 11}), input_shape=(1, 8, 8))
    messages = run(graph, epochs=1)
    assert len(messages) == 1 and isinstance(messages[0], Failed)
    assert messages[0].node == "conv1" and "kernel 11x11 is larger" in messages[0].diagnostics[0]


def test_a_graph_that_does_not_fit_the_data_says_how():
    graph = lenet()
    graph.set_params("fc3", out_features=12)
    graph.set_params("input1", shape=[1, 28, 28])
    failed = run(graph, epochs=1)[0]
    assert isinstance(failed, Failed) and failed.node == "input1"
    assert failed.diagnostics == ("input1: has shape 1x28x28 but digits gives samples of 1x8x8",)
    graph.set_params("input1", shape=[1, 8, 8])
    failed = run(graph, epochs=1)[0]
    assert failed.diagnostics == ("fc3: gives 12 outputs but digits has 10 classes",)
    failed = run(lenet(), epochs=1, loss="mse")[0]
    assert "the mse loss compares numbers but digits has class labels" in failed.diagnostics[0]


def test_a_layer_failing_at_run_time_is_named():
    g = Graph(name="too small vocabulary")
    x = g.add_node("Input", shape=[8], dtype="int64")
    e = g.add_node("Embedding", num_embeddings=2, embedding_dim=4)
    f = g.add_node("Flatten")
    fc = g.add_node("Linear", out_features=2)
    for a, b in ((x, e), (e, f), (f, fc), (fc, g.add_node("Output"))):
        g.connect(a, b)
    from engine.data import DataSet
    tokens = torch.randint(0, 5, (40, 8))
    data = DataSet("tokens", tokens[:30], torch.randint(0, 2, (30,)), tokens[30:], torch.randint(0, 2, (10,)),
                   class_names=["a", "b"])
    failed = list(train(g, TrainingConfig(epochs=1, device="cpu"), dataset=data))[-1]
    assert isinstance(failed, Failed) and failed.node == "embed1"
    assert failed.reason.startswith("embed1 failed during training: index out of range")


def test_stop_takes_effect_within_one_step_and_saves_a_checkpoint(tmp_path):
    graph, control = lenet(), Control()
    config = TrainingConfig.from_dict(graph.training).replace(epochs=5, log_every=1, checkpoint_dir=str(tmp_path),
                                                              device="cpu")
    messages = []
    for message in train(graph, config, control):
        messages.append(message)
        if isinstance(message, StepMetrics) and message.step == 7:
            control.stop()
    saved, final = messages[-2], messages[-1]
    assert isinstance(final, Finished) and final.reason == "stopped" and final.step == 7
    assert isinstance(saved, CheckpointSaved) and saved.step == 7
    assert load_checkpoint(tmp_path).step == 7


@pytest.mark.slow
def test_pause_holds_the_run_until_resumed():
    import threading
    graph, control = lenet(), Control()
    config = TrainingConfig.from_dict(graph.training).replace(epochs=1, log_every=1, probes=False, device="cpu")
    last_step, while_paused = [0], []

    def resume() -> None:        # what the run had done by the time the person resumes it
        while_paused.append(last_step[0])
        control.resume()

    for message in train(graph, config, control):
        if isinstance(message, StepMetrics):
            assert message.step == 3 or not control.paused      # no step is taken while paused
            last_step[0] = message.step
            if message.step == 3:
                control.pause()
                threading.Timer(0.3, resume).start()
    assert while_paused == [3] and last_step[0] > 3


def losses(messages):
    return [m.loss for m in of(messages, StepMetrics)]


def test_resuming_reproduces_the_uninterrupted_run_exactly(tmp_path):
    graph = chain(("Conv2d", {"out_channels": 4, "kernel_size": 3}), "ReLU", ("Dropout", {"p": 0.3}), "Flatten",
                  ("Linear", {"out_features": 10}), input_shape=(1, 8, 8))
    graph.training = TrainingConfig(epochs=3, log_every=5, probes=False, batch_size=100, device="cpu").to_dict()
    whole = list(train(graph))
    # Stop in the middle of epoch 2, then resume from the checkpoint written at that step.
    control = Control()
    config = TrainingConfig.from_dict(graph.training).replace(checkpoint_dir=str(tmp_path))
    first = []
    for message in train(graph, config, control):
        first.append(message)
        if isinstance(message, StepMetrics) and message.step == 20:
            control.stop()
    second = list(train(graph, config, resume=str(tmp_path / "last.safetensors")))
    assert of(second, RunStarted)[0].start_epoch == 1
    assert losses(first) + losses(second) == losses(whole)
    assert of(second, EpochMetrics)[-1].val_loss == of(whole, EpochMetrics)[-1].val_loss
    assert of(second, EpochMetrics)[0].train_loss == of(whole, EpochMetrics)[1].train_loss


def test_settings_round_trip_through_the_file(tmp_path):
    from graphs import save_graph
    graph = lenet()
    config = TrainingConfig(dataset="spiral", dataset_options={"noise": 0.3}, optimizer="sgd", nesterov=True,
                            schedule="cosine", epochs=7)
    graph.set_training(config.to_dict())
    save_graph(graph, tmp_path / "g.loom")
    assert TrainingConfig.from_dict(load_graph(tmp_path / "g.loom").training) == config


@pytest.mark.parametrize("settings, message", [
    ({"lr": -1}, "training.lr: must be positive, not -1"),
    ({"optimizer": "lbfgs"}, "training.optimizer: 'lbfgs' is not one of sgd, adam"),
    ({"epochs": "ten"}, "training.epochs: must be an integer, not 'ten'"),
    ({"learning_rate": 0.1}, "training.learning_rate: unknown setting"),
    ({"nesterov": True, "optimizer": "adam"}, "training.nesterov: needs the sgd optimizer"),
])
def test_bad_settings_name_the_field(settings, message):
    from engine.training import ConfigError
    with pytest.raises(ConfigError, match=message):
        TrainingConfig.from_dict(settings)


def test_a_failure_while_setting_up_is_a_message_not_a_crash(monkeypatch):
    import engine.training.loop as loop
    monkeypatch.setattr(loop, "compile_graph", lambda *a: (_ for _ in ()).throw(RuntimeError("device lost\nmore")))
    messages = run(lenet(), epochs=1)
    assert len(messages) == 1 and isinstance(messages[0], Failed)
    assert messages[0].reason == "training could not start: RuntimeError: device lost"
