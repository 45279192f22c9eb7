"""Classic networks twice: written by hand in PyTorch and drawn as NetLoom graphs.

Submodule names in the hand-written versions equal the node ids, so one state dict fits both.
Shared by the parity tests and ``bench/compile_parity.py``.
"""

import torch
import torch.nn.functional as F
from torch import nn

from graphs import Graph
from tests.helpers import chain


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(64, 128), nn.Linear(128, 64), nn.Linear(64, 10)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def mlp_graph():
    return chain(("Linear", {"out_features": 128}), "ReLU", ("Linear", {"out_features": 64}), "ReLU",
                 ("Linear", {"out_features": 10}), input_shape=(64,), name="mlp")


class LeNet5(nn.Module):
    """LeCun et al. 1998 on 1x32x32 inputs (tanh, average pooling)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = F.avg_pool2d(torch.tanh(self.conv1(x)), 2)
        x = F.avg_pool2d(torch.tanh(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(torch.tanh(self.fc2(torch.tanh(self.fc1(x)))))


def lenet5_graph():
    return chain(("Conv2d", {"out_channels": 6, "kernel_size": 5}), "Tanh", ("AvgPool2d", {"kernel_size": 2}),
                 ("Conv2d", {"out_channels": 16, "kernel_size": 5}), "Tanh", ("AvgPool2d", {"kernel_size": 2}),
                 "Flatten", ("Linear", {"out_features": 120}), "Tanh", ("Linear", {"out_features": 84}), "Tanh",
                 ("Linear", {"out_features": 10}), input_shape=(1, 32, 32), name="lenet5")


class CifarNet(nn.Module):
    """The small CIFAR-10 convnet: two 5x5 convolutions, max pooling, three linear layers."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 6, 5), nn.Conv2d(6, 16, 5)
        self.pool1, self.pool2 = nn.MaxPool2d(2), nn.MaxPool2d(2)
        self.fc1, self.fc2, self.fc3 = nn.Linear(16 * 5 * 5, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def cifarnet_graph():
    return chain(("Conv2d", {"out_channels": 6, "kernel_size": 5}), "ReLU", ("MaxPool2d", {"kernel_size": 2}),
                 ("Conv2d", {"out_channels": 16, "kernel_size": 5}), "ReLU", ("MaxPool2d", {"kernel_size": 2}),
                 "Flatten", ("Linear", {"out_features": 120}), "ReLU", ("Linear", {"out_features": 84}), "ReLU",
                 ("Linear", {"out_features": 10}), input_shape=(3, 32, 32), name="cifarnet")


class ResidualBlock(nn.Module):
    """A ResNet basic block with identity shortcut."""

    def __init__(self, channels=16):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + x)


def residual_graph(channels=16):
    g = Graph(name="residual block")
    x = g.add_node("Input", shape=[channels, 16, 16])
    prev = x
    for t, p in [("Conv2d", {"out_channels": channels, "kernel_size": 3, "padding": 1, "bias": False}),
                 ("BatchNorm2d", {}), ("ReLU", {}),
                 ("Conv2d", {"out_channels": channels, "kernel_size": 3, "padding": 1, "bias": False}),
                 ("BatchNorm2d", {}), ("Add", {}), ("ReLU", {}), ("Output", {})]:
        n = g.add_node(t, **p)
        g.connect(prev, n)
        if t == "Add":
            g.connect(x, n)
        prev = n
    return g


class LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm1 = nn.LSTM(8, 32, num_layers=2, batch_first=True)
        self.fc1 = nn.Linear(32, 4)

    def forward(self, x):
        out, _ = self.lstm1(x)
        return self.fc1(out[:, -1])


def lstm_graph():
    g = Graph(name="lstm classifier")
    x = g.add_node("Input", shape=[15, 8])
    lstm = g.add_node("LSTM", hidden_size=32, num_layers=2)
    fc = g.add_node("Linear", out_features=4)
    g.connect(x, lstm)
    g.connect(lstm, fc, src_port="last")
    g.connect(fc, g.add_node("Output"))
    return g


# name -> (hand-written class, graph builder, input shape of one sample)
PAIRS = {
    "mlp": (MLP, mlp_graph, (64,)),
    "lenet5": (LeNet5, lenet5_graph, (1, 32, 32)),
    "cifarnet": (CifarNet, cifarnet_graph, (3, 32, 32)),
    "residual": (ResidualBlock, residual_graph, (16, 16, 16)),
    "lstm": (LSTMClassifier, lstm_graph, (15, 8)),
}
