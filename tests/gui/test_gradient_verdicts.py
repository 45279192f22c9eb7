"""The Gradients tab's sentences judge the numbers drawn above them, in the canvas's bands."""

import numpy as np

from engine.training import messages as M
from gui.training.gradients_panel import depth_verdict, verdict
from gui.training.run_record import RunRecord


def run_with(*means: float) -> RunRecord:
    record = RunRecord("sigmoid", {})
    record.absorb(M.RunStarted("cpu", 10, 100, 10, 15, 3, "spiral"))
    record.absorb(M.GradientFlow(45, tuple(M.LayerGradient(f"fc{i + 1}", m, 2 * m, 1.0) for i, m in enumerate(means))))
    return record


def test_the_latest_probe_is_judged_layer_by_layer():
    assert verdict(run_with(3e-3, 2e-2)) == ("sigmoid, step 45 (epoch 3 of 3), the latest probe: all 2 layers receive "
                                             "healthy gradients (mean |gradient| from 3.0e-03 to 2.0e-02, within "
                                             "1e-4 to 1).")
    assert verdict(run_with(2.9e-11, 4e-5, 3e-2)) == (
        "sigmoid, step 45 (epoch 3 of 3), the latest probe: mean |gradient| is vanishing (below 1e-6) in fc1 2.9e-11; "
        "weak (1e-6 to 1e-4) in fc2 4.0e-05; healthy in fc3.")
    assert verdict(RunRecord("run 1", {})) == ""          # no probe yet: nothing is claimed


def test_runs_compared_by_depth_are_judged_from_the_points_drawn():
    curves = {"sigmoid": np.array([2.9e-11, 1e-7, 3e-2]), "ReLU": np.array([2.5e-6, 1e-3]),
              "residual": np.array([5.6e-3, 2e-2]), "wild": np.array([1e-2, 3e2])}
    assert depth_verdict(curves) == (
        "Compared: sigmoid: vanishing (below 1e-6) at layer 1, 2.9e-11 on average; ReLU: weak (1e-6 to 1e-4) at "
        "layer 1, 2.5e-06 on average; wild: exploding (above 1e2) at layer 2, 3.0e+02 on average; healthy at "
        "every depth: residual.")
