"""Small graph builders shared by the tests, and a named pipe to test readers with."""

import os
import threading
from pathlib import Path

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


def residual_graph(repeat: int = 2, channels: int = 4) -> Graph:
    """Input 4x8x8 -> a Residual block (conv, ReLU, conv, input added back) used ``repeat`` times
    -> Flatten -> Linear(10) -> Output: the smallest graph with a parameterised block."""
    g = Graph("residual")
    block = g.define_block("Residual", {"channels": channels}, "Two convolutions and the input added back")
    x = block.add_node("Input", id="x", shape=[channels, 8, 8])
    conv = {"out_channels": block.param("channels"), "kernel_size": 3, "padding": 1}
    c1 = block.add_node("Conv2d", id="conv1", **conv)
    relu = block.add_node("ReLU", id="relu")
    c2 = block.add_node("Conv2d", id="conv2", **conv)
    add = block.add_node("Add", id="add")
    out = block.add_node("Output", id="out")
    for a, b in ((x, c1), (c1, relu), (relu, c2), (c2, add), (x, add), (add, out)):
        block.connect(a, b)
    prev = g.add_node("Input", id="image", shape=[channels, 8, 8])
    for type_name, params, node_id in (("Residual", {"channels": channels, "repeat": repeat}, "layer1"),
                                       ("Flatten", {}, "flatten"), ("Linear", {"out_features": 10}, "fc"),
                                       ("Output", {}, "logits")):
        node = g.add_node(type_name, id=node_id, **params)
        g.connect(prev, node)
        prev = node
    return g


def named_pipe(path: Path) -> Path:
    """A FIFO at ``path``: opening it to read waits for a writer, for ever, unless the reader
    knows better."""
    os.mkfifo(path)
    return path


def without_blocking(call, pipes=(), seconds: float = 20.0):
    """``call()``'s result or exception; fails (after unblocking it) if it is still waiting after
    ``seconds``, as a reader stuck on one of the named ``pipes`` would be."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as err:    # handed to the test as it is
            outcome["error"] = err
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        for pipe in pipes:              # a writer that opens and closes lets a stuck reader go
            try:
                os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        worker.join(5)
        raise AssertionError(f"still waiting after {seconds:.0f} s: blocked on a named pipe?")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
