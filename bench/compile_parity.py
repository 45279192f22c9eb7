"""Training speed of compiled graphs against the same networks written by hand in PyTorch.

    python -m bench.compile_parity [--rounds 6] [--steps 30] [--batch 64]

Both models train with the same optimizer on the same batches; rounds alternate between them
in one process so that machine noise hits both alike. Prints steps/s and compiled / hand.
"""

import argparse
import statistics
import time

import torch

from engine import compile_graph
from tests.engine.networks import PAIRS


def steps_per_second(model, batches, targets_of, optimizer) -> float:
    sync = torch.cuda.synchronize if batches[0].is_cuda else (lambda: None)
    sync()
    start = time.perf_counter()
    for x in batches:
        optimizer.zero_grad(set_to_none=True)
        out = model(x)
        loss = torch.nn.functional.mse_loss(out, targets_of(out))
        loss.backward()
        optimizer.step()
    sync()
    return len(batches) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {device}, {torch.get_num_threads()} CPU threads, batch {args.batch}")
    print(f"{'network':<10} {'hand steps/s':>13} {'compiled steps/s':>17} {'ratio':>7}")
    for name, (hand_cls, build, shape) in PAIRS.items():
        hand = hand_cls().to(device)
        compiled = compile_graph(build()).to(device)
        compiled.load_state_dict(hand.state_dict())
        batches = [torch.randn(args.batch, *shape, device=device) for _ in range(args.steps)]
        fixed_targets = {}
        def targets_of(out, fixed_targets=fixed_targets):
            return fixed_targets.setdefault(out.shape, torch.randn(out.shape, device=device))
        runs = {"hand": [], "compiled": []}
        opts = {"hand": torch.optim.SGD(hand.parameters(), lr=1e-3),
                "compiled": torch.optim.SGD(compiled.parameters(), lr=1e-3)}
        models = {"hand": hand, "compiled": compiled}
        steps_per_second(hand, batches[:3], targets_of, opts["hand"])          # warm-up
        steps_per_second(compiled, batches[:3], targets_of, opts["compiled"])
        for r in range(args.rounds):
            order = ("hand", "compiled") if r % 2 == 0 else ("compiled", "hand")
            for key in order:
                runs[key].append(steps_per_second(models[key], batches, targets_of, opts[key]))
        hand_rate, comp_rate = statistics.median(runs["hand"]), statistics.median(runs["compiled"])
        print(f"{name:<10} {hand_rate:>13.1f} {comp_rate:>17.1f} {comp_rate / hand_rate:>7.3f}")


if __name__ == "__main__":
    main()
