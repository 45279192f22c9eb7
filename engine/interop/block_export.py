"""Blocks in exported Python: one ``nn.Module`` class per block, as a person would write it.

A class's constructor takes the block's parameters (``channels=64``) and, where a layer's size
follows from what flows in, the input's size (``in_channels``). Each layer's arguments are
written in those terms by looking at every use of the block in the graph: a layer parameter that
refers to a block parameter is that parameter; an inferred size is the first block parameter or
input size that equals it in every use; a size that is the same everywhere is a number. Whatever
none of these explains becomes a constructor argument of its own, so the file always builds
exactly the compiled model.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from torch import fx, nn

from graphs import Graph
from graphs.blocks import REPEAT, Library, ref_name
from graphs.names import code_name

from ..checking import Checker, Report, expand
from ..compiling import node_ids
from ..layers import TensorInfo, module_constructor
from .code_lines import FILE_NAMES, clean_forward, docstring, module_line, module_prefix, tensor_lines


@dataclass
class Use:
    """One copy of a block in the compiled model."""
    args: dict[str, Any]                 # the block's parameters as this use binds them
    inputs: dict[str, TensorInfo]        # what flows into each of its ports
    body: Graph                          # the body with those parameters and shapes bound
    report: Report
    module: fx.GraphModule


@dataclass
class Signature:
    """A block class's constructor: size arguments, unexplained arguments, then the block's
    parameters with their defaults; and each argument's value in every use."""
    sizes: dict[str, dict[int, Any]] = field(default_factory=dict)    # argument -> id(use) -> value
    extra: dict[str, dict[int, Any]] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)          # block parameter -> default
    arguments: dict[str, str] = field(default_factory=dict)           # block parameter -> its argument's name

    def head(self) -> str:
        return ", ".join([*self.sizes, *self.extra,
                          *(f"{self.arguments[k]}={v!r}" for k, v in self.parameters.items())])

    def values(self, use: Use) -> dict[str, Any]:
        """The constructor's arguments for one use."""
        result = {name: by_use[id(use)] for name, by_use in (*self.sizes.items(), *self.extra.items())}
        result.update({self.arguments[name]: use.args.get(name, default) for name, default in self.parameters.items()})
        return result

    def taken(self) -> set[str]:
        return {*self.sizes, *self.extra, *self.arguments.values()}


