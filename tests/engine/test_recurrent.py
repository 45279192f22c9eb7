"""Recurrent layers seen from inside: the unrolled pass against the layer's own outputs, every
gate against PyTorch's documented equations written out here, gradients through time, and the
recurrent training settings (truncated back-propagation through time, the forget-gate bias,
clipping reports)."""

import numpy as np
import pytest
import torch
from torch import nn

from engine import compile_graph
from engine.insight import GATES, InsightError, step_gradients, unroll
from engine.training import TrainingConfig, train
from engine.training.messages import (
    Failed,
    Finished,
    GradientClipping,
    RecurrentSteps,
    TimeGradients,
)
from engine.training.recurrent import open_forget_gates, truncate_recurrent
from graphs import Graph
from tests.helpers import chain

SHAPES = [(1, False), (2, True)]          # (num_layers, bidirectional)


def recurrent_model(kind, num_layers=1, bidirectional=False, steps=7, features=3, hidden=5, **params):
    graph = chain((kind, {"hidden_size": hidden, "num_layers": num_layers, "bidirectional": bidirectional, **params}),
                  input_shape=(steps, features))
    model = compile_graph(graph)
    torch.manual_seed(1)
    with torch.no_grad():        # biases far from 0, so that a gate in the wrong place shows
        for p in model.parameters():
            p.uniform_(-0.8, 0.8)
    layer = next(n for n, node in graph.nodes.items() if node.type == kind)
    return model.eval(), layer, model.get_submodule(layer)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("num_layers, bidirectional", SHAPES)
def test_unrolled_hidden_states_are_the_layers_own_outputs_step_by_step(kind, num_layers, bidirectional):
    model, layer, module = recurrent_model(kind, num_layers, bidirectional)
    x = torch.randn(3, 7, 3)
    found = unroll(model, layer, x)
    directions = 2 if bidirectional else 1
    assert found.kind == kind and found.gate_names == GATES[kind]
    assert found.hidden.shape == (num_layers, directions, 7, 5) and found.total_steps == 7
    assert found.step_inputs.shape == (7, 3) and np.allclose(found.step_inputs, x[0].numpy())
    with torch.no_grad():
        for depth in range(num_layers):
            # a module of the first depth+1 layers with the same weights: its output is layer `depth`'s states
            part = getattr(nn, kind)(3, 5, num_layers=depth + 1, bidirectional=bidirectional, batch_first=True)
            part.load_state_dict({k: v for k, v in module.state_dict().items()
                                  if int(k.split("_l")[1].split("_")[0]) <= depth})
            own, _ = part(x[:1])
            for direction in range(directions):
                expected = own[0, :, direction * 5:(direction + 1) * 5].numpy()
                assert np.allclose(found.hidden[depth, direction], expected, atol=1e-6), (depth, direction)
    assert found.deviation < 1e-5
    if kind == "LSTM":
        assert found.cell.shape == found.hidden.shape
    else:
        assert found.cell is None


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_each_gate_is_the_gate_of_pytorchs_equations_from_the_layers_weights(kind):
    model, layer, module = recurrent_model(kind)
    x = torch.randn(1, 7, 3)
    found = unroll(model, layer, x)
    w = {k: v.detach().double().numpy() for k, v in module.state_dict().items()}
    H = 5

    def rows(name, k):           # the k-th gate's block of rows, as the documentation orders them
        return w[name][k * H:(k + 1) * H]
    xs = x[0].double().numpy()
    h = np.zeros(H)
    c = np.zeros(H)
    for t in range(7):
        if kind == "LSTM":       # i, f, g, o = rows 0, 1, 2, 3
            i = sigmoid(rows("weight_ih_l0", 0) @ xs[t] + rows("bias_ih_l0", 0) + rows("weight_hh_l0", 0) @ h
                        + rows("bias_hh_l0", 0))
            f = sigmoid(rows("weight_ih_l0", 1) @ xs[t] + rows("bias_ih_l0", 1) + rows("weight_hh_l0", 1) @ h
                        + rows("bias_hh_l0", 1))
            g = np.tanh(rows("weight_ih_l0", 2) @ xs[t] + rows("bias_ih_l0", 2) + rows("weight_hh_l0", 2) @ h
                        + rows("bias_hh_l0", 2))
            o = sigmoid(rows("weight_ih_l0", 3) @ xs[t] + rows("bias_ih_l0", 3) + rows("weight_hh_l0", 3) @ h
                        + rows("bias_hh_l0", 3))
            c = f * c + i * g
            h = o * np.tanh(c)
            expected = {"input": i, "forget": f, "cell": g, "output": o}
            assert np.allclose(found.cell[0, 0, t], c, atol=1e-5)
        else:                    # r, z, n = rows 0, 1, 2
            r = sigmoid(rows("weight_ih_l0", 0) @ xs[t] + rows("bias_ih_l0", 0) + rows("weight_hh_l0", 0) @ h
                        + rows("bias_hh_l0", 0))
            z = sigmoid(rows("weight_ih_l0", 1) @ xs[t] + rows("bias_ih_l0", 1) + rows("weight_hh_l0", 1) @ h
                        + rows("bias_hh_l0", 1))
            n = np.tanh(rows("weight_ih_l0", 2) @ xs[t] + rows("bias_ih_l0", 2)
                        + r * (rows("weight_hh_l0", 2) @ h + rows("bias_hh_l0", 2)))
            h = (1 - z) * n + z * h
            expected = {"reset": r, "update": z, "new": n}
        for k, name in enumerate(found.gate_names):
            assert np.allclose(found.gates[k, 0, 0, t], expected[name], atol=1e-5), (t, name)
        assert np.allclose(found.hidden[0, 0, t], h, atol=1e-5)


