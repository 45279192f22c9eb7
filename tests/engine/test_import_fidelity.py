"""An import is the same model in evaluation AND in training, or it is refused with its cause:
BatchNorm keeps learning its statistics, stochastic depth keeps dropping, a forward that
branches on self.training and tied weights are refused by name, and nothing the importer meets
escapes as a raw exception."""

from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from engine import check, compile_graph
from engine.interop.fidelity import names_by_value, training_differences, verify_same_training
from engine.interop.importer import ImportProblem, import_module
from graphs import dumps_graph, loads_graph


def imported(model: nn.Module, *inputs: torch.Tensor):
    graph, state = import_module(model.eval(), inputs, tolerance=1e-4)
    compiled = compile_graph(loads_graph(dumps_graph(graph)))
    compiled.load_state_dict(state)
    return graph, compiled


def one_training_step(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, dict, dict]:
    model.train()
    model.zero_grad()
    torch.manual_seed(3)
    out = model(x)
    out.square().mean().backward()
    buffers = {k: v.clone() for k, v in model.named_buffers()}
    return out.detach(), buffers, {k: p.grad.clone() for k, p in model.named_parameters()}


class FrozenNorm(nn.BatchNorm2d):
    """What a traced BatchNorm with its evaluating branch baked in computes: always the running
    statistics, never updated."""

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)


def conv_norm(norm: type[nn.Module]) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), norm(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))


def test_the_guard_finds_a_norm_that_never_learns_its_statistics():
    model, frozen = conv_norm(nn.BatchNorm2d), conv_norm(FrozenNorm)
    frozen.load_state_dict(model.state_dict())
    x = torch.randn(4, 3, 8, 8)
    problems = verify_same_training(model, frozen, (x,), tolerance=1e-5)
    assert not any(p.startswith("evaluating") for p in problems)     # the old guard saw nothing
    assert "training: output 1 differs" in problems[0]
    assert any("buffer 1.running_mean differs" in p for p in problems)
    assert any("gradient of 0.weight differs" in p for p in problems)
    assert names_by_value(model, frozen)["1.weight"] == "1.weight"
    same = conv_norm(nn.BatchNorm2d)
    same.load_state_dict(model.state_dict())
    assert verify_same_training(model, same, (x,)) == []
    assert torch.equal(model[1].running_mean, torch.zeros(4))        # the guard puts the statistics back


