"""timm's models (the ``zoo`` extra), random weights and small inputs: a few families whose
import needed the training-mode fixes or the traced defaults. Each must be the same model in
both modes, with the same parameter count."""

import warnings

import pytest
import torch

from engine import check, compile_graph, import_module
from engine.interop.fidelity import verify_same_training

timm = pytest.importorskip("timm")


def every_type(graph) -> set[str]:
    return {n.type for n in graph.nodes.values()} | {n.type for b in graph.blocks.values() for n in b.nodes.values()}


def functions(graph) -> set[str]:
    return {n.params["op"] for g in (graph, *graph.blocks.values()) for n in g.nodes.values() if n.type == "Function"}


# name -> (create_model arguments, input side, layer types the graph must hold)
FAMILIES = {
    "resnet18d": ({"drop_path_rate": 0.2}, 32, {"StochasticDepth", "BatchNorm2d"}),
    "efficientnet_b0": ({}, 32, {"BatchNorm2d", "SiLU"}),
    "convnext_atto": ({}, 32, {"Conv2d"}),
    "vit_tiny_patch16_224": ({"img_size": 32, "patch_size": 8, "depth": 2, "drop_path_rate": 0.1}, 32,
                             {"StochasticDepth", "Linear", "Parameter"}),
}


@pytest.mark.parametrize("name", list(FAMILIES))
def test_timm_families_import_the_same_in_both_modes(name):
    arguments, side, types = FAMILIES[name]
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = timm.create_model(name, pretrained=False, num_classes=5, **arguments).eval()
    with torch.no_grad():       # weights made distinct (norms start as all ones) so that they pair by value below
        for p in model.parameters():
            p.mul_(1 + 1e-3 * torch.rand_like(p))
    x = torch.randn(1, 3, side, side)
    graph, state = import_module(model, x, tolerance=1e-4)
    assert types <= every_type(graph)
    assert "batch_norm" not in functions(graph)          # no BatchNorm frozen into a function call
    assert check(graph).total_params == sum(p.numel() for p in model.parameters())
    compiled = compile_graph(graph)
    compiled.load_state_dict(state)
    assert verify_same_training(model, compiled, (torch.randn(3, 3, side, side),), tolerance=1e-4) == []
