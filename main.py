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
COMMANDS = ("check",)


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
    args = parser.parse_args(argv)
    if args.command == "check":
        from engine.cli.check_command import run_check
        return run_check(_load(args.file), sys.stdout)
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        return command_line(argv)
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        print("\ncommands: " + ", ".join(COMMANDS) + "  (python main.py COMMAND --help)")
        return 0
    print("The graphical editor is not part of this version yet; use the command line:\n"
          f"  python main.py check {DEFAULT_EXAMPLE.relative_to(Path.cwd()) if DEFAULT_EXAMPLE.is_relative_to(Path.cwd()) else DEFAULT_EXAMPLE}",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
