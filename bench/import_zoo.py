"""Importing every torchvision classification model: which import exactly, and how fast.

    python -m bench.import_zoo [--all] [--only NAME,NAME]
    python -m bench.import_zoo --set transformers [--only NAME,NAME] [--tracer auto|fx|export|both]

For each model (random weights, evaluation mode, one 3x224x224 image; 299 for Inception v3):
the graph's top-level nodes, its parameters against the model's own count, the import time
against torch.fx's own symbolic trace of the model in the same process, and "exact" or the
first reason it failed. Exact means: the same parameter count, outputs equal within 1e-4 of
the model's, and the same outputs again after the graph and its weights are saved and loaded.
Modules that the evaluating forward never runs (GoogLeNet's auxiliary classifiers) are not part
of the traced graph: they are named, and their parameters not counted.
The six largest models (by torchvision's own parameter counts) are left out unless --all.
The transformers set (tiny configurations, exact in evaluation and in training, both tracers)
is ``bench.import_zoo_transformers``.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

import torch
from torch import fx

TOLERANCE = 1e-4
LARGEST_LEFT_OUT = 6


def zoo(include_all: bool) -> list[str]:
    from torchvision import models
    names = models.list_models(module=models)
    if include_all:
        return names
    size = {n: models.get_model_weights(n).DEFAULT.meta["num_params"] for n in names}
    largest = set(sorted(names, key=size.__getitem__)[-LARGEST_LEFT_OUT:])
    return [n for n in names if n not in largest]


def try_model(name: str) -> tuple[str, int, int, float, float]:
    """(verdict, nodes, parameters, import seconds, trace seconds)."""
    from safetensors.torch import load_file, save_file
    from torchvision import models

    from engine import compile_graph, import_module
    from engine.interop.importer import ImportProblem
    from graphs import load_graph, save_graph

    torch.manual_seed(0)
    model = models.get_model(name, weights=None).eval()
    side = 299 if name == "inception_v3" else 224
    x = torch.randn(1, 3, side, side)
    parameters, unused = used_parameters(model, x)
    start = time.perf_counter()
    try:
        fx.symbolic_trace(model)
    except Exception:   # the baseline itself fails: the import will say why
        pass
    trace_s = time.perf_counter() - start
    start = time.perf_counter()
    try:
        graph, state = import_module(model, x, tolerance=TOLERANCE)
    except ImportProblem as problem:
        return problem.problems[0], 0, parameters, time.perf_counter() - start, trace_s
    import_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.loom"
        save_graph(graph, path)
        save_file({k: v.contiguous() for k, v in state.items()}, str(path.with_suffix(".safetensors")))
        loaded = compile_graph(load_graph(path)).eval()
        loaded.load_state_dict(load_file(str(path.with_suffix(".safetensors"))))
    imported = sum(p.numel() for p in loaded.parameters())
    if imported != parameters:
        return f"{imported:,} parameters, not {parameters:,}", len(graph.nodes), parameters, import_s, trace_s
    with torch.no_grad():
        expected, got = model(x), loaded(x)
    difference = float((expected - got).abs().max())
    if difference > TOLERANCE * max(1.0, float(expected.abs().max())):
        return f"after save and load the outputs differ by {difference:g}", len(graph.nodes), parameters, \
            import_s, trace_s
    if unused:
        return f"exact; {', '.join(unused)} never run when evaluating, left out", len(graph.nodes), parameters, \
            import_s, trace_s
    return "exact", len(graph.nodes), parameters, import_s, trace_s


def used_parameters(model: torch.nn.Module, x: torch.Tensor) -> tuple[int, list[str]]:
    """The parameters the evaluating forward uses, and the top modules it never runs (the
    auxiliary classifiers of GoogLeNet and Inception v3 run only while training)."""
    ran: set[str] = set()
    hooks = [m.register_forward_pre_hook(lambda m, a, name=name: ran.add(name)) for name, m in model.named_modules()]
    with torch.no_grad():
        model(x)
    for hook in hooks:
        hook.remove()
    # a container (nn.ModuleList) is never called itself: it ran if anything in it did
    unused = [name for name, _ in model.named_children() if not any(r == name or r.startswith(name + ".") for r in ran)]
    left_out = {id(p) for name in unused for p in model.get_submodule(name).parameters()}
    return sum(p.numel() for p in model.parameters() if id(p) not in left_out), unused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="torchvision", choices=("torchvision", "transformers"))
    parser.add_argument("--all", action="store_true", help="include the six largest models")
    parser.add_argument("--only", help="comma-separated model names")
    args, rest = parser.parse_known_args()
    if args.set == "transformers":
        from bench import import_zoo_transformers
        return import_zoo_transformers.main(rest + (["--only", args.only] if args.only else []))
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    names = args.only.split(",") if args.only else zoo(args.all)
    exact = 0
    print(f"{'model':22} {'nodes':>6} {'parameters':>13} {'import':>8} {'x trace':>8}  result")
    for name in names:
        verdict, nodes, parameters, import_s, trace_s = try_model(name)
        exact += verdict.startswith("exact")
        ratio = f"{import_s / trace_s:7.1f}x" if trace_s > 0 else "       -"
        print(f"{name:22} {nodes:6} {parameters:13,} {import_s:7.2f}s {ratio}  {verdict}", flush=True)
        gc.collect()
    print(f"{exact}/{len(names)} import exactly")


if __name__ == "__main__":
    main()