class NormAct(nn.Module):
    """BatchNorm with its activation, as a block of its own (timm writes it so)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.act = nn.Hardswish()
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        return self.head(self.act(self.bn(self.conv(x))).mean((2, 3)))


def test_batchnorm_with_an_activation_trains_as_the_original():
    model = NormAct()
    _, compiled = imported(model, torch.randn(2, 3, 8, 8))
    x = torch.randn(5, 3, 8, 8)
    expected, got = one_training_step(model, x), one_training_step(compiled, x)
    assert torch.allclose(expected[0], got[0], atol=1e-5)
    assert torch.allclose(expected[1]["bn.running_mean"], got[1]["bn.running_mean"], atol=1e-6)
    assert not torch.equal(got[1]["bn.running_mean"], torch.zeros(6))       # it did learn them
    assert torch.allclose(expected[2]["conv.weight"], got[2]["conv.weight"], atol=1e-5)


def test_timm_batchnorm_act_becomes_a_batchnorm_and_its_activation_that_train():
    timm_layers = pytest.importorskip("timm.layers")
    torch.manual_seed(0)
    model = nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 4, 3), bn=timm_layers.BatchNormAct2d(4, act_layer=nn.SiLU),
                                      flat=nn.Flatten(), fc=nn.Linear(4 * 6 * 6, 2)))
    graph, compiled = imported(model, torch.randn(2, 3, 8, 8))
    assert [graph.nodes[n].type for n in ("bn", "bn_act")] == ["BatchNorm2d", "SiLU"]
    assert graph.blocks == {}
    x = torch.randn(4, 3, 8, 8)
    expected, got = one_training_step(model, x), one_training_step(compiled, x)
    assert torch.allclose(expected[0], got[0], atol=1e-5)
    assert torch.allclose(expected[1]["bn.running_var"], got[1]["bn.running_var"], atol=1e-6)
    assert int(got[1]["bn.num_batches_tracked"]) == 1


class Residual(nn.Module):
    def __init__(self, drop: nn.Module):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.drop = drop

    def forward(self, x):
        return x + self.drop(self.fc(x))


def test_drop_path_becomes_stochastic_depth_that_drops_the_same_samples():
    timm_layers = pytest.importorskip("timm.layers")
    torch.manual_seed(0)
    model = nn.Sequential(Residual(timm_layers.DropPath(0.5)), Residual(timm_layers.DropPath(0.3)), nn.Linear(8, 2))
    graph, compiled = imported(model, torch.randn(2, 8))
    body = graph.blocks["Residual"]
    drop = next(n for n in body.nodes.values() if n.type == "StochasticDepth")
    assert drop.params["mode"] == "row"
    assert sorted(u.params["p"] for u in graph.nodes.values() if u.type == "Residual") == [0.3, 0.5]
    assert training_differences(model, compiled, (torch.randn(16, 8),)) == []
    # and it does drop: some samples of a batch lose the branch while training
    compiled.train()
    first = compiled.get_submodule("n0")
    outputs = first(torch.ones(64, 8))
    assert (outputs == 1.0).all(dim=1).any()


class VAE(nn.Module):
    """Samples only while training: a traced graph would keep the evaluating path."""

    def __init__(self):
        super().__init__()
        self.encode = nn.Linear(8, 8)
        self.decode = nn.Linear(4, 8)

    def forward(self, x):
        mu, log_var = self.encode(x).chunk(2, dim=1)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu) if self.training else mu
        return self.decode(z)


class WithVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.vae = VAE()
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.vae(x))


def test_a_forward_that_branches_on_training_is_refused_by_name():
    with pytest.raises(ImportProblem) as caught:
        import_module(WithVAE(), torch.randn(2, 8))
    assert caught.value.problems[0].startswith("vae (VAE) takes another path while training")
    with pytest.raises(ImportProblem, match="^cannot import this module exactly:\n  VAE takes another path"):
        import_module(VAE(), torch.randn(2, 8))


class TinyGPT(nn.Module):
    """A language model whose output layer reads the token embedding (tied weights)."""

    def __init__(self, vocab=50, dim=16):
        super().__init__()
        self.wte = nn.Embedding(vocab, dim)
        self.block = nn.TransformerEncoderLayer(dim, 2, 32, dropout=0.0, batch_first=True)
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        self.lm_head.weight = self.wte.weight

    def forward(self, ids):
        return self.lm_head(self.block(self.wte(ids)))


def test_tied_weights_stay_one_tensor_in_graph_weights_and_code(tmp_path):
    from safetensors.torch import load_file, save_file

    from engine.interop.exporter import python_source
    torch.manual_seed(0)
    model = TinyGPT()
    ids = torch.randint(0, 50, (2, 6))
    graph, state = import_module(model, ids)
    # both layers read one Parameter node: wte(ids) is F.embedding(ids, wte_weight), lm_head F.linear(h, wte_weight)
    reads = {n.id: [e.src for e in graph.in_edges(n.id)] for n in graph.nodes.values() if n.type == "Function"}
    assert reads == {"wte": ["ids", "wte_weight"], "lm_head": ["block", "wte_weight"]}
    assert check(graph).total_params == sum(p.numel() for p in model.parameters()) == 3024
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp_path / "gpt.safetensors"))
    weights = load_file(str(tmp_path / "gpt.safetensors"))
    assert [k for k in weights if k.startswith(("wte", "lm_head"))] == ["wte_weight"]
    compiled = compile_graph(graph)
    compiled.load_state_dict(weights)
    assert sum(p.numel() for p in compiled.parameters()) == 3024
    source = python_source(graph)
    assert source.count("self.wte_weight = nn.Parameter(") == 1 and source.count("wte_weight, None)") == 2
    namespace: dict = {"__name__": "exported"}
    exec(compile(source, "exported.py", "exec"), namespace)
    exported = namespace[type(compiled).__name__]().eval()
    exported.load_state_dict(weights)
    with torch.no_grad():
        assert torch.allclose(exported(ids), model.eval()(ids), atol=1e-5)
    # a step of training moves the one tensor by both layers' gradients, as in the model
    assert training_differences(model, compiled, (torch.randint(0, 50, (4, 6)),)) == []


class Embedder(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(50, 16)
        self.norm = nn.LayerNorm(16)

    def forward(self, ids):
        return self.norm(self.wte(ids))


class TiedAcrossBlocks(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = Embedder()
        self.lm_head = nn.Linear(16, 50, bias=False)
        self.lm_head.weight = self.embed.wte.weight

    def forward(self, ids):
        return self.lm_head(self.embed(ids))


def test_a_tie_across_a_block_boundary_is_refused_naming_the_tie():
    with pytest.raises(ImportProblem) as caught:
        import_module(TiedAcrossBlocks(), torch.randint(0, 50, (2, 6)))
    assert caught.value.problems[-1] == ("lm_head (Linear): its weight weight is the same tensor as embed.wte.weight "
                                         "(tied weights) in another block: a block's body cannot read a weight outside it")


class IdentityAdd(nn.Module):
    """poolformer's and HRNet's form: an Identity scale on the residual, added to a branch."""

    def __init__(self):
        super().__init__()
        self.res_scale1 = nn.Identity()
        self.norm1 = nn.GroupNorm(1, 4)
        self.mix = nn.Conv2d(4, 4, 1)
        self.norm2 = nn.GroupNorm(1, 4)

    def forward(self, x):
        x = self.res_scale1(x) + self.mix(self.norm1(x))
        return self.norm2(x)


def test_an_identity_added_to_a_branch_imports_exactly():
    model = IdentityAdd()
    graph, compiled = imported(model, torch.randn(2, 4, 5, 5))
    assert check(graph).ok
    x = torch.randn(3, 4, 5, 5)
    with torch.no_grad():
        assert torch.allclose(model.eval()(x), compiled.eval()(x), atol=1e-6)


class Raises(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        raise RuntimeError("this model is broken")


def test_what_raises_inside_becomes_an_import_problem():
    with pytest.raises(ImportProblem, match="this model is broken"):
        import_module(Raises(), torch.randn(2, 4))


class Head(nn.Module):
    """timm's classifier head: a flag with a default, traced with its value."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 3)

    def forward(self, x, pre_logits: bool = False):
        x = x.mean(1)
        return x if pre_logits else self.fc(x)


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x, mask=None, scale: float = 1.0):
        x = self.fc(x) * scale
        return x if mask is None else x * mask


