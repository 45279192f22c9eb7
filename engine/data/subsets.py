"""Options every classification data set takes: a subset of its classes, and a few training
samples per class (``class_subset: [5, 6, 7, 8, 9]``, ``per_class: 50``): what fine-tuning on a
small data set of one's own looks like, from any data set. (``classes`` is taken: the generated
sets use it for how many classes they make.)

A standardised data set is standardised again with the statistics of the training samples it
keeps: statistics come from what is trained on, as everywhere else. A loader that takes these
options itself (the digits, which enlarge and colour only the samples kept) gives the same."""

from __future__ import annotations

from typing import Any

import torch

from .base import CLASSIFICATION, DataError, DataSet, standardize

# option -> default (None and 0: the whole data set)
SUBSET_OPTIONS: dict[str, Any] = {"class_subset": None, "per_class": 0}


def subset(data: DataSet, class_subset: Any = None, per_class: Any = 0) -> DataSet:
    """Only the classes ``class_subset`` names (indices or names, labelled 0, 1 ... in the order given), and at
    most ``per_class`` training samples of each (the first ones of the shuffled training part;
    validation keeps every sample of the chosen classes)."""
    if class_subset is None and not per_class:
        return data
    where = f"data set '{data.name}'"
    if data.task != CLASSIFICATION or data.y_train.dim() != 1:
        raise DataError(f"{where}: class_subset and per_class choose among class labels, which it does not have")
    chosen = _class_indices(data, class_subset, where)
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 0:
        raise DataError(f"{where}: option 'per_class' must be a whole number of samples (0: all), not {per_class!r}")
    relabel = torch.full((len(data.class_names),), -1, dtype=torch.int64)
    relabel[torch.tensor(chosen)] = torch.arange(len(chosen))
    x_train, y_train = _keep(data.x_train, relabel[data.y_train.cpu()], per_class)
    x_val, y_val = _keep(data.x_val, relabel[data.y_val.cpu()], 0)
    if len(x_train) == 0 or len(x_val) == 0:
        raise DataError(f"{where}: the classes chosen leave no {'training' if len(x_train) == 0 else 'validation'} "
                        "samples")
    kept = DataSet(data.name, x_train, y_train, x_val, y_val, data.task, [data.class_names[i] for i in chosen],
                   data.kind, dict(data.extra))
    return _standardized_again(kept) if len(x_train) < len(data.x_train) else kept


def _standardized_again(data: DataSet) -> DataSet:
    """The data set standardised with its own training samples' statistics, where it was
    standardised with those of more samples."""
    mean, std = data.extra.get("mean"), data.extra.get("std")
    if mean is None or std is None:
        return data
    extra = dict(data.extra)
    x_train, x_val = standardize(data.x_train * std + mean, data.x_val * std + mean, extra)
    return DataSet(data.name, x_train, data.y_train, x_val, data.y_val, data.task, data.class_names, data.kind, extra)


def _class_indices(data: DataSet, classes: Any, where: str) -> list[int]:
    names = data.class_names
    if classes is None:
        return list(range(len(names)))
    if not isinstance(classes, list) or not classes:
        raise DataError(f"{where}: option 'class_subset' must be a list of class numbers or names, not {classes!r}")
    chosen = []
    for item in classes:
        if isinstance(item, int) and not isinstance(item, bool) and 0 <= item < len(names):
            index = item
        elif isinstance(item, str) and item in names:
            index = names.index(item)
        else:
            shown = ", ".join(names[:12]) + (" ..." if len(names) > 12 else "")
            raise DataError(f"{where}: option 'class_subset': {item!r} is not one of its {len(names)} classes "
                            f"(numbers 0-{len(names) - 1} or names: {shown})")
        if index in chosen:
            raise DataError(f"{where}: option 'class_subset' names {names[index]!r} twice")
        chosen.append(index)
    return chosen


def _keep(x: torch.Tensor, labels: torch.Tensor, per_class: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The samples whose label is chosen (>= 0), at most ``per_class`` of each, in their order."""
    keep = labels >= 0
    if per_class and bool(keep.any()):
        safe = labels.clamp(min=0)
        seen = (torch.nn.functional.one_hot(safe) * keep[:, None]).cumsum(0)      # samples of each class so far
        keep &= seen.gather(1, safe[:, None]).squeeze(1) <= per_class
    index = torch.nonzero(keep).flatten()
    return x[index.to(x.device)], labels[index].to(x.device)
