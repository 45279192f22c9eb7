"""Looking inside trained networks: each view's numbers, from real runs in the training worker."""

import numpy as np
import pytest
import torch

import resources
from engine import check, compile_graph
from engine.insight.attribution import grad_cam, grad_cam_layer, occlusion, saliency
from engine.insight.channels import maximise_channels
from engine.insight.embeddings import embedding_vectors, nearest
from engine.insight.feature_space import layer_features, pca, separation, tsne
from engine.insight.layer_values import InsightError, classifier_features, truncated
from engine.training import TrainingConfig
from engine.training.checkpoint import load_weights
from engine.training.messages import AttentionMaps, EmbeddingSpace, FeatureSpace, Finished
from engine.training.worker import TrainingWorker
from graphs import load_graph
from tests.helpers import chain, lenet, residual_graph


def worker_run(graph, tmp_path, **settings):
    """Train ``graph`` in the worker process; every message, and the model with the last weights."""
    config = TrainingConfig.from_dict(graph.training).replace(checkpoint_dir=str(tmp_path), **settings)
    messages = TrainingWorker(graph, config).start().messages_until_done(timeout=300)
    assert isinstance(messages[-1], Finished), messages[-1]
    model = compile_graph(graph)
    model.load_state_dict(load_weights(str(tmp_path / "last.safetensors")))
    return messages, model.eval()


@pytest.fixture(scope="module")
def trained_lenet(tmp_path_factory):
    """LeNet on the 8x8 digits after five epochs in the worker, and the data it learned, as the
    model takes it (raw pixels: its Normalize step scales them)."""
    from engine.data import as_graph_takes, load_dataset
    messages, model = worker_run(lenet(), tmp_path_factory.mktemp("lenet"), epochs=5)
    return messages, model, as_graph_takes(load_dataset("digits"), lenet())


@pytest.mark.slow
def test_feature_space_of_the_digits_separates_as_training_goes_on(trained_lenet):
    messages, model, data = trained_lenet
    spaces = [m for m in messages if isinstance(m, FeatureSpace)]
    assert [s.epoch for s in spaces] == [1, 2, 3, 4, 5]
    first, last = spaces[0], spaces[-1]
    assert first.layer == "relu4"                  # what the last Linear layer decides from
    assert first.points.shape == (len(data.x_val), 2) and first.components.shape[0] == len(data.x_val)
    assert sorted(np.unique(first.labels)) == list(range(10))
    assert last.separation > first.separation + 0.05, (first.separation, last.separation)
    assert 0 < sum(last.explained) <= 1
    # t-SNE on request, from the components the message carries: classes separate there too
    mapped = tsne(last.components)
    assert mapped.shape == (len(data.x_val), 2)
    assert separation(mapped, last.labels) > last.separation


@pytest.mark.slow
def test_maximised_inputs_excite_their_channels_far_more_than_noise(trained_lenet):
    _, model, _ = trained_lenet
    for layer in ("conv1", "conv2"):
        found = maximise_channels(model, layer, (1, 8, 8), count=6)
        assert found.images.shape == (6, 1, 8, 8)
        # each channel's own input excites it beyond what noise of the same size does, typically
        # by several standard deviations of the noise's activations
        above = (found.activation - found.noise_activation) / found.noise_spread
        assert np.all(above > 1), (layer, above)
        assert np.median(above) > 3, (layer, above)


def test_grad_cam_has_the_input_shape_and_peaks_where_occlusion_hurts_most(trained_lenet):
    _, model, data = trained_lenet
    layer = grad_cam_layer(model, lenet(), data.x_val[:1])
    assert layer == "conv2"                # the last convolution, not the 2x2 pooled map after it
    at_peak, at_trough = [], []
    for i in range(0, len(data.x_val), 12):
        x = data.x_val[i: i + 1]
        cam, target = grad_cam(model, layer, x)
        assert cam.shape == x.shape[-2:] and float(cam.max()) == pytest.approx(1.0)
        assert target == int(model(x).argmax())
        lost = occlusion(model, x, target).flatten()
        at_peak.append(float(lost[cam.argmax()]))
        at_trough.append(float(lost[cam.argmin()]))
    # hiding the patch Grad-CAM points at costs the class several times what hiding its least
    # important patch does, in most samples
    assert np.mean(at_peak) > 3 * np.mean(at_trough)
    assert np.mean(np.array(at_peak) > np.array(at_trough)) >= 0.7


def test_saliency_of_an_mlp_has_the_input_shape():
    torch.manual_seed(0)
    graph = chain("Flatten", ("Linear", {"out_features": 10}))
    model = compile_graph(graph)
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 2, 3] = 1.0
    found, target = saliency(model, x, target=4)
    weights = model.get_submodule(next(n for n, m in model.named_children() if isinstance(m, torch.nn.Linear))).weight
    expected = weights[4].abs().reshape(8, 8)
    # a linear model's input gradient is its class's weights
    assert target == 4 and found.shape == (8, 8)
    assert torch.allclose(found, expected / expected.max(), atol=1e-6)
    with pytest.raises(InsightError, match="class 12 does not exist"):
        saliency(model, x, target=12)