def test_a_token_model_shows_its_tokens_and_a_layer_that_is_not_recurrent_is_refused():
    graph = chain(("Embedding", {"num_embeddings": 10, "embedding_dim": 4}), ("GRU", {"hidden_size": 3}),
                  input_shape=(6,), dtype="int64")
    model = compile_graph(graph).eval()
    tokens = torch.tensor([[3, 1, 4, 1, 5, 9]])
    found = unroll(model, "gru1", tokens)
    assert found.tokens.tolist() == [3, 1, 4, 1, 5, 9]
    assert found.step_inputs.shape == (6, 4)          # the layer reads the embedded tokens
    with pytest.raises(InsightError, match="embed1 is not an RNN, LSTM or GRU layer"):
        unroll(model, "embed1", tokens)


def test_a_long_sequence_is_shown_by_its_first_steps(monkeypatch):
    from engine.insight import recurrent
    monkeypatch.setattr(recurrent, "MAX_STEP_VALUES", 100)
    model, layer, _ = recurrent_model("LSTM", steps=40)
    found = unroll(model, layer, torch.randn(1, 40, 3))
    # a step holds 5 hidden + 5 cell + 4 x 5 gate values and 3 inputs: three steps fit in 100
    assert found.total_steps == 40 and found.hidden.shape[2] == 3 and found.gates.shape[3] == 3


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_gradient_at_each_hidden_state_is_the_gradient_torchs_own_layer_gives_from_that_step_on(kind):
    """dL/dh_t is found independently: the layer's own module run from step t+1 with h_t (and
    c_t) as its starting state, the earlier outputs fixed, and autograd asked for dL/dh_t."""
    model, layer, module = recurrent_model(kind)
    x = torch.randn(1, 7, 3)
    weights = torch.randn(7, 5)

    def objective(out):
        return (out * weights).sum()
    found = step_gradients(model, layer, objective, x)
    assert found.norms.shape == (1, 1, 7)
    with torch.no_grad():
        states = unroll(model, layer, x)
    for t in range(7):
        h_t = torch.tensor(states.hidden[0, 0, t]).reshape(1, 1, 5).requires_grad_()
        start = (h_t, torch.tensor(states.cell[0, 0, t]).reshape(1, 1, 5)) if kind == "LSTM" else h_t
        later = module(x[:, t + 1:], start)[0] if t < 6 else torch.zeros(1, 0, 5)
        earlier = torch.tensor(states.hidden[0, 0, :t]).unsqueeze(0)
        out = torch.cat([earlier, h_t.reshape(1, 1, 5), later], dim=1)
        (grad,) = torch.autograd.grad(objective(out), h_t)
        assert found.norms[0, 0, t] == pytest.approx(float(grad.norm()), rel=1e-4), t
    with torch.no_grad():
        assert found.loss == pytest.approx(float(objective(module(x)[0])), rel=1e-5)
    assert all(p.grad is None for p in model.parameters())      # the weights' gradients are left alone


