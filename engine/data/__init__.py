"""Data sets by name: ``load_dataset("digits")``, ``load_dataset("spiral", noise=0.3)`` ...

Options are checked against the loader's own parameters, so a misspelt option is named in
the error instead of being ignored.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from . import file_sets, image_sets, synthetic
from .augment import SETTINGS as AUGMENT_SETTINGS
from .augment import Augmentation
from .base import CLASSIFICATION, REGRESSION, DataError, DataSet
from .scaling import (
    as_graph_takes,
    data_statistics,
    describe_statistics,
    input_normalizer,
    raw_values,
    scaling_note,
    statistics_edit,
)
from .subsets import SUBSET_OPTIONS, subset
from .tokens import PAD, UNKNOWN, skipgram_pairs, skipgram_positions, words

LOADERS: dict[str, Callable[..., DataSet]] = {
    "digits": synthetic.digits,
    "spiral": synthetic.spiral,
    "moons": synthetic.moons,
    "circles": synthetic.circles,
    "xor": synthetic.xor,
    "gaussian": synthetic.gaussian,
    "sine": synthetic.sine,
    "curve": synthetic.curve,
    "surface": synthetic.surface,
    "waves": synthetic.waves,
    "long_memory": synthetic.long_memory,
    "mnist": functools.partial(image_sets.mnist_family, "mnist"),
    "fashion_mnist": functools.partial(image_sets.mnist_family, "fashion_mnist"),
    "cifar10": functools.partial(image_sets.cifar, "cifar10"),
    "cifar100": functools.partial(image_sets.cifar, "cifar100"),
    "image_folder": file_sets.image_folder,
    "csv": file_sets.csv_table,
    "text": file_sets.text_file,
    "sentences": file_sets.labelled_sentences,
}


def dataset_options(name: str) -> dict[str, Any]:
    """The options a data set takes, with their defaults (``inspect.Parameter.empty`` if required):
    its loader's own, then those every data set takes (a subset of its classes)."""
    loader = _loader(name)
    return {p.name: p.default for p in inspect.signature(loader).parameters.values()} | SUBSET_OPTIONS


def load_dataset(name: str, allow_download: bool = False, **options: Any) -> DataSet:
    """A data set by name with its options. ``download: true`` in the options is honoured only
    with ``allow_download``: a file must not make NetLoom create folders and fetch data on its
    own; the command line asks for ``--allow-download`` and the window asks the person."""
    loader = _loader(name)
    known = dataset_options(name)
    for key in options:
        if key not in known:
            raise DataError(f"data set '{name}' has no option '{key}'; it takes {', '.join(known) or 'none'}")
    missing = [k for k, v in known.items() if v is inspect.Parameter.empty and k not in options]
    if missing:
        raise DataError(f"data set '{name}' needs the option(s) {', '.join(missing)}")
    options = dict(options)
    for key, value in options.items():
        default = known[key]
        if isinstance(default, bool) and not isinstance(value, bool):
            raise DataError(f"data set '{name}': option '{key}' must be true or false, not {value!r}")
        if isinstance(default, (int, float)) and not isinstance(default, bool) and (
                isinstance(value, bool) or not isinstance(value, (int, float))):
            raise DataError(f"data set '{name}': option '{key}' must be a number, not {value!r}")
    if options.get("download") is True and not allow_download:
        raise DataError(f"data set '{name}' asks to be downloaded into {options.get('root', '?')}: NetLoom downloads "
                        "only when you agree (the window asks; on the command line add --allow-download)")
    chosen = {k: options.pop(k) for k in SUBSET_OPTIONS if k in options}
    if set(SUBSET_OPTIONS) <= set(inspect.signature(loader).parameters):
        return loader(**options, **chosen)      # it picks the samples before its costly work on them
    return subset(loader(**options), **chosen)


def _loader(name: str) -> Callable[..., DataSet]:
    try:
        return LOADERS[name]
    except KeyError:
        raise DataError(f"unknown data set '{name}'; known: {', '.join(LOADERS)}") from None


__all__ = ["AUGMENT_SETTINGS", "CLASSIFICATION", "PAD", "UNKNOWN", "Augmentation", "DataError", "DataSet", "LOADERS",
           "REGRESSION", "SUBSET_OPTIONS", "as_graph_takes", "data_statistics", "dataset_options", "describe_statistics",
           "input_normalizer", "load_dataset", "raw_values", "scaling_note", "skipgram_pairs",
           "skipgram_positions", "statistics_edit", "words"]
