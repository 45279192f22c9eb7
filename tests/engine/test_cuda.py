"""Training on a CUDA GPU: mixed precision, channels_last, torch.compile, out-of-memory.

Skipped on machines without one (as in CI); run on a GPU machine with
``python -m pytest tests/engine/test_cuda.py``."""

from pathlib import Path

import pytest
import torch

from engine.training import TrainingConfig, train
from engine.training.messages import DecisionBoundary, Failed, Finished, GradientFlow
from graphs import load_graph
from tests.helpers import chain

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def run(graph, **changes):
    return list(train(graph, TrainingConfig.from_dict(graph.training).replace(**changes)))


@pytest.mark.parametrize("amp", [False, True])
def test_lenet_trains_on_the_gpu(amp):
    messages = run(load_graph(EXAMPLES / "lenet_digits.loom"), amp=amp)
    assert messages[0].device.startswith("cuda")
    assert any(isinstance(m, GradientFlow) for m in messages)
    assert isinstance(messages[-1], Finished) and messages[-1].val_accuracy >= 0.97


def test_torch_compile_on_the_gpu():
    messages = run(load_graph(EXAMPLES / "lenet_digits.loom"), compile=True, epochs=5)
    assert isinstance(messages[-1], Finished) and messages[-1].val_accuracy > 0.8


def test_probes_on_the_gpu():
    messages = run(load_graph(EXAMPLES / "mlp_spiral.loom"), epochs=30)
    assert isinstance(messages[-1], Finished) and messages[-1].val_accuracy >= 0.95
    assert [m for m in messages if isinstance(m, DecisionBoundary)][-1].classes.shape == (80, 80)


def test_out_of_memory_suggests_a_smaller_batch():
    # 4096 samples x 16.7M activations do not fit in any GPU's memory.
    graph = chain("Flatten", ("Linear", {"out_features": 1 << 24}), "ReLU", ("Linear", {"out_features": 10}),
                  input_shape=(1, 8, 8))
    graph.training = TrainingConfig(epochs=1, batch_size=4096, probes=False).to_dict()
    messages = list(train(graph))
    failed = messages[-1]
    assert isinstance(failed, Failed), failed
    assert failed.reason.startswith("out of memory on cuda with batch size 4096")
    assert "try a smaller batch size such as 2048" in failed.reason
    torch.cuda.empty_cache()
    assert run(load_graph(EXAMPLES / "lenet_digits.loom"), epochs=1)[-1].reason == "completed"
