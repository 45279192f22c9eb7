"""How much memory a graph needs, from the check report alone (nothing is allocated).

Parameters, their gradients and the optimizer's state (Adam keeps two tensors per parameter)
scale with the parameter count; the activations kept for the backward pass scale with the
batch. A graph whose parameters alone do not fit in the machine is refused before any tensor
is made: building it would fail inside the allocator, or take the machine down with it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from graphs import ERROR, WARNING, Diagnostic, Graph

from ..words import human_bytes
from .report import Report

BYTES_PER_VALUE = 4                      # float32
OPTIMIZER_COPIES = {"sgd": 1, "rmsprop": 1, "adagrad": 1, "adadelta": 2, "adam": 2, "adamw": 2}


@dataclass(frozen=True)
class MemoryEstimate:
    parameters: int          # bytes of the weights
    gradients: int
    optimizer: int
    activations: int         # bytes of every node's outputs for one batch (kept for backward)

    @property
    def training(self) -> int:
        return self.parameters + self.gradients + self.optimizer + self.activations


def estimate(report: Report, batch_size: int = 64, optimizer: str = "adam") -> MemoryEstimate:
    weights = report.total_params * BYTES_PER_VALUE
    per_sample = report.activation_values * BYTES_PER_VALUE
    return MemoryEstimate(weights, weights, weights * OPTIMIZER_COPIES.get(optimizer, 2), per_sample * batch_size)


def machine_memory() -> int | None:
    """Physical memory of this machine in bytes, or None where it cannot be read."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def gpu_memory() -> int | None:
    if torch.cuda.is_available():
        return int(torch.cuda.get_device_properties(0).total_memory)
    return None


def too_large_to_build(report: Report) -> tuple[str, str] | None:
    """(node, message) when the weights alone cannot be held in this machine's memory; the node
    named is the one with the most parameters."""
    limit = machine_memory()
    needed = report.total_params * BYTES_PER_VALUE
    if limit is None or needed <= limit or not report.params:
        return None
    node = max(report.params, key=report.params.__getitem__)
    return node, (f"{node}: the graph's {report.total_params:,} parameters need {human_bytes(needed)}, more than "
                  f"this machine's {human_bytes(limit)} of memory; {node} alone holds "
                  f"{report.params[node]:,} ({human_bytes(report.params[node] * BYTES_PER_VALUE)})")


def training_settings(graph: Graph) -> tuple[int, str]:
    """The batch size and optimizer the graph's training section names (defaults where it does
    not, or names something unusable: the check of the settings reports that)."""
    batch = graph.training.get("batch_size", 64)
    optimizer = graph.training.get("optimizer", "adam")
    batch = batch if isinstance(batch, int) and not isinstance(batch, bool) and batch > 0 else 64
    return batch, optimizer if isinstance(optimizer, str) and optimizer in OPTIMIZER_COPIES else "adam"


def describe(graph: Graph, report: Report) -> str:
    """One line for the check command: what training this graph takes in memory."""
    batch, optimizer = training_settings(graph)
    need = estimate(report, batch, optimizer)
    return (f"Memory to train (batch {batch}, {optimizer}): about {human_bytes(need.training)}: weights "
            f"{human_bytes(need.parameters)}, gradients {human_bytes(need.gradients)}, optimizer state "
            f"{human_bytes(need.optimizer)}, activations {human_bytes(need.activations)}.")


def memory_diagnostics(graph: Graph, report: Report) -> list[Diagnostic]:
    """An error when the weights cannot be held at all; a warning when training (weights,
    gradients, optimizer state and a batch's activations) needs more than the machine has."""
    if not report.params:
        return []
    too_large = too_large_to_build(report)
    if too_large is not None:
        return [Diagnostic(ERROR, too_large[0], too_large[1])]
    batch, optimizer = training_settings(graph)
    need = estimate(report, batch, optimizer)
    limit, where = machine_memory(), "this machine's memory"
    device = graph.training.get("device", "auto")
    gpu = gpu_memory() if device != "cpu" else None
    if gpu is not None and (limit is None or gpu < limit):
        limit, where = gpu, "the GPU's memory"
    if limit is None or need.training <= limit:
        return []
    node = max(report.params, key=report.params.__getitem__)
    return [Diagnostic(WARNING, node, (
        f"{node}: training this graph needs about {human_bytes(need.training)} (weights "
        f"{human_bytes(need.parameters)}, gradients and optimizer state {human_bytes(need.gradients + need.optimizer)}, "
        f"activations of a batch of {batch} {human_bytes(need.activations)}), more than {where} "
        f"({human_bytes(limit)}); {node} holds the most parameters. Try a smaller batch or fewer features."))]
