"""A run whose loss grows by orders of magnitude ends "diverged" with advice, even when the loss
stays finite; a healthy run with a noisy loss never does."""

import math
import random
import subprocess
import sys
from pathlib import Path

import pytest

from engine.training import TrainingConfig, train
from engine.training.divergence import DivergenceWatch
from engine.training.messages import EpochMetrics, Failed, Finished
from graphs import load_graph

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


@pytest.mark.slow     # a command-line process
def test_a_learning_rate_of_a_million_ends_diverged_on_the_digits_example(tmp_path):
    result = subprocess.run([sys.executable, str(EXAMPLES.parent.parent / "main.py"), "train",
                             str(EXAMPLES / "lenet_digits.loom"), "--lr", "1e6", "--epochs", "3"],
                            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "training diverged" in result.stderr and "Traceback" not in result.stderr
    assert "Try a lower learning rate (now 1e+06; adam usually trains with about 0.001)" in result.stderr


def test_a_loss_that_blows_up_but_stays_finite_is_divergence_not_completion():
    graph = load_graph(EXAMPLES / "lenet5.loom")          # its loss goes from 2.3 to about 10^7, never NaN
    config = TrainingConfig.from_dict(graph.training).replace(lr=1e6, epochs=2, device="cpu", probes=False)
    messages = list(train(graph, config))
    assert not any(isinstance(m, EpochMetrics) for m in messages)
    end = messages[-1]
    assert isinstance(end, Failed) and end.step == 20, end
    assert end.reason.startswith("the loss grew from 2.") and "by step 20 (epoch 1): training diverged" in end.reason


def test_a_healthy_run_with_a_noisy_loss_completes():
    """One sample a step, no momentum: the loss swings from 10^-5 to over ten times where it started."""
    graph = load_graph(EXAMPLES / "mlp_spiral.loom")
    config = TrainingConfig.from_dict(graph.training).replace(optimizer="sgd", lr=0.1, momentum=0.0, batch_size=1,
                                                              log_every=1, epochs=6, device="cpu", probes=False)
    messages = list(train(graph, config))
    accuracy = [m.val_accuracy for m in messages if isinstance(m, EpochMetrics)]
    assert isinstance(messages[-1], Finished) and messages[-1].reason == "completed", messages[-1]
    assert accuracy[-1] > 0.5 and accuracy[-1] > accuracy[0] + 0.1     # it learns (three classes: chance is a third)


def _healthy_losses(rng: random.Random, steps: int) -> list[float]:
    """A loss that falls from 2.3 to 10^-5 with log-normal noise (a factor of 7 is common) and,
    now and then, one batch confidently wrong (a loss of up to 40, 17 times the start)."""
    losses = []
    for step in range(steps):
        trend = 2.3 * math.exp(-12 * step / steps)
        value = trend * math.exp(rng.gauss(0, 2))
        if rng.random() < 0.002:
            value = rng.uniform(5, 40)
        losses.append(value)
    return losses


def test_the_watch_never_trips_on_noise_and_spikes_and_trips_on_sustained_growth():
    for seed in range(5):
        rng = random.Random(seed)
        losses = _healthy_losses(rng, 50_000)
        for window in (1, 10, 50):
            watch = DivergenceWatch()
            assert not any(watch.diverged(losses[i:i + window]) for i in range(0, len(losses), window)), (seed, window)
    watch = DivergenceWatch()
    assert not any(watch.diverged([2.3 / (1 + i)]) for i in range(100))
    tripped = [watch.diverged([1e5 * (1 + 0.1 * i)]) for i in range(25)]
    assert tripped.index(True) == 19                  # 20 steps in a row far above best and start
    assert watch.words(2e5) == "the loss grew from 2.3 to 2e+05"
