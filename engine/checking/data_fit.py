"""Does the graph fit the data set and the loss? Said on the node to change, with the fix."""

from __future__ import annotations

from graphs import ERROR, AdaptHead, Diagnostic, Graph, SetParam

from ..data import CLASSIFICATION, DataSet
from ..layers import format_shape

CLASS_LOSSES = ("cross_entropy", "nll", "negative_sampling")


def fit_diagnostics(graph: Graph, shapes: dict[str, tuple[int, ...]], data: DataSet, loss: str = "cross_entropy",
                    reconstruct: bool = False) -> list[Diagnostic]:
    """Problems between a checked graph (its ``shapes``) and a data set with a given loss."""
    found: list[Diagnostic] = []
    inputs, outputs = graph.inputs(), graph.outputs()
    if len(inputs) != 1:
        return [Diagnostic(ERROR, None, f"training needs a graph with one Input; this one has {len(inputs)}"
                                         + (f" ({', '.join(inputs)})" if inputs else ""))]
    node = graph.nodes[inputs[0]]
    shape, dtype = tuple(node.params["shape"]), node.params["dtype"]
    if shape != data.input_shape:
        found.append(Diagnostic(ERROR, node.id, f"{node.id}: has shape {format_shape(shape)} but {data.name} "
                                f"gives samples of {format_shape(data.input_shape)}",
                                SetParam(node.id, "shape", list(data.input_shape))))
    if dtype != data.input_dtype:
        found.append(Diagnostic(ERROR, node.id, f"{node.id}: has dtype {dtype} but {data.name} gives "
                                f"{data.input_dtype} samples", SetParam(node.id, "dtype", data.input_dtype)))
    if found or not outputs or outputs[0] not in shapes:
        return found
    out_shape = shapes[outputs[0]]
    last = graph.in_edges(outputs[0])[0].src
    last_node = graph.nodes[last]
    if loss in CLASS_LOSSES or loss == "bce_with_logits":
        if data.task != CLASSIFICATION:
            return [Diagnostic(ERROR, None, f"the {loss} loss needs class labels but {data.name} has "
                                            f"numeric targets: use the mse or l1 loss")]
        classes = data.num_classes
        expected = (*data.target_shape, classes)
        if loss == "bce_with_logits" and classes == 2 and not data.target_shape:
            expected = (1,)
        if out_shape != expected:
            fix: SetParam | AdaptHead | None = None
            if last_node.type == "Linear" and out_shape[:-1] == expected[:-1]:
                # Starting from weights, the head is a new layer: it leaves its old tensors out.
                fix = (AdaptHead(last, expected[-1]) if graph.training.get("start_from")
                       else SetParam(last, "out_features", expected[-1]))
            what = (f"{classes} classes" if len(expected) == 1 and expected != (1,)
                    else f"targets that need outputs of {format_shape(expected)}")
            found.append(Diagnostic(ERROR, last, f"{last}: gives {format_shape(out_shape)} outputs but "
                                    f"{data.name} has {what}", fix))
    else:
        target = data.input_shape if reconstruct else data.target_shape
        if data.task == CLASSIFICATION and not reconstruct:
            return [Diagnostic(ERROR, None, f"the {loss} loss compares numbers but {data.name} has class "
                                            f"labels: use the cross_entropy loss")]
        if out_shape != target:
            fix = (SetParam(last, "out_features", target[-1])
                   if last_node.type == "Linear" and len(target) == 1 else None)
            found.append(Diagnostic(ERROR, last, f"{last}: gives {format_shape(out_shape)} outputs but the "
                                    f"targets are {format_shape(target)}", fix))
    return found
