"""NetLoom: design, train and inspect neural networks visually.

``python main.py`` opens the editor on the bundled example; ``python main.py check|train|export``
use the engine from the command line, with no display needed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent / "resources" / "examples"
DEFAULT_EXAMPLE = EXAMPLES / "lenet_digits.loom"
COMMANDS = ("check", "train")


def _load(path: str):
    from graphs import GraphFileError, load_graph
    try:
        return load_graph(path)
    except GraphFileError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2)


def command_line(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="netloom", description="NetLoom command line")
    sub = parser.add_subparsers(dest="command", required=True)
    p_check = sub.add_parser("check", help="check a graph file and print shapes, parameters and problems")
    p_check.add_argument("file", help="a .loom graph file")
    p_train = sub.add_parser("train", help="train a graph on its data set")
    p_train.add_argument("file", help="a .loom graph file (its training section gives the settings)")
    p_train.add_argument("--dataset", help="data set name (digits, spiral, moons, mnist, ...)")
    p_train.add_argument("--epochs", type=int)
    p_train.add_argument("--batch-size", type=int)
    p_train.add_argument("--lr", type=float, help="learning rate")
    p_train.add_argument("--device", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:1, mps")
    p_train.add_argument("--checkpoint-dir", help="where checkpoints go (default: checkpoints/FILE-NAME)")
    p_train.add_argument("--resume", help="continue from a checkpoint (its .safetensors file or folder)")
    p_train.add_argument("--json", action="store_true", help="print one JSON message per line")
    args = parser.parse_args(argv)
    if args.command == "check":
        from engine.cli.check_command import run_check
        return run_check(_load(args.file), sys.stdout)
    if args.command == "train":
        from engine.cli.train_command import run_train
        return run_train(_load(args.file), args.file, args)
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        return command_line(argv)
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        print("\nusage: python main.py [FILE] [--train EPOCHS] [--screenshot PNG]\n       python main.py COMMAND ...  "
              "(" + ", ".join(COMMANDS) + "; python main.py COMMAND --help)")
        return 0
    return open_editor(argv)


def open_editor(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="netloom", description="Open the NetLoom editor")
    parser.add_argument("file", nargs="?", help="a .loom graph file (default: the bundled digits example)")
    parser.add_argument("--screenshot", metavar="PNG", help="save a screenshot of the window and exit")
    parser.add_argument("--train", type=int, metavar="EPOCHS",
                        help="train in the window for EPOCHS epochs (with --screenshot: then take it)")
    args = parser.parse_args(argv)
    from gui.app import run_app
    return run_app(args.file, DEFAULT_EXAMPLE, screenshot=args.screenshot, train_epochs=args.train)


if __name__ == "__main__":
    sys.exit(main())
