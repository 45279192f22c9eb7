"""Importing torchvision's ResNet-50: how long the import, a check and a compile take.

    python -m bench.import_resnet50

The baseline is torch.fx's own symbolic trace of the same model, in the same process; the
import's time includes its exactness check (compile and compare outputs on one input).
"""

import time

import torch
import torchvision
from torch import fx

from engine import Checker, compile_graph
from engine.interop.importer import import_module


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main():
    torch.manual_seed(0)
    model = torchvision.models.resnet50(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    trace_s, _ = timed(lambda: fx.symbolic_trace(model))
    import_s, (graph, state) = timed(lambda: import_module(model, x))
    unchecked_s, _ = timed(lambda: import_module(model, x, check_outputs=False))
    check_s, report = timed(lambda: Checker().check(graph))
    compile_s, compiled = timed(lambda: compile_graph(graph, report))
    uses = sum(1 for n in graph.nodes.values() if n.type in graph.blocks)
    print(f"resnet50: {len(graph.nodes)} top-level nodes ({uses} block uses of {len(graph.blocks)} definitions), "
          f"{report.total_params:,} parameters, "
          f"{report.total_macs / 1e9:.2f} G multiply-adds per image")
    print(f"torch.fx symbolic trace (baseline):      {trace_s * 1000:8.0f} ms")
    print(f"import without the exactness check:      {unchecked_s * 1000:8.0f} ms  ({unchecked_s / trace_s:.1f}x the trace)")
    print(f"import with the exactness check:         {import_s * 1000:8.0f} ms")
    print(f"check (shapes, parameters, MACs):        {check_s * 1000:8.0f} ms")
    print(f"compile to a GraphModule:                {compile_s * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
