"""Export a graph as one standalone PyTorch file, as TorchScript, or as ONNX.

The Python file needs only torch (and safetensors to load weights): an ``nn.Module`` class with
named submodules built by the same constructor calls the compiler uses, and the compiler's own
forward, so the file computes exactly what the compiled graph computes.
"""

from __future__ import annotations

import inspect
import textwrap
import warnings
from pathlib import Path

import torch

from graphs import Graph

from ..checking import Checker, check
from ..compiling import CompileError, class_name, compile_graph, node_ids
from ..layers import OWN_MODULES, TORCH_DTYPES, module_constructor
from ..words import first_line
from .block_export import BlockClasses
from .code_lines import clean_forward, module_line, module_prefix, tensor_lines
from .state_names import original_names, renamed


class ExportError(ValueError):
    """An export that cannot be made; the message says why."""


def _compiled(graph: Graph):
    report = check(graph)
    try:
        return report, compile_graph(graph, report)
    except CompileError as err:
        raise ExportError(str(err)) from None


def python_source(graph: Graph, weights: str | None = None, note: str = "") -> str:
    """The text of a standalone Python file defining the graph's network; ``note`` (what its
    inputs need, ``engine.training.export_note``) goes into its docstring."""
    report, compiled = _compiled(graph)
    name = class_name(graph.name)
    names = original_names(graph, compiled)
    blocks = BlockClasses(graph.blocks, Checker(follow=False))
    blocks.collect(graph, report, compiled)
    wires_into = graph.wires_into()
    lines = [
        f'"""{graph.name}: exported from NetLoom.',
        "",
        *(["" + graph.metadata.get("description", "")] if graph.metadata.get("description") else []),
        "",
        *([*textwrap.wrap(note, 100), ""] if note else []),
        "Needs only torch (and safetensors to load weights). Run it to see the output shapes.",
        '"""',
        "",
        "from pathlib import Path",
        "",
        "import torch",
        "import torch.nn as nn",
        "",
        "# One sample of each input (the batch axis excluded), in the order forward takes them.",
        "INPUTS = " + repr([(n, graph.nodes[n].params["shape"], graph.nodes[n].params["dtype"])
                            for n in graph.inputs()]),
        f"WEIGHTS = {weights!r}" if weights else "WEIGHTS = None",
        "",
        "",
        *own_class_sources(graph),
        *name_sources(names),
        *blocks.class_sources(),
        f"class {name}(nn.Module):",
        "    def __init__(self, weights=WEIGHTS):",
        "        super().__init__()",
    ]
    for child, node_id in node_ids(compiled).items():
        node = graph.nodes[node_id]
        if node.type in graph.blocks:
            lines.append("        " + module_line(child, blocks.construct(getattr(compiled, child))))
            continue
        infos = {port.name: [report.tensors[(e.src, e.src_port)] for e in wires_into.get((node_id, port.name), [])]
                 for port in node.spec.inputs}
        constructor = module_constructor(node.type, node.params, infos)
        assert constructor is not None, f"{child} is a submodule, so its type builds one"
        cls, args, kwargs = constructor
        arguments = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        lines.append("        " + module_line(child, f"{module_prefix(cls)}{cls}({', '.join(arguments)})"))
    lines += ["        " + line for line in tensor_lines(graph, compiled)]
    if names:
        lines += ["        self.register_state_dict_post_hook(_to_original_names)",
                  "        self.register_load_state_dict_pre_hook(_from_original_names)"]
    lines += [
        "        if weights is not None:",
        "            from safetensors.torch import load_file",
        "            path = Path(weights)",
        "            self.load_state_dict(load_file(path if path.is_absolute() else Path(__file__).parent / path))",
        "",
    ]
    lines += ["    " + line for line in clean_forward(compiled.code)]
    lines += [
        "",
        "",
        'if __name__ == "__main__":',
        f"    model = {name}().eval()",
        "    examples = [torch.randint(0, 2, (2, *shape)) if dtype == 'int64' else torch.randn(2, *shape)",
        "                for _, shape, dtype in INPUTS]",
        "    with torch.no_grad():",
        "        out = model(*examples)",
        "    for i, tensor in enumerate(out if isinstance(out, tuple) else (out,)):",
        "        print(f'output {i + 1}: {tuple(tensor.shape)}')",
        "",
    ]
    return "\n".join(lines)


def own_class_sources(graph: Graph) -> list[str]:
    """The source of each of NetLoom's own modules the graph (or a block in it) uses."""
    used = {node.type for body in (graph, *graph.blocks.values()) for node in body.nodes.values()}
    lines: list[str] = []
    for name, cls in OWN_MODULES.items():
        if name in used:
            lines += inspect.getsource(cls).splitlines() + ["", ""]
    return lines


