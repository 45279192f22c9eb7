"""What a check found: diagnostics, the tensor on every output port, parameters and multiply-adds."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from graphs import ERROR, WARNING, Diagnostic, Edge

from ..layers import TensorInfo


@dataclass
class Report:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    tensors: dict[tuple[str, str], TensorInfo] = field(default_factory=dict)  # (node, out port) -> tensor
    received: dict[str, TensorInfo] = field(default_factory=dict)   # Output node -> what the model returns there
    params: dict[str, int] = field(default_factory=dict)
    macs: dict[str, int] = field(default_factory=dict)
    activation_values: int = 0     # values all node outputs hold for one sample (memory estimates)
    frozen_params: int = 0         # parameters of frozen nodes (learning-rate factor 0): training leaves them be

    @functools.cached_property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        """node -> the shape of its first output (an Output node: what it receives), derived
        from ``tensors`` once per report."""
        found: dict[str, tuple[int, ...]] = {}
        for (node, _port), info in self.tensors.items():
            found.setdefault(node, info.shape)
        found.update((node, info.shape) for node, info in self.received.items())
        return found

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == WARNING]

    @property
    def total_params(self) -> int:
        return sum(self.params.values())

    @property
    def trainable_params(self) -> int:
        return self.total_params - self.frozen_params

    @property
    def total_macs(self) -> int:
        return sum(self.macs.values())

    def for_node(self, node_id: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.node == node_id]

    def wire_tensor(self, edge: Edge) -> TensorInfo | None:
        """What flows on a wire, for its label."""
        return self.tensors.get((edge.src, edge.src_port))
