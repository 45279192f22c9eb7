"""One layer at a time: the tensor that flows on a wire, a node's module and its step in the
forward, its output inferred on meta tensors, the user-term rules checked first, and the
whitelisted operations a Function node may call. Checking and compiling both stand on this."""

from .build import (
    TENSOR_TYPES,
    TORCH_DTYPES,
    EagerOps,
    FxOps,
    Ops,
    TensorInfo,
    build_module,
    build_tensor,
    emit_node,
    format_shape,
    module_constructor,
    node_of_step,
    step_name,
    tensor_source,
)
from .inference import InferenceCache, NodeResult, use_key
from .modules import OWN_MODULES
from .operations import TABLE as OPERATIONS
from .rules import Finding

__all__ = [
    "OPERATIONS", "OWN_MODULES", "TENSOR_TYPES", "TORCH_DTYPES", "EagerOps", "Finding", "FxOps", "InferenceCache",
    "NodeResult", "Ops", "TensorInfo", "build_module", "build_tensor", "emit_node", "format_shape", "module_constructor",
    "node_of_step", "step_name", "tensor_source", "use_key",
]