def name_sources(names: dict[str, str]) -> list[str]:
    """The lines that give an exported module the imported model's state-dict keys."""
    if not names:
        return []
    table = ["ORIGINAL_NAMES = {", *(f"    {own!r}: {theirs!r}," for own, theirs in names.items()), "}"]
    return ["# The imported model's own names for these parts: state_dict() gives its keys and load_state_dict()",
            "# takes them (and this module's own), so weights move between the two unchanged.",
            *table, "", "", *inspect.getsource(renamed).splitlines(), "", "",
            "def _to_original_names(module, state_dict, prefix, local_metadata):",
            "    renamed(state_dict, ORIGINAL_NAMES, prefix)", "", "",
            "def _from_original_names(module, state_dict, prefix, *rest):",
            "    renamed(state_dict, {theirs: own for own, theirs in ORIGINAL_NAMES.items()}, prefix)", "", ""]


def export_python(graph: Graph, path: str | Path, weights: str | None = None, note: str = "") -> None:
    from graphs.fileformat import write_atomically
    write_atomically(Path(path), python_source(graph, weights, note).encode("utf-8"))


def example_inputs(graph: Graph, batch: int = 2) -> tuple[torch.Tensor, ...]:
    tensors = []
    for node_id in graph.inputs():
        p = graph.nodes[node_id].params
        dtype = TORCH_DTYPES[p["dtype"]]
        tensors.append(torch.zeros((batch, *p["shape"]), dtype=dtype) if dtype == torch.int64
                       else torch.randn(batch, *p["shape"]))
    return tuple(tensors)


def export_pt2(graph: Graph, path: str | Path, state_dict: dict | None = None, dynamic_batch: bool = True) -> None:
    """A ``torch.export`` program (``.pt2``): the recommended format to run a graph without NetLoom
    (``torch.export.load(path).module()``). With ``dynamic_batch`` it takes any batch size."""
    _, compiled = _compiled(graph)
    if state_dict is not None:
        compiled.load_state_dict(state_dict)
    inputs = example_inputs(graph)
    shapes = None
    if dynamic_batch:
        batch = torch.export.Dim("batch", min=1, max=1 << 20)
        shapes = tuple({0: batch} for _ in inputs)
    try:
        program = torch.export.export(compiled.eval(), inputs, dynamic_shapes=shapes)
    except Exception as err:
        hint = " (try a fixed batch size: --no-dynamic-batch)" if dynamic_batch else ""
        raise ExportError(f"torch.export cannot express this graph{hint}: {first_line(err)}") from None
    torch.export.save(program, str(path))


def export_torchscript(graph: Graph, path: str | Path, state_dict: dict | None = None) -> None:
    """TorchScript, kept while torch supports it: torch deprecates it in favour of pt2."""
    _, compiled = _compiled(graph)
    if state_dict is not None:
        compiled.load_state_dict(state_dict)
    try:
        with warnings.catch_warnings():   # TorchScript is in maintenance, and says so at length
            warnings.simplefilter("ignore")
            scripted = torch.jit.script(compiled.eval())
    except Exception as err:
        raise ExportError(f"TorchScript cannot compile this graph: {first_line(err)}") from None
    scripted.save(str(path))


def export_onnx(graph: Graph, path: str | Path, state_dict: dict | None = None) -> None:
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ExportError("ONNX export needs the onnx package: pip install -e '.[onnx]'") from None
    _, compiled = _compiled(graph)
    if state_dict is not None:
        compiled.load_state_dict(state_dict)
    inputs = example_inputs(graph)
    names = graph.inputs()
    outputs = [f"output{i + 1}" for i in range(len(graph.outputs()))]
    try:
        torch.onnx.export(compiled.eval(), inputs, str(path), input_names=names, output_names=outputs,
                          dynamic_axes={n: {0: "batch"} for n in names + outputs}, dynamo=False)
    except Exception as err:
        raise ExportError(f"ONNX cannot express this graph: {first_line(err)}") from None
    import onnx
    onnx.checker.check_model(onnx.load(str(path)))


EXPORTERS = ("pt2", "py", "torchscript", "onnx")


def export(graph: Graph, kind: str, path: str | Path, state: dict | None = None, dynamic_batch: bool = True,
           note: str = "") -> None:
    """Export as ``kind``; for ``py`` with weights they are written beside as NAME.safetensors,
    and ``note`` (what the inputs need) goes into its docstring."""
    if kind == "py":
        weights = None
        if state is not None:         # under the imported model's own keys, if it was imported
            from safetensors.torch import save_file
            weights_path = Path(path).with_suffix(".safetensors")
            tensors = {k: v.contiguous() for k, v in state.items()}
            renamed(tensors, original_names(graph, _compiled(graph)[1]))
            save_file(tensors, str(weights_path))
            weights = weights_path.name
        export_python(graph, path, weights, note)
    elif kind == "pt2":
        export_pt2(graph, path, state, dynamic_batch)
    elif kind == "torchscript":
        export_torchscript(graph, path, state)
    elif kind == "onnx":
        export_onnx(graph, path, state)
    else:
        raise ExportError(f"unknown export format {kind!r}; one of {', '.join(EXPORTERS)}")