class BlockClasses:
    """Collects every use of every block in a compiled model and writes a class per block."""

    def __init__(self, library: Library, checker: Checker) -> None:
        self.library, self.checker = library, checker
        self.uses: dict[str, list[Use]] = {}
        self._by_module: dict[int, tuple[str, Use]] = {}
        self.signatures: dict[str, Signature] = {}
        self.class_names: dict[str, str] = {}      # block -> its class's name in the file

    def class_name(self, block: str) -> str:
        """The class a block becomes: its name, or one made from it by the sanitiser when the
        file itself uses that name or the name is none Python accepts."""
        if block not in self.class_names:
            self.class_names[block] = code_name(block, FILE_NAMES | set(self.class_names.values()))
        return self.class_names[block]

    # ------------------------------------------------------------------ gathering uses
    def collect(self, graph: Graph, report: Report, compiled: nn.Module) -> None:
        wires = graph.wires_into()
        for attribute, node_id in node_ids(compiled).items():
            node = graph.nodes[node_id]
            if node.type not in self.library:
                continue
            infos = {p.name: [report.tensors[(e.src, e.src_port)] for e in wires.get((node_id, p.name), [])]
                     for p in node.spec.inputs}
            copies = expand(self.library, node.type, node.params, infos, self.checker.check_body)
            child = getattr(compiled, attribute)
            modules = list(child) if len(copies) > 1 else [child]
            args = {k: v for k, v in node.params.items() if k != REPEAT}
            for copy, module in zip(copies, modules):
                use = Use(args, {port: infos[0] for port, infos in copy.inputs.items()}, copy.body, copy.report,
                          module)
                self.uses.setdefault(node.type, []).append(use)
                self._by_module[id(module)] = (node.type, use)
                self.collect(copy.body, copy.report, module)

    def order(self) -> list[str]:
        """Blocks in the order their classes are written: a class after those it uses."""
        done: list[str] = []

        def visit(name: str) -> None:
            if name in done:
                return
            for node in self.library[name].nodes.values():
                if node.type in self.uses:
                    visit(node.type)
            done.append(name)
        for name in self.uses:
            visit(name)
        return done

    def class_sources(self) -> list[str]:
        lines: list[str] = []
        for name in self.order():
            lines += self._class_source(name) + ["", ""]
        return lines

    # ------------------------------------------------------------------ constructing uses
    def construct(self, module: nn.Module) -> str:
        """The expression that builds one block use's module in the top-level class (numbers)."""
        return self._construct([module], lambda argument, values, ref: repr(values[0]))

    def _construct(self, modules: list[nn.Module], explain) -> str:
        """The expression that builds the module at one place of a class, for each of the class's
        uses: ``explain(argument, values in each use, reference)`` writes each argument."""
        sample = modules[0]
        if isinstance(sample, nn.Sequential) and id(sample) not in self._by_module:
            copies = [self._construct([m[i] for m in modules], explain) for i in range(len(sample))]  # type: ignore[index]
            return f"nn.Sequential({', '.join(copies)})"
        name = self._by_module[id(sample)][0]
        values = [self.signatures[name].values(self._by_module[id(m)][1]) for m in modules]
        arguments = ", ".join(f"{k}={explain(k, [v[k] for v in values], None)}" for k in values[0])
        return f"{self.class_name(name)}({arguments})"

    # ------------------------------------------------------------------ one class
    def _class_source(self, name: str) -> list[str]:
        block, uses = self.library[name], self.uses[name]
        # Inside the constructor an argument must shadow nothing it uses: the file's own names,
        # builtins, and the classes of the blocks it builds.
        reserved = FILE_NAMES | {self.class_name(b) for b in self.library}
        signature = Signature(parameters=dict(block.parameters))
        for param in block.parameters:
            signature.arguments[param] = code_name(param, reserved | set(signature.arguments.values()))
        size_of = _size_names(block, uses[0], reserved | signature.taken())

        def explainer(node_id: str, template):
            def explain(slot: str, values: list[Any], ref: str | None) -> str:
                ref = ref or ref_name(template.params.get(slot))
                if ref is not None:
                    return signature.arguments.get(ref, ref)
                if slot not in template.params:      # a size that follows from the input, not one written down
                    for param, default in block.parameters.items():
                        if all(_same(u.args.get(param, default), v) for u, v in zip(uses, values)):
                            return signature.arguments[param]
                    for size, read in size_of.items():
                        if all(_same(read(u), v) for u, v in zip(uses, values)):
                            signature.sizes.setdefault(size, {id(u): read(u) for u in uses})
                            return size
                if all(_same(values[0], v) for v in values):
                    return repr(values[0])
                argument = code_name(f"{node_id}_{slot}", reserved | signature.taken() | set(size_of))
                signature.extra[argument] = {id(u): v for u, v in zip(uses, values)}
                return argument
            return explain

        init = []
        first = uses[0].module
        for attribute, node_id in node_ids(first).items():
            template = block.nodes[node_id]
            explain = explainer(node_id, template)
            if template.type in self.library:
                expression = self._construct([getattr(u.module, attribute) for u in uses], explain)
            else:
                calls = [_constructor(u, node_id) for u in uses]
                cls, positional, keywords = calls[0]
                args = [explain(f"size{i}", [c[1][i] for c in calls], None) for i in range(len(positional))]
                kwargs = [f"{k}={explain(k, [c[2][k] for c in calls], None)}" for k in keywords]
                expression = f"{module_prefix(cls)}{cls}({', '.join(args + kwargs)})"
            init.append(module_line(attribute, expression))
        init += tensor_lines(block, first)
        self.signatures[name] = signature
        doc = block.metadata.get("description") or f"The block {name}."
        return ([f"class {self.class_name(name)}(nn.Module):", *docstring(doc, "    "), "",
                 f"    def __init__(self, {signature.head()}):" if signature.head() else "    def __init__(self):",
                 "        super().__init__()"]
                + ["        " + line for line in init] + [""]
                + ["    " + line for line in clean_forward(first.code)])


def _constructor(use: Use, node_id: str) -> tuple[str, tuple, dict[str, Any]]:
    node = use.body.nodes[node_id]
    wires = use.body.wires_into_node(node_id)
    infos = {p.name: [use.report.tensors[(e.src, e.src_port)] for e in wires.get(p.name, [])]
             for p in node.spec.inputs}
    found = module_constructor(node.type, node.params, infos)
    assert found is not None, f"{node_id} is a submodule, so its type builds one"
    return found


def _size_names(block: Graph, use: Use, taken: Collection[str]) -> dict[str, Any]:
    """The sizes of what flows in that a class may take as arguments: ``in_channels`` (the first
    axis of an image or signal), ``in_features`` (the last axis); ``x_channels`` ... with several
    inputs; none that is ``taken`` or that the sanitiser would have to change."""
    names: dict[str, Any] = {}
    ports = block.inputs()
    for port in ports:
        rank = len(use.inputs[port].shape)
        stem = "in" if len(ports) == 1 else port
        axes = {"channels": 0} if rank >= 3 else {}
        axes["features"] = rank - 1
        for word, axis in axes.items():
            name = f"{stem}_{word}"
            if name not in block.parameters and name not in taken and code_name(name) == name:
                names[name] = (lambda u, p=port, a=axis: u.inputs[p].shape[a])
    return names


def _same(a: Any, b: Any) -> bool:
    """Equal as constructor arguments: a list and a tuple of the same numbers are; True and 1 are not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return _as_tuple(a) == _as_tuple(b)


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, (list, tuple)) else value
