"""Which settings may differ when a run resumes from a checkpoint, and applying those that do.

A checkpoint carries the settings it was trained with. Settings that only say how to watch or
where to write (device, logging, probes, checkpoints) may change freely; more epochs and another
learning rate are applied to the restored optimizer and said so; anything that the saved state
depends on (data, batch size, optimizer, schedule, seed, loss) is refused with the reason,
because a resume that quietly ignored it would not be the run the person asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import ConfigError, TrainingConfig
from .freezing import GROUP_FACTOR

# Settings that change only how the run is watched, where it runs or where it writes.
_FREE = {"device", "checkpoint_dir", "checkpoint_every", "log_every", "probe_every", "probes", "probe_sample",
         "early_stopping", "clip_grad_norm", "compile",
         "start_from"}      # a resumed run's weights are the checkpoint's: where the first run started is history


def resume_changes(saved: dict[str, Any], config: TrainingConfig, path: Path) -> tuple[tuple[str, ...], float | None]:
    """Notes saying which settings differ from the checkpoint's, and the new learning rate if
    there is one to apply to the restored optimizer (``apply_learning_rate``).

    ConfigError names the first setting that cannot change on resume."""
    notes, new_lr = [], None
    for name, now in config.to_dict().items():
        if name not in saved:          # a setting newer than the checkpoint
            continue
        before = saved[name]
        if before == now or name in _FREE:
            continue
        if name == "epochs" and config.schedule not in ("cosine", "one_cycle"):
            notes.append(f"epochs: {now} (the checkpoint's run had {before})")
            continue
        if name == "lr" and config.schedule != "one_cycle":
            new_lr = now
            notes.append(f"learning rate: {now:g} from here on (the checkpoint's run had {before:g})")
            continue
        raise ConfigError(f"cannot resume {path} with {name} {now!r}: it was trained with {before!r}, and its "
                          f"saved state belongs to that setting{_why(name, config)}; leave {name} as it was, "
                          "or start a new run")
    return tuple(notes), new_lr


def settings_since(saved: dict[str, Any], config: TrainingConfig, path: Path) -> dict[str, Any]:
    """The checkpoint's settings with those added since it was written: a newer setting left at
    its default is the run the checkpoint made; set otherwise, it is refused by name."""
    defaults = TrainingConfig().to_dict()
    completed = dict(saved)
    for name, now in config.to_dict().items():
        if name in saved:
            continue
        if now != defaults[name] and name not in _FREE:
            raise ConfigError(f"cannot resume {path} with {name} {now!r}: the checkpoint was written before that "
                              "setting existed, by a run without it; leave it at its default, or start a new run")
        completed[name] = now
    return completed


def _why(name: str, config: TrainingConfig) -> str:
    if name in ("epochs", "lr") and config.schedule in ("cosine", "one_cycle"):
        return f" (the {config.schedule} schedule was laid out for the original epochs and learning rate)"
    return ""


def apply_learning_rate(optimizer, scheduler, lr: float) -> None:
    """The run's new rate, times each group's learning-rate factor."""
    rates = [lr * group.get(GROUP_FACTOR, 1.0) for group in optimizer.param_groups]
    for group, rate in zip(optimizer.param_groups, rates):
        group["lr"] = rate
        if "initial_lr" in group:
            group["initial_lr"] = rate
    if hasattr(scheduler, "base_lrs"):
        scheduler.base_lrs = list(rates)