def test_truncated_model_computes_the_layer_value():
    torch.manual_seed(0)
    graph = lenet()
    model = compile_graph(graph).eval()
    x = torch.randn(3, 1, 8, 8)
    assert truncated(model, "pool1")(x).shape == (3, 6, 4, 4)
    assert torch.allclose(layer_features(model, "fc3", x), model(x))
    with pytest.raises(InsightError, match="nothing is not a layer"):
        truncated(model, "nothing")
    assert classifier_features(graph) == "relu4"


def test_pca_finds_the_direction_of_largest_variance():
    g = torch.Generator().manual_seed(0)
    along = torch.randn(200, 1, generator=g) * 10
    features = torch.cat([along, torch.randn(200, 4, generator=g) * 0.1], dim=1)
    found = pca(features)
    assert found.explained[0] > 0.99
    assert abs(np.corrcoef(found.points[:, 0], along[:, 0].numpy())[0, 1]) > 0.999


@pytest.mark.slow
def test_attention_rows_sum_to_one_per_head(tmp_path):
    graph = chain(("MultiheadAttention", {"num_heads": 2}),
                  ("TransformerEncoderLayer", {"nhead": 4, "dim_feedforward": 16}),
                  "Flatten", ("Linear", {"out_features": 10}), input_shape=(8, 8))
    graph.training = {"dataset": "digits", "dataset_options": {"as_sequence": True}, "epochs": 1,
                      "probe_every": 5, "batch_size": 64}
    messages, _ = worker_run(graph, tmp_path)
    maps = [m for m in messages if isinstance(m, AttentionMaps)]
    layers = {m.layer for m in maps}
    assert layers == {"attn1", "encoder1"}, layers
    for m in maps:
        heads = 2 if m.layer == "attn1" else 4
        assert m.weights.shape == (heads, 8, 8)
        assert np.allclose(m.weights.sum(axis=-1), 1.0, atol=1e-5)
        assert (m.weights >= 0).all()


@pytest.mark.slow
def test_word2vec_embeddings_and_their_nearest_tokens(tmp_path):
    graph = load_graph(resources.example("word2vec_skipgram.loom"))
    messages, model = worker_run(graph, tmp_path, epochs=2)
    spaces = [m for m in messages if isinstance(m, EmbeddingSpace)]
    assert [s.epoch for s in spaces] == [1, 2]
    space = spaces[-1]
    assert space.layer == "vectors" and space.vectors.shape == (205, 32) and space.points.shape == (205, 2)
    vectors = embedding_vectors(model, "vectors").vectors
    assert np.allclose(vectors, space.vectors)
    found = nearest(vectors, 7, count=5)
    assert len(found) == 5 and 7 not in [i for i, _ in found]
    similarities = [s for _, s in found]
    assert similarities == sorted(similarities, reverse=True)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert similarities[0] == pytest.approx(float(np.delete(unit @ unit[7], 7).max()), abs=1e-5)


def test_a_feature_layer_the_graph_lacks_falls_back_to_the_classifier_features():
    from engine.training.probes import feature_space
    graph = lenet()
    model = compile_graph(graph)
    x = torch.randn(40, 1, 8, 8)
    y = torch.arange(40) % 4
    found = feature_space(3, model, graph, x, y, "no_such_layer")
    assert found.layer == "relu4" and found.points.shape == (40, 2)
    assert feature_space(3, model, graph, x, y, "pool1").layer == "pool1"
    assert check(graph).ok


def test_attention_probe_stays_within_its_budget(monkeypatch):
    from engine.training import probes
    graph = chain(("MultiheadAttention", {"num_heads": 2}), ("MultiheadAttention", {"num_heads": 2}),
                  input_shape=(8, 8))
    model = compile_graph(graph)
    batch = torch.randn(4, 8, 8)
    assert [m.layer for m in probes.attention_maps(7, model, batch, 2)] == ["attn1", "attn2"]
    monkeypatch.setattr(probes, "MAX_ATTENTION_VALUES", 2 * 8 * 8)      # room for one layer's heads
    kept = probes.attention_maps(7, model, batch, 2)
    assert [m.layer for m in kept] == ["attn1"] and kept[0].sample == 2 and kept[0].step == 7


def test_grad_cam_looks_at_the_last_block_of_convolutions():
    """In a network built from blocks (a ResNet stage), the last block's output is the map."""
    graph = residual_graph(repeat=2)
    model = compile_graph(graph).eval()
    x = torch.randn(1, 4, 8, 8)
    assert grad_cam_layer(model, graph, x) == "layer1"
    cam, _ = grad_cam(model, "layer1", x)
    assert cam.shape == (8, 8)
    mlp = chain("Flatten", ("Linear", {"out_features": 10}))
    assert grad_cam_layer(compile_graph(mlp), mlp, torch.randn(1, 1, 8, 8)) is None     # saliency instead