class WithFlags(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Scaled()
        self.b = Scaled()
        self.head = Head()

    def forward(self, x, attn_mask=None):
        x = self.a(x, scale=0.5)
        x = self.b(x, mask=torch.sigmoid(x))
        return self.head(x)


def test_optional_arguments_take_their_defaults_and_keywords_reach_blocks():
    model = WithFlags()
    graph, compiled = imported(model, torch.randn(2, 5, 8))
    assert graph.inputs() == ["x"]
    uses = {n.id: n.type for n in graph.nodes.values() if n.type in graph.blocks}
    assert uses == {"a": "Scaled", "b": "Scaled2", "head": "Head"}
    assert [graph.blocks[uses[u]].inputs() for u in ("a", "b")] == [["x"], ["x", "mask"]]
    x = torch.randn(4, 5, 8)
    with torch.no_grad():
        assert torch.allclose(model(x), compiled.eval()(x), atol=1e-6)


def test_a_dict_result_becomes_outputs_named_by_its_keys():
    from torchvision.models.segmentation import lraspp_mobilenet_v3_large
    torch.manual_seed(0)
    model = lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=3)
    graph, compiled = imported(model, torch.randn(1, 3, 32, 32))
    assert [n for n in graph.nodes if graph.nodes[n].type == "Output"] == ["out"]
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model.eval()(x)["out"], compiled.eval()(x), atol=1e-4)


def test_a_video_model_imports_with_three_dimensional_layers():
    from torchvision.models.video import r3d_18
    torch.manual_seed(0)
    model = r3d_18(weights=None, num_classes=4)
    graph, compiled = imported(model, torch.randn(1, 3, 2, 16, 16))
    types = {n.type for n in graph.nodes.values()} | {n.type for b in graph.blocks.values() for n in b.nodes.values()}
    assert {"Conv3d", "BatchNorm3d", "AdaptiveAvgPool3d"} <= types
    assert check(graph).total_params == sum(p.numel() for p in model.parameters())
    assert training_differences(model, compiled, (torch.randn(2, 3, 2, 16, 16),), tolerance=1e-4) == []


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(8, 16)
        layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.2, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(16), enable_nested_tensor=False)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.encoder(self.embed(x))[:, 0])


