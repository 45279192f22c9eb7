"""NetLoom: design, train and inspect neural networks visually.

``python main.py`` opens the editor on the bundled example; ``python main.py check|train|export``
use the engine from the command line, with no display needed.
"""

from __future__ import annotations

import argparse
import sys

COMMANDS = ("check", "train", "export", "import", "experiment")


def _load(path: str):
    from graphs import GraphFileError, load_graph
    try:
        return load_graph(path)
    except GraphFileError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


MAX_INPUT_SIZE = 1 << 20      # one axis of an example input: far beyond any image or sequence


def _shape(text: str) -> list[int] | None:
    """``3,32,32`` or ``3x32x32``: positive sizes; None if the text is no shape."""
    parts = [p.strip() for p in text.replace("x", ",").split(",")]
    if not all(p.isascii() and p.isdigit() and len(p) < 10 and 0 < int(p) <= MAX_INPUT_SIZE for p in parts):
        return None
    return [int(p) for p in parts]


def command_line(argv: list[str]) -> int:
    for stream in (sys.stdout, sys.stderr):
        # A name from a file may hold what the terminal cannot show (a lone surrogate): escaped, never a crash.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
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
    p_train.add_argument("--weights", help="start from these weights (.safetensors, a checkpoint, or a PyTorch state "
                                           "dict .pt/.pth) instead of the ones the file names")
    p_train.add_argument("--json", action="store_true", help="print one JSON message per line")
    p_train.add_argument("--allow-download", action="store_true",
                         help="let a data set marked download: true be fetched into the folder it names")
    p_export = sub.add_parser("export", help="export a graph as a torch.export program, PyTorch code, TorchScript "
                                               "or ONNX")
    p_export.add_argument("file", help="a .loom graph file")
    p_export.add_argument("--to", choices=("pt2", "py", "torchscript", "onnx"), required=True,
                          help="pt2: a torch.export program (recommended; torch.export.load(FILE).module()); "
                               "py: a standalone Python file; torchscript: deprecated by PyTorch, kept while it "
                               "works; onnx: needs the onnx extra")
    p_export.add_argument("--dynamic-batch", action=argparse.BooleanOptionalAction, default=True,
                          help="pt2: accept any batch size (default), or only the example's with --no-dynamic-batch")
    p_export.add_argument("out", help="the file to write")
    p_export.add_argument("--weights", help="a .safetensors file of weights for the graph, or a checkpoint")
    p_export.add_argument("--weights-out", metavar="FILE",
                          help="py: where the weights go (default: beside OUT as .safetensors; never an existing "
                               "file unless --force)")
    p_export.add_argument("--force", action="store_true", help="py: let the weights replace an existing file")
    p_import = sub.add_parser("import", help="import a PyTorch model as a graph",
                              description="Import a PyTorch model as a graph. With path/to/file.py:Class the "
                                          "file's Python code is run to build the model: import only files you "
                                          "trust.")
    p_import.add_argument("source", help="torchvision:NAME, timm:NAME, transformers:NAME (a tiny configuration: "
                                         "bert, gpt2, llama, vit ...; timm and transformers need the zoo extra), "
                                         "path/to/file.py:Class (built with no arguments; the file's code is run) or "
                                         "path/to/model.onnx (needs the onnx extra)")
    p_import.add_argument("out", help="the .loom file to write; the weights go beside it as .safetensors")
    p_import.add_argument("--input-shape", help="one input's shape without the batch axis, e.g. 3,32,32")
    p_import.add_argument("--pretrained", action="store_true",
                          help="torchvision and timm models: with the library's pretrained weights from its cache, "
                               "recorded in the graph as the weights it starts from")
    p_import.add_argument("--allow-download", action="store_true",
                          help="with --pretrained: download the weights when they are not in the cache")
    p_import.add_argument("--tracer", choices=("auto", "fx", "export"), default="auto",
                          help="fx: torch.fx symbolic tracing; export: torch.export, for models fx cannot trace "
                               "(Hugging Face transformers); auto (default): fx, then export where fx fails")
    p_import.add_argument("--weights-out", metavar="FILE",
                          help="where the weights go (default: beside OUT as .safetensors; never an existing file "
                               "unless --force)")
    p_import.add_argument("--force", action="store_true", help="let the weights replace an existing file")
    p_experiment = sub.add_parser("experiment", help="train every variant of an experiment file and compare the "
                                                     "gradients their layers receive")
    p_experiment.add_argument("file", help="a .experiment.json file")
    p_experiment.add_argument("--epochs", type=int, help="epochs for every variant (default: each graph's own)")
    p_experiment.add_argument("--landscape", metavar="JSON",
                              help="write the loss landscape the variants' paths are drawn on (variants that record "
                                   "their paths: the landscape setting)")
    args = parser.parse_args(argv)
    if args.command == "experiment":
        from engine.cli.experiment_command import run_experiment
        from graphs import GraphFileError
        from graphs.experiment import load_experiment
        try:
            experiment = load_experiment(args.file)
        except GraphFileError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        return run_experiment(experiment, args.epochs, sys.stdout, sys.stderr, args.landscape)
    if args.command == "export":
        from engine.cli.model_io import run_export
        return run_export(_load(args.file), args.to, args.out, args.weights, sys.stderr, args.dynamic_batch,
                          graph_path=args.file, weights_out=args.weights_out, force=args.force)
    if args.command == "import":
        from engine.cli.model_io import run_import
        shape = _shape(args.input_shape) if args.input_shape is not None else None
        if args.input_shape is not None and shape is None:
            print(f"error: --input-shape: {args.input_shape[:40]!r} is not a shape; give positive sizes up to "
                  f"{MAX_INPUT_SIZE:,}, such as 3,32,32", file=sys.stderr)
            return 2
        return run_import(args.source, args.out, shape, sys.stderr, args.pretrained, args.allow_download, args.tracer,
                          args.weights_out, args.force)
    if args.command == "check":
        from engine.cli.check_command import run_check
        return run_check(_load(args.file), sys.stdout, args.file)
    if args.command == "train":
        from engine.cli.train_command import run_train
        return run_train(_load(args.file), args.file, args)
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        return command_line(argv)
    if argv and argv[0] in ("-V", "--version"):
        from resources import version
        print(f"netloom {version()}")
        return 0
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        print("\nusage: python main.py [FILE] [--train EPOCHS] [--screenshot PNG] [--theme light|dark]\n"
              "       python main.py --version\n"
              "       python main.py COMMAND ...  "
              "(" + ", ".join(COMMANDS) + "; python main.py COMMAND --help)")
        return 0
    return open_editor(argv)


def open_editor(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="netloom", description="Open the NetLoom editor")
    parser.add_argument("file", nargs="?", help="a .loom graph file (default: the bundled digits example)")
    parser.add_argument("--screenshot", metavar="PNG", help="save a screenshot of the window and exit")
    parser.add_argument("--train", type=int, metavar="EPOCHS",
                        help="train in the window for EPOCHS epochs (with --screenshot: then take it)")
    parser.add_argument("--theme", choices=("system", "light", "dark"),
                        help="light or dark (default: as chosen in View > Theme, else as the system)")
    args = parser.parse_args(argv)
    import resources
    from gui.app import run_app
    return run_app(args.file, resources.example(), screenshot=args.screenshot, train_epochs=args.train,
                   theme=args.theme)


if __name__ == "__main__":
    sys.exit(main())
