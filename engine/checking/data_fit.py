"""Does the graph fit the data set and the loss? Said on the node to change, with the fix."""

from __future__ import annotations

from typing import Any

from graphs import ERROR, WARNING, AdaptHead, ChooseDataPath, Diagnostic, Graph, SetParam

from ..data import CLASSIFICATION, LOADERS, DataSet, dataset_options
from ..layers import format_shape

CLASS_LOSSES = ("cross_entropy", "nll", "negative_sampling")
PATH_OPTIONS = {"root": True, "path": False}        # a data set's option naming where its data is -> a folder?
WHAT_TO_CHOOSE = {"image_folder": "a folder with one sub-folder of pictures per class, named after the class",
                  "csv": "a CSV file with a header row", "text": "a UTF-8 text file"}


def unloadable_data(graph: Graph, name: str, options: dict[str, Any], problem: str) -> Diagnostic:
    """The data set the training settings name cannot be loaded: an error of the graph (on its
    Input), since training would fail, with a picker for the data's folder or file as the fix
    where the data set reads one. A data set the settings ask to download is only a warning:
    training will fetch it, with the person's agreement."""
    inputs = graph.inputs()
    node = inputs[0] if len(inputs) == 1 else None
    taken = dataset_options(name) if name in LOADERS else {}
    option = next((o for o in PATH_OPTIONS if o in taken), None)
    fix = ChooseDataPath(option, PATH_OPTIONS[option]) if option else None
    place = f"{node}: " if node else ""
    if options.get("download") is True:
        return Diagnostic(WARNING, node, f"{place}the {name} data is not on this computer yet ({problem}); training "
                                         f"will download it into {options.get('root', '?')} once you agree", fix)
    wanted = f"; choose {WHAT_TO_CHOOSE[name]}" if fix and name in WHAT_TO_CHOOSE else ""
    return Diagnostic(ERROR, node, f"{place}its training data cannot be loaded: {problem}{wanted}", fix)


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
