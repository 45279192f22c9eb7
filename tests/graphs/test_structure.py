"""Structural checks: what the person drew wrong, named by node."""

from graphs import ERROR, WARNING, Edge, Graph, structural_diagnostics
from tests.helpers import chain


def messages(g):
    return [(d.severity, d.node, d.message) for d in structural_diagnostics(g)]


def test_a_clean_chain_has_no_problems():
    assert messages(chain("ReLU", input_shape=[4])) == []


def test_an_empty_graph_gets_one_word_on_where_to_start():
    assert messages(Graph()) == [(ERROR, None, "the graph is empty: add an Input (palette: Common layers) and the "
                                              "layers after it, or open an example")]


def test_missing_input_and_output_are_reported():
    g = Graph()
    g.add_node("ReLU")
    found = messages(g)
    assert (ERROR, None, "the graph has no Input: add one to feed it data") in found
    assert (ERROR, None, "the graph has no Output: add one after the last layer") in found
    assert (ERROR, "relu1", "relu1: input 'in' is not connected") in found


def test_cycles_are_named_by_their_nodes():
    g = chain("ReLU", "Sigmoid", "Tanh", input_shape=[4])
    add = g.add_node("Add")
    # A loaded file can hold a loop that the editor would refuse; the check names it.
    g.edges.remove(Edge("relu1", "sigmoid1"))
    g.edges += [Edge("relu1", add), Edge("tanh1", add), Edge(add, "sigmoid1")]
    cycles = [d for d in structural_diagnostics(g) if "loops back" in d.message]
    assert len(cycles) == 1
    assert cycles[0].message == "sigmoid1: the graph loops back on itself: sigmoid1 -> tanh1 -> add1 -> sigmoid1"


def test_too_many_wires_and_too_few_inputs():
    g = chain("ReLU", input_shape=[4])
    extra = g.add_node("Input", shape=[4])
    g.edges.append(Edge(extra, "relu1"))
    add = g.add_node("Add")
    g.connect("input1", add)
    found = messages(g)
    assert (ERROR, "relu1", "relu1: input 'in' takes one wire but has 2 (from input1, input2); "
            "merge them with Add or Concat") in found
    assert (ERROR, "add1", "add1: Add needs at least 2 inputs, it has 1") in found
    assert (WARNING, "add1", "add1: its result does not reach any Output and is unused") in found