def test_truncated_steps_get_no_gradient_from_a_loss_beyond_the_cut():
    model, layer, _ = recurrent_model("LSTM", steps=10)
    x = torch.randn(1, 10, 3)
    full = step_gradients(model, layer, lambda out: out[:, -1].sum(), x)
    cut = step_gradients(model, layer, lambda out: out[:, -1].sum(), x, truncate=4)
    assert np.all(full.norms[0, 0] > 0)
    # pieces of steps 0-3, 4-7, 8-9: the last step's loss reaches back to step 8 only
    assert np.all(cut.norms[0, 0, :8] == 0) and np.all(cut.norms[0, 0, 8:] > 0)
    assert np.allclose(cut.norms[0, 0, 8:], full.norms[0, 0, 8:])


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_truncated_training_forward_is_unchanged_and_its_gradient_stops_at_the_cut(kind):
    model, layer, _ = recurrent_model(kind, num_layers=2, steps=10)
    x = torch.randn(2, 10, 3)
    whole = model(x)
    assert truncate_recurrent(model, 4) == [layer]
    assert torch.equal(model(x), whole)                  # evaluation reads whole sequences
    model.train()
    x.requires_grad_()
    out = model(x)
    assert torch.allclose(out, whole, atol=1e-6)         # the same values, read in pieces
    out[:, -1].sum().backward()
    reached = x.grad.abs().sum(dim=(0, 2))
    assert torch.all(reached[:8] == 0) and torch.all(reached[8:] > 0)


def test_truncation_and_the_forget_bias_are_refused_where_they_cannot_apply():
    model, _, _ = recurrent_model("GRU", bidirectional=True)
    with pytest.raises(ValueError, match="gru1 is bidirectional"):
        truncate_recurrent(model, 4)
    with pytest.raises(ValueError, match="no LSTM layer"):
        open_forget_gates(model, 1.0)
    plain = compile_graph(chain(("Linear", {"out_features": 2}), input_shape=(3,)))
    with pytest.raises(ValueError, match="no RNN, LSTM or GRU layer"):
        truncate_recurrent(plain, 4)
    no_bias, _, _ = recurrent_model("LSTM", bias=False)
    with pytest.raises(ValueError, match="lstm1 has no biases"):
        open_forget_gates(no_bias, 1.0)


def test_the_forget_bias_opens_every_forget_gate_of_every_layer_and_direction():
    model, layer, module = recurrent_model("LSTM", num_layers=2, bidirectional=True)
    before = {k: v.clone() for k, v in module.state_dict().items()}
    assert open_forget_gates(model, 2.0) == [layer]
    for name, value in module.state_dict().items():
        change = value - before[name]
        if name.startswith("bias_ih"):
            assert torch.allclose(change[5:10], torch.full((5,), 2.0)) and torch.all(change[:5] == 0)
            assert torch.all(change[10:] == 0)
        else:
            assert torch.all(change == 0)


def memory_graph(kind: str, length: int = 12) -> Graph:
    g = Graph("memory")
    x = g.add_node("Input", shape=[length, 2])
    r = g.add_node(kind, hidden_size=8)
    g.connect(x, r)
    head = g.add_node("Linear", out_features=2)
    g.connect(r, head, src_port="last")
    g.connect(head, g.add_node("Output"))
    return g


@pytest.mark.slow
def test_training_reports_the_unrolled_layer_its_gradients_through_time_and_clipping():
    config = TrainingConfig(dataset="long_memory", dataset_options={"length": 12, "n_samples": 200}, epochs=2,
                            batch_size=20, probe_every=4, log_every=4, clip_grad_norm=0.05, truncate_bptt=5,
                            lstm_forget_bias=1.0, device="cpu")
    messages = list(train(memory_graph("LSTM"), config))
    assert isinstance(messages[-1], Finished), messages[-1]
    steps = [m for m in messages if isinstance(m, RecurrentSteps)]
    gradients = [m for m in messages if isinstance(m, TimeGradients)]
    assert steps and len(steps) == len(gradients)
    assert steps[0].layer == "lstm1" and steps[0].hidden.shape == (1, 1, 12, 8) and steps[0].gates.shape[0] == 4
    assert steps[0].deviation < 1e-5
    # truncated at 5: the loss (at the last step) reaches steps 10 and 11 only
    assert gradients[0].truncate == 5 and np.all(gradients[0].norms[0, 0, :10] == 0)
    clipping = [m for m in messages if isinstance(m, GradientClipping)]
    assert sum(m.steps for m in clipping) == 16                # 160 samples in batches of 20, two epochs
    assert all(m.threshold == 0.05 and 0 <= m.clipped <= m.steps and m.max_norm >= m.mean_norm for m in clipping)
    assert sum(m.clipped for m in clipping) > 0


def test_recurrent_settings_that_cannot_apply_end_the_run_with_the_reason():
    config = TrainingConfig(dataset="long_memory", dataset_options={"length": 12, "n_samples": 100}, epochs=1,
                            lstm_forget_bias=1.0, device="cpu")
    final = list(train(memory_graph("GRU"), config))[-1]
    assert isinstance(final, Failed) and "lstm_forget_bias: the graph has no LSTM layer" in final.reason
    with pytest.raises(ValueError, match="truncate_bptt: must not be negative"):
        config.replace(truncate_bptt=-1)
