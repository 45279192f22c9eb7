"""Importing Hugging Face transformers models (tiny configurations) with each tracer.

    python -m bench.import_zoo_transformers [--only NAME,NAME] [--tracer auto|fx|export|both]
    python -m bench.import_zoo_transformers --tracer both --only torchvision:resnet18,torchvision:vit_b_16

For each model of ``engine.interop.transformer_models`` (random weights, its example input: one
sequence of 8 token ids, a 32x32 image, audio), and two default configurations that must be
refused (GPT-2's language-model head ties its weights to the embedding; Wav2Vec2 drops layers at
random while training): whether it imported, or the first reason; "exact in eval", the compiled
graph against the model on a fresh input of 3 samples; "exact in train", one training step with
the random numbers pinned (``bench.training_parity``: outputs, buffers, gradients); the import
time and its ratio to ``torch.export.export`` of the same model in the same process; the
top-level nodes; and block definitions / uses. A summary line per tracer. ``torchvision:NAME``
models (one 3x224x224 image) can be named too, to compare the tracers where both work.
"""

from __future__ import annotations

import argparse
import functools
import gc
import time
from collections.abc import Callable

import torch
from torch import nn
from torch.utils import _pytree as pytree

TOLERANCE = 1e-5


def _refused_defaults() -> dict[str, Callable[[], tuple[nn.Module, tuple]]]:
    """Default configurations an exact import must refuse, with the example input of their kind."""
    import transformers

    def gpt2_lm():
        config = transformers.GPT2Config(vocab_size=100, n_embd=32, n_layer=2, n_head=2, n_positions=64, use_cache=False,
                                         bos_token_id=0, eos_token_id=0)
        return transformers.GPT2LMHeadModel(config), (torch.randint(1, 100, (1, 8)),)

    def wav2vec2_layerdrop():
        config = transformers.Wav2Vec2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                             intermediate_size=37, conv_dim=(16, 16), conv_stride=(5, 2),
                                             conv_kernel=(10, 3), num_conv_pos_embeddings=16,
                                             num_conv_pos_embedding_groups=2)
        return transformers.Wav2Vec2Model(config), (torch.randn(1, 400),)

    return {"gpt2-lm (tied head)": gpt2_lm, "wav2vec2 (LayerDrop)": wav2vec2_layerdrop}


def models() -> dict[str, Callable[[], tuple[nn.Module, tuple]]]:
    from engine.interop.transformer_models import MODELS, tiny_transformer
    found = {name: functools.partial(tiny_transformer, name) for name in MODELS}
    return found | _refused_defaults()


def fresh(examples: tuple, batch: int = 3) -> tuple:
    """Inputs of the examples' kind the import never saw, at another batch size."""
    torch.manual_seed(7)
    return tuple(torch.randint(1, 100, (batch, *t.shape[1:])) if not t.is_floating_point()
                 else torch.randn(batch, *t.shape[1:]) for t in examples)


def eval_difference(module: nn.Module, graph, state, inputs: tuple) -> str | None:
    from engine import compile_graph
    compiled = compile_graph(graph).eval()
    compiled.load_state_dict(state)
    was_training = module.training
    with torch.no_grad():
        expected = [t for t in pytree.tree_leaves(module.eval()(*inputs)) if isinstance(t, torch.Tensor)]
        got = compiled(*inputs)
    module.train(was_training)
    got = list(got) if isinstance(got, tuple) else [got]
    for i, (e, g) in enumerate(zip(expected, got)):
        difference = float((e.double() - g.double()).abs().max())
        if difference > TOLERANCE * max(1.0, float(e.abs().max())):
            return f"output {i + 1} differs by {difference:.3g}"
    return None if len(expected) == len(got) else f"{len(got)} outputs, not {len(expected)}"


def baseline_seconds(module: nn.Module, examples: tuple) -> float:
    """torch.export.export of the same model, as it is (evaluating)."""
    module.eval()
    start = time.perf_counter()
    try:
        torch.export.export(module, examples)
    except Exception:            # the baseline itself fails: the import will say why
        pass
    return time.perf_counter() - start


def try_model(build: Callable[[], tuple[nn.Module, tuple]], tracer: str) -> dict:
    from bench.training_parity import train_difference
    from engine.interop.importer import ImportProblem, import_module
    from graphs.blocks import block_uses

    module, examples = build()
    examples = (examples,) if isinstance(examples, torch.Tensor) else examples
    row: dict = {"export_s": baseline_seconds(module, examples)}
    start = time.perf_counter()
    try:
        graph, state = import_module(module, examples, tracer=tracer)
    except ImportProblem as problem:
        row.update(import_s=time.perf_counter() - start, result=problem.problems[0])
        return row
    row["import_s"] = time.perf_counter() - start
    uses = sum(len(block_uses(graph, name)) for name in graph.blocks)
    row.update(result="imported", nodes=len(graph.nodes), blocks=f"{len(graph.blocks)}/{uses}",
               eval=eval_difference(module, graph, state, fresh(examples)) or "exact",
               train=train_difference(module, graph, state, fresh(examples, 2), TOLERANCE) or "exact")
    return row


def run(names: list[str], tracers: list[str]) -> None:
    from engine.interop.model_sources import load_source_module

    torch.export.export(nn.Linear(2, 2), (torch.randn(1, 2),))      # the first export pays for warming up
    found = models()
    found.update({name: functools.partial(load_source_module, name, None) for name in names if name not in found})
    print(f"{'model':30} {'tracer':7} {'eval':6} {'train':6} {'import':>8} {'x export':>8} {'nodes':>5} "
          f"{'blocks':>7}  result")
    for tracer in tracers:
        counts = {"imported": 0, "eval": 0, "train": 0}
        ratios = []
        for name in names:
            row = try_model(found[name], tracer)
            imported = row["result"] == "imported"
            eval_ok, train_ok = imported and row["eval"] == "exact", imported and row["train"] == "exact"
            counts["imported"] += imported
            counts["eval"] += eval_ok
            counts["train"] += train_ok
            ratio = row["import_s"] / row["export_s"] if row["export_s"] > 0 else float("nan")
            if imported:
                ratios.append(ratio)
            result = row["result"] if not imported else "; ".join(
                [f"eval: {row['eval']}"] * (not eval_ok) + [f"train: {row['train']}"] * (not train_ok)) or "exact"
            print(f"{name:30} {tracer:7} {'yes' if eval_ok else '-':6} {'yes' if train_ok else '-':6} "
                  f"{row['import_s']:7.2f}s {ratio:7.1f}x {row.get('nodes', ''):>5} {row.get('blocks', ''):>7}  "
                  f"{result[:160]}", flush=True)
            gc.collect()
        median = sorted(ratios)[len(ratios) // 2] if ratios else float("nan")
        print(f"{tracer}: {counts['imported']}/{len(names)} imported, {counts['eval']} exact in eval, "
              f"{counts['train']} exact in train; import time median {median:.1f}x torch.export.export", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated model names")
    parser.add_argument("--tracer", default="auto", choices=("auto", "fx", "export", "both"),
                        help="both: each model with fx, then with export")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(models())
    unknown = [n for n in names if n not in models() and not n.startswith("torchvision:")]
    if unknown:
        parser.error(f"no model {unknown[0]!r}; there are {', '.join(models())} and torchvision:NAME")
    run(names, ["fx", "export"] if args.tracer == "both" else [args.tracer])


if __name__ == "__main__":
    main()
