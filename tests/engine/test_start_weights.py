"""The weights a graph starts from: reading them safely, the document's record of them, and how
they fit, tensor by tensor and node by node."""

import hashlib
import os
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from engine import check, compile_graph
from engine.checking import fit_diagnostics
from engine.data import load_dataset
from engine.interop import (
    MISSING,
    SHAPE,
    UNEXPECTED,
    WeightsError,
    load_start_weights,
    moved_start_entry,
    read_weights,
    resolve_start,
    start_entry,
    start_weight_diagnostics,
    weight_files,
    weights_fit,
)
from graphs import AdaptHead, SetParam, StartFresh
from graphs.editing import adapt_head_edit
from tests.helpers import lenet


def lenet_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    return {k: v.clone() for k, v in compile_graph(lenet()).state_dict().items()}


def test_a_safetensors_file_is_read_with_its_checksum(tmp_path):
    path = tmp_path / "w.safetensors"
    save_file(lenet_state(), path)
    weights = read_weights(path)
    assert weights.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert weights.shapes["fc3.weight"] == (10, 84) and len(weights.tensors) == 12     # with the Normalize statistics
    assert read_weights(path, weights.sha256).tensors.keys() == weights.tensors.keys()


def test_a_changed_weights_file_is_said_plainly(tmp_path):
    path = tmp_path / "w.safetensors"
    save_file(lenet_state(), path)
    recorded = read_weights(path).sha256
    state = lenet_state()
    state["fc3.bias"] += 1
    save_file(state, path)              # replaced by other weights under the same name
    with pytest.raises(WeightsError, match=r"w.safetensors: this is not the file the graph was set to start from: its "
                                           r"contents changed since \(SHA-256 [0-9a-f]{12}\.\.\. instead of "
                                           rf"{recorded[:12]}\.\.\.\)\. If the new contents are meant, choose the file "
                                           "again as the start weights"):
        read_weights(path, recorded)


def test_a_pytorch_state_dict_is_read_with_weights_only(tmp_path):
    path = tmp_path / "w.pt"
    torch.save(lenet_state(), path)
    assert read_weights(path).shapes["conv1.weight"] == (6, 1, 3, 3)
    nested = tmp_path / "checkpoint.pth"
    torch.save({"epoch": 7, "state_dict": lenet_state(), "optimizer": {"lr": 0.1}}, nested)
    assert set(read_weights(nested).tensors) == set(lenet_state())


class Payload:
    """What a hostile .pt file would carry: unpickling it would run code."""

    def __reduce__(self):
        return (os.system, ("echo owned > owned.txt",))


def test_a_pickle_payload_is_refused_and_never_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"fc1.weight": Payload()}, protocol=2))
    with pytest.raises(WeightsError, match="evil.pt: holds Python objects, not plain tensors; NetLoom never runs code "
                                           "from a weights file"):
        read_weights(path)
    torch.save({"fc1.weight": Payload()}, tmp_path / "evil2.pt")
    with pytest.raises(WeightsError, match="holds Python objects"):
        read_weights(tmp_path / "evil2.pt")
    assert not (tmp_path / "owned.txt").exists()


def test_what_is_not_a_weights_file_is_refused_by_name(tmp_path, monkeypatch):
    with pytest.raises(WeightsError, match=r"weights file .*missing.safetensors does not exist"):
        read_weights(tmp_path / "missing.safetensors")
    with pytest.raises(WeightsError, match=r"is a folder; name a weights file"):
        read_weights(tmp_path)
    if Path("/dev/zero").exists():
        with pytest.raises(WeightsError, match=r"/dev/zero: is not a regular file"):
            read_weights("/dev/zero")
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    with pytest.raises(WeightsError, match="notes.pt: not a weights file NetLoom can read"):
        read_weights(text)
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(WeightsError, match="list.pt: holds list, not a state dict"):
        read_weights(tmp_path / "list.pt")
    big = tmp_path / "big.safetensors"
    save_file(lenet_state(), big)
    monkeypatch.setattr(weight_files, "MAX_WEIGHTS_BYTES", 1000)
    with pytest.raises(WeightsError, match=r"big.safetensors: is .*; a weights file is read up to 1,000 bytes"):
        read_weights(big)


def test_the_document_records_the_path_from_its_file_and_the_checksum(tmp_path):
    (tmp_path / "weights").mkdir()
    path = tmp_path / "weights" / "w.safetensors"
    save_file(lenet_state(), path)
    entry = start_entry(path, tmp_path / "model.loom", ([0.5], [0.25]), "a NetLoom run")
    assert entry == {"path": os.path.join("weights", "w.safetensors"), "sha256": read_weights(path).sha256,
                     "mean": [0.5], "std": [0.25], "source": "a NetLoom run"}
    assert resolve_start(entry, tmp_path) == path
    assert start_entry(path, None)["path"] == str(path.resolve())      # an untitled graph: the full path
    (tmp_path / "elsewhere").mkdir()
    moved = moved_start_entry(entry, tmp_path / "model.loom", tmp_path / "elsewhere" / "copy.loom")   # Save As
    assert moved == entry | {"path": os.path.join("..", "weights", "w.safetensors")}
    assert resolve_start(moved, tmp_path / "elsewhere").resolve() == path.resolve()


