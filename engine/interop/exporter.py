"""Export a graph as one standalone PyTorch file, as TorchScript, or as ONNX.

The Python file needs only torch (and safetensors to load weights): an ``nn.Module`` class with
named submodules built by the same constructor calls the compiler uses, and the compiler's own
forward, so the file computes exactly what the compiled graph computes.
"""

from __future__ import annotations

import inspect
import io
import textwrap
import warnings
from collections.abc import Iterable
from pathlib import Path

import torch

from graphs import Graph, atomic
from graphs.names import class_name

from ..checking import Checker, check
from ..compiling import CompileError, compile_graph, node_ids
from ..layers import OWN_MODULES, TORCH_DTYPES, module_constructor
from ..words import first_line
from .block_export import BlockClasses
from .code_lines import FILE_NAMES, clean_forward, docstring, module_line, module_prefix, tensor_lines
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
    names = original_names(graph, compiled)
    blocks = BlockClasses(graph.blocks, Checker(follow=False))
    blocks.collect(graph, report, compiled)
    # Every text of the graph reaches the file through the one sanitiser (graphs.names).
    name = class_name(graph.name, FILE_NAMES | {blocks.class_name(b) for b in graph.blocks})
    wires_into = graph.wires_into()
    description = graph.metadata.get("description", "")
    lines = [
        *docstring(f"{graph.name}: exported from NetLoom.\n\n" + (f"{description}\n\n" if description else "")
                   + ("\n".join(textwrap.wrap(note, 100)) + "\n\n" if note else "")
                   + "Needs only torch (and safetensors to load weights). Run it to see the output shapes."),
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


def export_python(graph: Graph, path: str | Path, weights: str | None = None, inputs: Iterable[str | Path] = (),
                  note: str = "") -> None:
    """The standalone Python file; ``weights``: the path it loads weights from (relative to itself)."""
    write_export(path, python_source(graph, weights, note).encode("utf-8"), inputs)


def write_export(path: str | Path, data: bytes, inputs: Iterable[str | Path] = (), replace: bool = True) -> None:
    """Every export reaches the disk here, through the one atomic writer: the old file stays whole
    until the new one is complete (a full disk or a crash never leaves a fragment), a link is
    written through, and a file the export reads is never written over."""
    try:
        atomic.write_atomically(Path(path), data, inputs=inputs, replace=replace)
    except FileExistsError:
        raise WeightsExist(Path(path)) from None
    except OSError as err:
        problem = "the disk is full" if atomic.is_disk_full(err) else (err.strerror or str(err))
        raise ExportError(f"{path}: cannot be written ({problem}); the file on disk was left as it was") from None


def example_inputs(graph: Graph, batch: int = 2) -> tuple[torch.Tensor, ...]:
    tensors = []
    for node_id in graph.inputs():
        p = graph.nodes[node_id].params
        dtype = TORCH_DTYPES[p["dtype"]]
        tensors.append(torch.zeros((batch, *p["shape"]), dtype=dtype) if dtype == torch.int64
                       else torch.randn(batch, *p["shape"]))
    return tuple(tensors)


def _with_weights(graph: Graph, state: dict | None):
    compiled = _compiled(graph)[1]
    if state is not None:
        problem = weights_problem(compiled, state)
        if problem:
            raise ExportError(problem)
        compiled.load_state_dict(state)
    return compiled.eval()


def weights_problem(model: torch.nn.Module, state: dict) -> str | None:
    """Why ``state`` cannot be this graph's weights, naming the first tensor at fault, or None."""
    expected = model.state_dict()
    for name, tensor in expected.items():
        if name not in state:
            return f"the weights have no tensor {name!r}, which the graph needs ({_shape(tensor)})"
        found = state[name]
        if not isinstance(found, torch.Tensor) or found.shape != tensor.shape:
            return (f"the weights' tensor {name!r} is {_shape(found)}; the graph needs {_shape(tensor)}: these "
                    "weights belong to another graph")
        if found.dtype.is_floating_point != tensor.dtype.is_floating_point:
            return f"the weights' tensor {name!r} holds {found.dtype}; the graph needs {tensor.dtype}"
    extra = next((name for name in state if name not in expected), None)
    if extra is not None:
        return f"the weights hold a tensor {extra!r} that the graph does not have: they belong to another graph"
    return None


def _shape(tensor) -> str:
    return "x".join(map(str, tensor.shape)) if isinstance(tensor, torch.Tensor) else type(tensor).__name__


def export_pt2(graph: Graph, path: str | Path, state_dict: dict | None = None, dynamic_batch: bool = True,
               inputs: Iterable[str | Path] = ()) -> None:
    """A ``torch.export`` program (``.pt2``): the recommended format to run a graph without NetLoom
    (``torch.export.load(path).module()``). With ``dynamic_batch`` it takes any batch size."""
    compiled = _with_weights(graph, state_dict)
    examples = example_inputs(graph)
    shapes = None
    if dynamic_batch:
        batch = torch.export.Dim("batch", min=1, max=1 << 20)
        shapes = tuple({0: batch} for _ in examples)
    try:
        program = torch.export.export(compiled, examples, dynamic_shapes=shapes)
    except Exception as err:
        hint = " (try a fixed batch size: --no-dynamic-batch)" if dynamic_batch else ""
        raise ExportError(f"torch.export cannot express this graph{hint}: {first_line(err)}") from None
    # torch writes into memory, the one writer to the disk: a full disk is a message, never an abort in C++.
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    write_export(path, buffer.getvalue(), inputs)


def export_torchscript(graph: Graph, path: str | Path, state_dict: dict | None = None,
                       inputs: Iterable[str | Path] = ()) -> None:
    """TorchScript, kept while torch supports it: torch deprecates it in favour of pt2."""
    compiled = _with_weights(graph, state_dict)
    try:
        with warnings.catch_warnings():   # TorchScript is in maintenance, and says so at length
            warnings.simplefilter("ignore")
            scripted = torch.jit.script(compiled)
    except Exception as err:
        raise ExportError(f"TorchScript cannot compile this graph: {first_line(err)}") from None
    buffer = io.BytesIO()
    torch.jit.save(scripted, buffer)
    write_export(path, buffer.getvalue(), inputs)


def export_onnx(graph: Graph, path: str | Path, state_dict: dict | None = None, inputs: Iterable[str | Path] = ()) -> None:
    try:
        import onnx
    except ImportError:
        raise ExportError("ONNX export needs the onnx package: pip install -e '.[onnx]'") from None
    compiled = _with_weights(graph, state_dict)
    examples = example_inputs(graph)
    names = graph.inputs()
    outputs = [f"output{i + 1}" for i in range(len(graph.outputs()))]
    buffer = io.BytesIO()
    try:
        # The TorchScript-based exporter (dynamo=False) takes a file object, though its annotation says a path.
        torch.onnx.export(compiled, examples, buffer, input_names=names, output_names=outputs,  # type: ignore[arg-type]
                          dynamic_axes={n: {0: "batch"} for n in names + outputs}, dynamo=False)
    except Exception as err:
        raise ExportError(f"ONNX cannot express this graph: {first_line(err)}") from None
    onnx.checker.check_model(onnx.load_from_string(buffer.getvalue()))
    write_export(path, buffer.getvalue(), inputs)


EXPORTERS = ("pt2", "py", "torchscript", "onnx")


class WeightsExist(ExportError):
    """The weights written beside an export would replace a file the person did not name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"{path} exists already; NetLoom does not replace a file you did not name: choose another "
                         "name for the export, or remove that file")


def _relative(weights: str | Path, code: str | Path) -> str:
    """The weights' path as the Python file loads it: relative to the file itself when it can."""
    weights, folder = Path(weights).resolve(), Path(code).resolve().parent
    return str(weights.relative_to(folder)) if weights.is_relative_to(folder) else str(weights)


def weights_beside(path: str | Path) -> Path:
    """Where a Python export's weights go unless named: beside it, as NAME.safetensors."""
    return Path(path).with_suffix(".safetensors")


def export(graph: Graph, kind: str, path: str | Path, state: dict | None = None, dynamic_batch: bool = True,
           inputs: Iterable[str | Path] = (), weights_path: str | Path | None = None,
           replace_weights: bool = False, refer_to: str | Path | None = None, note: str = "") -> Path | None:
    """Export as ``kind``; ``inputs``: the files the export is made from, which it never writes
    over. For ``py`` with weights they are written to ``weights_path`` (default: beside it as
    NAME.safetensors), which must not exist unless ``replace_weights``; returns that path. With
    ``refer_to``, a weights file on disk (``state`` its tensors), the Python file loads that one
    instead. Weights are checked against the graph, tensor by tensor, before anything is written,
    and written under an imported model's own state-dict keys. ``note`` (what the inputs need,
    ``engine.training.export_note``) goes into the Python file's docstring."""
    inputs = [Path(p) for p in inputs]
    for source in inputs:
        if atomic.same_file(path, source):
            raise ExportError(f"{path} is {source}, which this export reads; name another file to write")
    if kind == "py":
        weights = None
        if refer_to is not None:
            problem = weights_problem(_compiled(graph)[1], state or {})
            if problem:
                raise ExportError(f"{refer_to}: {problem}")
            write_export(path, python_source(graph, _relative(refer_to, path), note).encode("utf-8"), inputs)
            return Path(refer_to)
        if state is not None:
            weights = Path(weights_path) if weights_path is not None else weights_beside(path)
            if weights.resolve() == Path(path).resolve():
                raise ExportError(f"the weights and the code would both be written to {path}; name the code file "
                                  "with .py")
            if any(atomic.same_file(weights, source) for source in inputs):
                raise ExportError(f"{weights} is a file this export reads; the weights need another name")
            if weights.exists() and not replace_weights:
                raise WeightsExist(weights)
            problem = weights_problem(_compiled(graph)[1], state)
            if problem:
                raise ExportError(problem)
            source = python_source(graph, _relative(weights, path), note)
            from safetensors.torch import save
            tensors = {k: v.contiguous() for k, v in state.items()}
            renamed(tensors, original_names(graph, _compiled(graph)[1]))     # an imported model's own keys
            write_export(weights, save(tensors), inputs, replace_weights)
        else:
            source = python_source(graph, note=note)
        write_export(path, source.encode("utf-8"), inputs)
        return weights
    if kind == "pt2":
        export_pt2(graph, path, state, dynamic_batch, inputs)
    elif kind == "torchscript":
        export_torchscript(graph, path, state, inputs)
    elif kind == "onnx":
        export_onnx(graph, path, state, inputs)
    else:
        raise ExportError(f"unknown export format {kind!r}; one of {', '.join(EXPORTERS)}")
    return None
