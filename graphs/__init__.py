"""The graph document and its file format: plain Python, no Qt, no torch."""

from .catalog import CATALOG, FEATURES, FUNCTION, categories, feature_labels, spec_of
from .diagnostics import (
    ERROR,
    WARNING,
    AdaptHead,
    ChooseDataPath,
    Diagnostic,
    InsertLayer,
    RemoveLayer,
    SetParam,
    StartFresh,
    UseStartWeights,
)
from .edits import Edit
from .events import Changes, GraphEvent
from .fileformat import (
                         FORMAT_NAME,
                         GraphFileError,
                         dumps_graph,
                         graph_from_dict,
                         graph_to_dict,
                         load_graph,
                         loads_graph,
                         save_graph,
)
from .graph import Edge, Graph, GraphError, Node, topological_order
from .migrations import CURRENT_VERSION
from .specs import LayerSpec, ParamError, ParamSpec, PortSpec
from .structure import structural_diagnostics

__all__ = [
    "AdaptHead", "CATALOG", "CURRENT_VERSION", "Changes", "ChooseDataPath", "Diagnostic", "ERROR", "Edge", "Edit",
    "FEATURES", "FORMAT_NAME", "FUNCTION", "Graph", "GraphError", "GraphEvent", "GraphFileError", "InsertLayer",
    "LayerSpec", "Node", "ParamError", "ParamSpec", "PortSpec", "RemoveLayer", "SetParam", "StartFresh",
    "UseStartWeights", "WARNING", "categories", "dumps_graph", "feature_labels", "graph_from_dict", "graph_to_dict",
    "load_graph", "loads_graph", "save_graph", "spec_of", "structural_diagnostics", "topological_order",
]
