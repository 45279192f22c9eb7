"""Batching small data sets by indexing tensors on the device, against DataLoader(TensorDataset).

    python -m bench.data_path [--dataset digits] [--epochs 5] [--batch 64] [--device cpu]

Both paths feed the same LeNet the same number of training steps; rounds alternate in one
process. Prints samples/s of each and indexing / DataLoader.
"""

import argparse
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from engine import compile_graph
from engine.data import load_dataset
from graphs import load_graph

EXAMPLE = Path(__file__).resolve().parent.parent / "resources" / "examples" / "lenet_digits.loom"


def epoch_indexed(model, opt, x, y, batch, generator):
    order = torch.randperm(len(x), generator=generator).to(x.device)
    for index in order.split(batch):
        step(model, opt, x[index], y[index])


def epoch_loader(model, opt, loader, device):
    for xb, yb in loader:
        step(model, opt, xb.to(device, non_blocking=True), yb.to(device, non_blocking=True))


def step(model, opt, x, y):
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    opt.step()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    data = load_dataset(args.dataset)
    model = compile_graph(load_graph(EXAMPLE)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x_dev, y_dev = data.x_train.to(device), data.y_train.to(device)
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=args.batch, shuffle=True,
                        pin_memory=device.type == "cuda")
    generator = torch.Generator().manual_seed(0)
    rates = {"indexed": [], "loader": []}
    n = len(data.x_train) * args.epochs

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()
    for r in range(args.rounds + 1):
        for name in (("indexed", "loader") if r % 2 else ("loader", "indexed")):
            sync()
            start = time.perf_counter()
            for _ in range(args.epochs):
                if name == "indexed":
                    epoch_indexed(model, opt, x_dev, y_dev, args.batch, generator)
                else:
                    epoch_loader(model, opt, loader, device)
            sync()
            if r:   # round 0 warms up
                rates[name].append(n / (time.perf_counter() - start))
    indexed, loader_rate = statistics.median(rates["indexed"]), statistics.median(rates["loader"])
    print(f"{data.describe()}; device {device}, batch {args.batch}")
    print(f"tensors on the device, batched by indexing: {indexed:12,.0f} samples/s")
    print(f"DataLoader(TensorDataset):                  {loader_rate:12,.0f} samples/s")
    print(f"ratio indexing / DataLoader:                {indexed / loader_rate:12.2f}")


if __name__ == "__main__":
    main()
