"""``python main.py train FILE``: train from the terminal with a progress line, or ``--json``
for scripts. The first Ctrl-C stops cleanly after saving a checkpoint."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import TextIO

from graphs import Graph

from ..training import Control, TrainingConfig, train
from ..training.config import ConfigError
from ..training.messages import (
    CheckpointSaved,
    EpochMetrics,
    Failed,
    Finished,
    RunStarted,
    StartWeights,
    StepMetrics,
    to_json,
)

MISMATCHES_SHOWN = 12       # tensors that do not fit, listed one per line


def settings_from_args(graph: Graph, graph_path: str, args) -> TrainingConfig:
    where = f"{graph_path}: training"
    # The file's folder for checkpoints matters only when the command line names none.
    config = (TrainingConfig.from_dict if args.checkpoint_dir is not None else TrainingConfig.from_file)(
        graph.training, where=where)
    changes = {}
    for name, value in (("dataset", args.dataset), ("epochs", args.epochs), ("batch_size", args.batch_size),
                        ("lr", args.lr), ("device", args.device), ("checkpoint_dir", args.checkpoint_dir)):
        if value is not None:
            changes[name] = value
    if args.dataset is not None and args.dataset != config.dataset:
        changes["dataset_options"] = {}     # options of another data set would not apply
    if "checkpoint_dir" not in changes and not config.checkpoint_dir:
        changes["checkpoint_dir"] = str(Path("checkpoints") / Path(graph_path).stem)
    weights = getattr(args, "weights", None)
    if weights:
        # Another start for this run only: the file is not changed, so nothing records its checksum;
        # the statistics the graph's inputs are normalised with stay the graph's.
        kept = {k: v for k, v in config.start_from.items() if k in ("mean", "std")}
        changes["start_from"] = kept | {"path": str(Path(weights).resolve()), "source": f"--weights {weights}"}
    try:
        return config.replace(**changes)
    except ConfigError as err:       # a value given on the command line: named as it was given
        field = str(err).partition(":")[0].removeprefix("training.")
        if field in changes and getattr(args, field, None) is not None:
            raise ConfigError(f"--{field.replace('_', '-')}{str(err).partition(':')[1]}{str(err).partition(':')[2]}") \
                from None
        raise


def run_train(graph: Graph, graph_path: str, args, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        config = settings_from_args(graph, graph_path, args)
    except ConfigError as error:
        print(f"error: {error}", file=err)
        return 2
    control = Control()
    rank = int(os.environ.get("RANK", "0"))

    def on_interrupt(signum, frame):
        if control.stop_requested:      # a second Ctrl-C: give up at once
            raise KeyboardInterrupt
        if rank == 0:
            print("\nstopping after this step (Ctrl-C again to abort)...", file=err)
        control.stop()
    previous = signal.signal(signal.SIGINT, on_interrupt)
    progress = _Progress(err, enabled=not args.json and rank == 0)
    final = None
    try:
        for message in train(graph, config, control, resume=args.resume,
                             allow_download=getattr(args, "allow_download", False),
                             graph_folder=str(Path(graph_path).resolve().parent)):
            if args.json:
                if rank == 0 or isinstance(message, (Finished, Failed)):
                    print(json.dumps(to_json(message) | ({"rank": rank} if rank else {})), file=out, flush=True)
            else:
                progress.show(message)
            if isinstance(message, (Finished, Failed)):
                final = message
    finally:
        signal.signal(signal.SIGINT, previous)
        progress.close()
    if isinstance(final, Failed):
        if not args.json:
            print(f"error: {final.reason}", file=err)
            for line in final.diagnostics:
                print(f"  {line}", file=err)
        return 1
    if not args.json and rank == 0 and final is not None:
        accuracy = f"{final.val_accuracy:.1%}" if final.val_accuracy is not None else "n/a"
        loss = f"{final.val_loss:.4f}" if final.val_loss is not None else "n/a"
        print(f"{final.reason} after {final.epoch} epochs ({final.step} steps) in {progress.elapsed():.1f} s: "
              f"validation accuracy {accuracy}, validation loss {loss}", file=out)
    return 0 if final is not None else 1


class _Progress:
    """One live line on a terminal; one line per epoch when the output is a file or a pipe."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream, self.enabled = stream, enabled
        self.live = enabled and stream.isatty()
        self.started = time.perf_counter()
        self.total_steps = 1
        self.epochs = 1
        self.last: dict = {}

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def show(self, m) -> None:
        if not self.enabled:
            return
        if isinstance(m, RunStarted):
            self.total_steps = max(1, m.steps_per_epoch * m.epochs)
            self.epochs = m.epochs
            resumed = f", resumed at epoch {m.start_epoch}" if m.start_epoch else ""
            frozen = f" ({m.frozen_parameters:,} frozen)" if m.frozen_parameters else ""
            print(f"training on {m.device}: {m.parameters:,} parameters{frozen}, {m.dataset} with "
                  f"{m.train_samples:,} training / {m.val_samples:,} validation samples{resumed}", file=self.stream)
            for note in m.notes:
                print(f"resuming with {note}", file=self.stream)
            if m.input_scaling:
                print(m.input_scaling, file=self.stream)
        elif isinstance(m, StartWeights):
            print(f"starting from {m.path}: {m.summary}", file=self.stream)
            for line in m.mismatches[:MISMATCHES_SHOWN]:
                print(f"  {line}", file=self.stream)
            if len(m.mismatches) > MISMATCHES_SHOWN:
                print(f"  ... and {len(m.mismatches) - MISMATCHES_SHOWN} more", file=self.stream)
        elif isinstance(m, StepMetrics):
            self.last.update(loss=m.loss, rate=m.samples_per_s)
            if self.live:
                done = m.step / self.total_steps
                bar = "#" * int(done * 24)
                acc = f" val acc {self.last['acc']:.1%}" if self.last.get("acc") is not None else ""
                print(f"\repoch {m.epoch + 1}/{self.epochs} [{bar:<24}] loss {m.loss:.4f}{acc} "
                      f"{m.samples_per_s:,.0f} samples/s ", end="", file=self.stream, flush=True)
        elif isinstance(m, EpochMetrics):
            self.last["acc"] = m.val_accuracy
            if not self.live:
                acc = (f" train acc {m.train_accuracy:.1%} val acc {m.val_accuracy:.1%}"
                       if m.val_accuracy is not None else "")
                penalty = f" (+ L1 {m.penalty:.4f})" if m.penalty is not None else ""
                print(f"epoch {m.epoch}/{self.epochs}: loss {m.train_loss:.4f}{penalty} val loss {m.val_loss:.4f}{acc} "
                      f"{self.last.get('rate', 0):,.0f} samples/s", file=self.stream, flush=True)
        elif isinstance(m, CheckpointSaved) and m.path and not self.live:
            pass
        elif isinstance(m, (Finished, Failed)):
            self.close()
            if isinstance(m, Finished) and m.reason == "stopped":
                print(f"stopped at epoch {m.epoch}, step {m.step}", file=self.stream)

    def close(self) -> None:
        if self.live:
            print(file=self.stream, flush=True)
            self.live = False