def test_tensors_that_fit_are_loaded_and_each_other_one_is_reported_with_its_node(tmp_path):
    state = lenet_state()
    state["fc1.weight"] = torch.zeros(120, 99)          # another shape
    del state["conv2.bias"]                             # missing
    state["head.weight"] = torch.zeros(3)               # no node has it
    path = tmp_path / "w.safetensors"
    save_file(state, path)
    graph = lenet()
    torch.manual_seed(5)
    model = compile_graph(graph)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fit = load_start_weights(model, graph, read_weights(path))
    assert [(m.name, m.node, m.problem) for m in fit.mismatches] == [
        ("conv2.bias", "conv2", MISSING), ("fc1.weight", "fc1", SHAPE), ("head.weight", None, UNEXPECTED)]
    assert [str(m) for m in fit.mismatches] == [
        "conv2.bias (conv2): missing from the file, so it starts from fresh weights",
        "fc1.weight (fc1): wrong shape, 120x99 in the file but 120x64 in the graph",
        "head.weight: unexpected, the graph has no such tensor"]
    assert fit.summary() == ("8 of the file's 12 tensors loaded, 2 input statistics set by the normalize setting "
                             "instead, 1 of the wrong shape, 1 missing from the file, "
                             "1 unexpected")
    after = model.state_dict()
    assert torch.equal(after["conv1.weight"], state["conv1.weight"])          # loaded
    assert torch.equal(after["fc1.weight"], before["fc1.weight"])             # kept its fresh weights
    assert torch.equal(after["conv2.bias"], before["conv2.bias"])


def test_a_fresh_head_leaves_its_tensors_out_as_replaced_not_as_errors(tmp_path):
    path = tmp_path / "w.safetensors"
    save_file(lenet_state(), path)
    graph = lenet()
    graph.apply(adapt_head_edit(graph, "fc3", 5))
    model = compile_graph(graph)
    fit = load_start_weights(model, graph, read_weights(path))
    assert fit.replaced == ("fc3.weight", "fc3.bias") and fit.mismatches == ()
    assert model.fc3.weight.shape == (5, 84) and len(fit.loaded) == 8


def test_weights_of_another_network_are_refused(tmp_path):
    path = tmp_path / "w.safetensors"
    save_file({"encoder.weight": torch.zeros(4, 4)}, path)
    with pytest.raises(WeightsError, match=r"none of its 1 tensors fits this graph \(encoder.weight: unexpected"):
        load_start_weights(compile_graph(lenet()), lenet(), read_weights(path))


def test_the_check_marks_a_wrong_shape_on_its_node_and_offers_a_fresh_start():
    graph = lenet()
    state = {k: tuple(v.shape) for k, v in lenet_state().items()}
    state["conv2.weight"] = (16, 6, 5, 5)
    report = check(graph)
    found = start_weight_diagnostics(graph, weights_fit(graph, report, state), "w.safetensors")
    assert [(d.severity, d.node) for d in found] == [("warning", "conv2")]
    assert found[0].message == ("conv2: the start weights w.safetensors hold conv2.weight as 16x6x5x5 where it is "
                                "16x6x3x3: those start from fresh weights")
    assert found[0].fix == StartFresh("conv2")
    graph.apply(found[0].fix.edit(graph))
    assert start_weight_diagnostics(graph, weights_fit(graph, check(graph), state), "w.safetensors") == []
    nothing = start_weight_diagnostics(graph, weights_fit(graph, report, {"x.weight": (2, 2)}), "w.safetensors")
    assert [(d.severity, d.message) for d in nothing] == [
        ("error", "none of the 1 tensors of the start weights w.safetensors fits this graph: weights of another "
                  "network?")]


def test_the_data_fit_check_offers_adapt_to_data_set_when_the_graph_starts_from_weights():
    graph = lenet()
    five = load_dataset("digits", class_subset=[5, 6, 7, 8, 9])
    [plain] = fit_diagnostics(graph, check(graph).shapes, five)
    assert plain.fix == SetParam("fc3", "out_features", 5)
    graph.set_training(graph.training | {"start_from": {"path": "w.safetensors"}})
    [adapt] = fit_diagnostics(graph, check(graph).shapes, five)
    assert adapt.message == "fc3: gives 10 outputs but digits has 5 classes"
    assert adapt.fix == AdaptHead("fc3", 5)
    graph.apply(adapt.fix.edit(graph))
    assert graph.nodes["fc3"].fresh and fit_diagnostics(graph, check(graph).shapes, five) == []
