"""Small graph builders shared by the tests."""

import resources
from graphs import Graph, load_graph


def lenet() -> Graph:
    """The bundled LeNet for the 8x8 digits, fresh from its file."""
    return load_graph(resources.example("lenet_digits.loom"))


def chain(*layers, name="chain", input_shape=(1, 8, 8), dtype="float32") -> Graph:
    """Input -> layers... -> Output; each layer is a type name or (type, params)."""
    g = Graph(name=name)
    prev = g.add_node("Input", shape=list(input_shape), dtype=dtype)
    for layer in layers:
        type_name, params = (layer, {}) if isinstance(layer, str) else layer
        node = g.add_node(type_name, **params)
        g.connect(prev, node)
        prev = node
    g.connect(prev, g.add_node("Output"))
    return g
