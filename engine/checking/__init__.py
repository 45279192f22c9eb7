"""Checking a graph: structure, then shapes, parameters and multiply-adds per node, the lints
that teach, the memory training needs, and the fit of the graph to a data set. Block uses are
checked by checking their bound bodies: the checker passes itself in (``Checker.check_body``)."""

from . import memory
from .blocks import CheckBody, UseProblem, expand
from .checker import Checker, check
from .data_fit import fit_diagnostics, unloadable_data
from .report import Report

__all__ = ["CheckBody", "Checker", "Report", "UseProblem", "check", "expand", "fit_diagnostics", "memory",
           "unloadable_data"]