def test_a_transformer_encoder_stack_is_a_block_of_its_layers_and_trains_the_same():
    torch.manual_seed(0)
    model = Encoder()
    graph, compiled = imported(model, torch.randn(2, 5, 8))
    assert graph.nodes["encoder"].type == "TransformerEncoder"
    body = graph.blocks["TransformerEncoder"]
    assert [body.nodes[n].type for n in body.nodes] == ["Input", "TransformerEncoderLayer", "TransformerEncoderLayer",
                                                        "LayerNorm", "Output"]
    assert check(graph).total_params == sum(p.numel() for p in model.parameters())
    # dropout inside the layers draws the same masks in both (pinned per layer by name)
    assert training_differences(model, compiled, (torch.randn(4, 5, 8),)) == []


class Translator(nn.Module):
    """An encoder-decoder: the decoder attends to the encoded source while it reads the target."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(8, 16)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, dropout=0.2, batch_first=True), 1,
                                             enable_nested_tensor=False)
        layer = nn.TransformerDecoderLayer(16, 2, 32, dropout=0.2, batch_first=True)
        self.decoder = nn.TransformerDecoder(layer, 2, norm=nn.LayerNorm(16))
        self.head = nn.Linear(16, 3)

    def forward(self, source, target):
        return self.head(self.decoder(target, self.encoder(self.embed(source))))


def test_a_transformer_decoder_stack_takes_target_and_memory_and_trains_the_same():
    torch.manual_seed(0)
    model = Translator()
    graph, compiled = imported(model, torch.randn(2, 6, 8), torch.randn(2, 4, 16))
    assert graph.nodes["decoder"].type == "TransformerDecoder"
    body = graph.blocks["TransformerDecoder"]
    assert [body.nodes[n].type for n in body.nodes] == ["Input", "Input", "TransformerDecoderLayer",
                                                        "TransformerDecoderLayer", "LayerNorm", "Output"]
    # every decoder layer reads the memory, which comes from the encoder
    assert {(e.src, e.dst_port) for e in body.edges if e.dst.startswith("layers")} == {
        ("x", "in"), ("layers_0", "in"), ("memory", "memory")}
    assert {(e.src, e.dst_port) for e in graph.edges if e.dst == "decoder"} == {("target", "x"), ("encoder", "memory")}
    assert check(graph).total_params == sum(p.numel() for p in model.parameters())
    source, target = torch.randn(3, 6, 8), torch.randn(3, 4, 16)
    with torch.no_grad():
        assert torch.allclose(compiled.eval()(source, target), model.eval()(source, target), atol=1e-5)
    # both modes, with dropout drawing the same masks: outputs, gradients of every weight
    assert verify_same_training(model, compiled, (source, target), tolerance=1e-5) == []


class DecoderLayerOnly(nn.Module):
    def __init__(self):
        super().__init__()
        self.memory = nn.Linear(8, 16)
        self.layer = nn.TransformerDecoderLayer(16, 4, 24, dropout=0.1, activation="gelu", norm_first=True,
                                                batch_first=True)

    def forward(self, x, m):
        return self.layer(x, self.memory(m))


def test_a_decoder_layer_is_one_node_with_a_memory_input_and_masks_are_refused_by_name():
    torch.manual_seed(0)
    model = DecoderLayerOnly()
    graph, compiled = imported(model, torch.randn(2, 5, 16), torch.randn(2, 3, 8))
    node = graph.nodes["layer"]
    assert node.type == "TransformerDecoderLayer"
    assert (node.params["nhead"], node.params["dim_feedforward"], node.params["activation"], node.params["norm_first"]) \
        == (4, 24, "gelu", True)
    assert {(e.src, e.dst_port) for e in graph.edges if e.dst == "layer"} == {("x", "in"), ("memory", "memory")}
    assert training_differences(model, compiled, (torch.randn(3, 5, 16), torch.randn(3, 3, 8))) == []

    class Masked(DecoderLayerOnly):
        def __init__(self):
            super().__init__()
            self.register_buffer("causal", torch.full((5, 5), float("-inf")).triu(1))

        def forward(self, x, m):
            return self.layer(x, self.memory(m), tgt_mask=self.causal)

    with pytest.raises(ImportProblem, match=r"layer \(TransformerDecoderLayer\): masks"):
        import_module(Masked().eval(), (torch.randn(2, 5, 16), torch.randn(2, 3, 8)), tracer="fx")
