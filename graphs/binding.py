"""Binding one use of a block: its body with the use's values put in place of the block's
parameters, a plain graph that is checked and compiled like any other."""

from __future__ import annotations

from typing import Any

from .blocks import Library, ref_name
from .builder import GraphBuilder
from .graph import Graph, Node
from .specs import ParamError


class BindError(ParamError):
    """A use's value that a layer inside its block does not take; ``node`` is that layer."""

    def __init__(self, node: str, message: str) -> None:
        super().__init__(message)
        self.node = node


def bind(library: Library, type_name: str, args: dict[str, Any],
         input_shapes: dict[str, tuple[tuple[int, ...], str]] | None = None) -> Graph:
    """The body of block ``type_name`` with its parameters bound to ``args`` (a use's params):
    a plain graph whose layers hold numbers, no references. ``input_shapes`` gives Input nodes
    the (shape, dtype) a use feeds them: the shapes written in a block are only examples, for
    opening it on its own. ParamError names the layer and parameter a value does not suit
    (``conv1.kernel_size = size: 'kernel_size' must be at most 1024``)."""
    body = library[type_name]
    values = {name: args.get(name, default) for name, default in body.parameters.items()}
    bound = Graph(body.name, body.metadata.get("description", ""), blocks=library)
    build = GraphBuilder(bound)
    for node in body.nodes.values():
        params = {}
        for key, value in node.params.items():
            ref = ref_name(value)
            if ref is None:
                params[key] = value
                continue
            try:
                params[key] = node.spec.param(key).validate(values[ref])
            except ParamError as err:
                raise BindError(node.id, f"{node.id}.{key} = {ref}: {err}") from None
        if input_shapes and node.id in input_shapes:
            shape, dtype = input_shapes[node.id]
            params.update(shape=list(shape), dtype=dtype)
        build.add(Node(node.id, node.type, params))
    for edge in body.edges:
        build.connect(edge)
    return bound
