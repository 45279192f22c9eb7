"""Hugging Face transformers models (tiny configurations, random weights) imported as graphs."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from bench.training_parity import train_difference
from engine import compile_graph
from engine.interop.importer import ImportProblem, import_module
from graphs import load_graph

pytest.importorskip("transformers")

from engine.interop.transformer_models import tiny_transformer  # noqa: E402  (needs transformers)

ROOT = Path(__file__).resolve().parents[2]


def padded(ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Two sequences, the second with three padding tokens in front, and their attention mask."""
    ids = torch.cat([ids, torch.roll(ids, 1, dims=1)])
    mask = torch.ones_like(ids)
    mask[1, :3] = 0
    return ids, mask


def uses(graph, block: str) -> int:
    bodies = [graph, *graph.blocks.values()]
    return sum(node.type == block for body in bodies for node in body.nodes.values())


def compiled(graph, state):
    model = compile_graph(graph).eval()
    model.load_state_dict(state)
    return model


def test_a_bert_encoder_with_a_padding_mask_reads_as_one_layer_used_twice_and_trains_alike():
    bert, (ids,) = tiny_transformer("bert")
    ids, mask = padded(ids)
    graph, state = import_module(bert, (ids, mask))        # torch.fx cannot trace it: export does
    inputs = [graph.nodes[i].params for i in graph.inputs()]
    assert inputs == [{"shape": [8], "dtype": "int64"}, {"shape": [8], "dtype": "int64"}]
    assert graph.outputs() == ["last_hidden_state", "pooler_output"]
    assert {"BertLayer", "BertSelfAttention", "BertIntermediate"} <= set(graph.blocks)
    assert uses(graph, "BertLayer") == 2 and "BertLayer2" not in graph.blocks
    assert [n.type for n in graph.blocks["BertIntermediate"].nodes.values()] == ["Input", "Linear", "GELU", "Output"]
    model = compiled(graph, state)
    other, other_mask = padded(torch.randint(1, 100, (1, 8)))
    expected = bert.eval()(other, other_mask)
    got = model(other, other_mask)
    assert torch.allclose(got[0], expected.last_hidden_state, atol=1e-5)
    assert torch.allclose(got[1], expected.pooler_output, atol=1e-5)
    # dropout in attention and after each layer draws the same masks; the same gradients
    assert train_difference(bert, graph, state, (ids, mask)) is None


def test_a_llama_decoder_stays_causal_and_trains_alike():
    llama, (ids,) = tiny_transformer("llama")
    ids, mask = padded(ids)
    graph, state = import_module(llama, (ids, mask))
    # one norm definition: twice in the layer's body and once at the end
    assert uses(graph, "LlamaDecoderLayer") == 2 and uses(graph, "LlamaRMSNorm") == 3
    assert sorted(graph.blocks) == ["LlamaAttention", "LlamaDecoderLayer", "LlamaMLP", "LlamaRMSNorm"]
    model = compiled(graph, state)
    ones = torch.ones(1, 8, dtype=torch.int64)
    changed = ids[:1].clone()
    changed[0, -1] = (changed[0, -1] + 1) % 100
    before, after = model(ids[:1], ones), model(changed, ones)
    assert torch.allclose(before[:, :-1], after[:, :-1], atol=1e-6)      # no position sees a later token
    assert not torch.allclose(before[:, -1], after[:, -1])
    assert torch.allclose(after, llama.eval()(changed, ones).last_hidden_state, atol=1e-5)
    assert train_difference(llama, graph, state, (ids, mask)) is None


def test_gpt2_projections_keep_the_batch_axis_and_train_alike():
    gpt2, (ids,) = tiny_transformer("gpt2")
    graph, state = import_module(gpt2, ids)
    assert uses(graph, "GPT2Block") == 2
    # Conv1D's x.view(-1, d) @ W + b merges the batch with the positions; the graph keeps them apart
    assert [(n.type, n.params.get("op")) for n in graph.blocks["Conv1D"].nodes.values()] == [
        ("Input", None), ("Parameter", None), ("Function", "matmul"), ("Parameter", None), ("Function", "add"),
        ("Output", None)]
    assert train_difference(gpt2, graph, state, (ids.repeat(3, 1),)) is None


class Classifier(nn.Module):
    """A wrapper as people write them: the model's logits only."""

    def __init__(self) -> None:
        super().__init__()
        self.model, _ = tiny_transformer("bert-classifier")

    def forward(self, ids):
        return self.model(ids).logits


def test_a_wrapper_refused_by_fx_names_the_model_fx_cannot_trace_and_imports_with_export():
    ids = torch.randint(1, 100, (1, 8))
    with pytest.raises(ImportProblem) as caught:
        import_module(Classifier(), ids, tracer="fx")
    problems = caught.value.problems
    assert problems[0].startswith("torch.fx cannot trace model (BertForSequenceClassification): ")
    assert not any("getattr" in p or "logits" in p for p in problems)
    wrapper = Classifier()
    graph, state = import_module(wrapper, ids)
    assert graph.outputs() == ["output1"] and uses(graph, "BertForSequenceClassification") == 1
    assert torch.allclose(compiled(graph, state)(ids), wrapper.eval()(ids), atol=1e-5)


@pytest.mark.slow     # a command-line process
def test_importing_a_tiny_bert_from_the_command_line(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "import", "transformers:bert", "bert.loom"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("imported transformers:bert: 6 nodes, 20,010 parameters -> bert.loom")
    from safetensors.torch import load_file
    model = compiled(load_graph(tmp_path / "bert.loom"), load_file(tmp_path / "bert.safetensors"))
    bert, (ids,) = tiny_transformer("bert")          # the same seed: the same weights
    assert torch.allclose(model(ids)[0], bert.eval()(ids).last_hidden_state, atol=1e-5)



def test_a_command_line_import_fx_cannot_do_says_why_in_one_line(tmp_path, capsys):
    import main
    assert main.command_line(["import", "transformers:bert", str(tmp_path / "x.loom"), "--tracer", "fx"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot import this module exactly:\n  torch.fx cannot trace BertModel: ")
    assert "Traceback" not in err and not (tmp_path / "x.loom").exists()


def test_a_decoder_that_returns_its_generation_cache_is_refused_with_the_setting_to_change():
    import transformers
    config = transformers.LlamaConfig(vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                      intermediate_size=37, num_key_value_heads=1)     # use_cache: True by default
    with pytest.raises(ImportProblem) as caught:
        import_module(transformers.LlamaModel(config), torch.randint(1, 100, (1, 8)), tracer="export")
    assert caught.value.problems == ["LlamaModel returns its key/value cache for generation (config.use_cache is "
                                     "True), which is not part of the network: set model.config.use_cache = False "
                                     "to import it"]
