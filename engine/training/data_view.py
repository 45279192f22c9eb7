"""The data as the model sees it: the images a run trains on, normalised as the settings say and
augmented batch by batch, and a batch of them as pictures for the window to draw.

Which statistics inputs are normalised with is the settings' ``normalize`` (``input_statistics``);
where is the graph's: by its own Normalize step after the Input, which then gets them and takes
raw values, or else by the data set (``engine.data.scaling``).

The training loop and ``batch_as_seen`` prepare the data with the same two functions here
(``prepared_data``, ``run_augmentation``) and draw the same samples with the same random numbers,
so what the window shows before training is the first batch a run on the CPU will train on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from graphs import Graph

from ..compiling import module_attributes
from ..data import DataError, DataSet, data_statistics, input_normalizer, load_dataset, raw_values, scaling_note
from ..data.augment import Augmentation
from ..data.normalization import IMAGENET_MEAN, IMAGENET_STD, pixel_statistics, renormalized, to_pixels
from .config import ConfigError, TrainingConfig

SHOWN = 16                      # samples a batch view holds


@dataclass(frozen=True)
class SeenBatch:
    inputs: torch.Tensor        # what the model is fed: N x C x H x W, augmented and normalised
    pixels: np.ndarray          # the same as pictures, N x H x W x C uint8 (the normalisation undone)
    labels: tuple[int, ...]
    class_names: tuple[str, ...]
    description: str            # what was done to them

    @property
    def label_names(self) -> list[str]:
        return [self.class_names[i] if 0 <= i < len(self.class_names) else str(i) for i in self.labels]


def input_statistics(data: DataSet, config: TrainingConfig) -> tuple[list[float], list[float]] | None:
    """The (mean, std) per channel that ``config.normalize`` scales the inputs with: the data
    set's own (None for data it does not standardise), ImageNet's, or the start weights'."""
    if config.normalize == "data":
        return data_statistics(data)
    if config.normalize == "imagenet":
        return list(IMAGENET_MEAN), list(IMAGENET_STD)
    return [float(v) for v in config.start_from["mean"]], [float(v) for v in config.start_from["std"]]


def statistics_source(data: DataSet, config: TrainingConfig) -> str:
    return {"data": f"the statistics of {data.name}", "imagenet": "ImageNet's statistics",
            "weights": "the start weights' statistics"}[config.normalize]


def export_note(graph: Graph, state: dict[str, torch.Tensor] | None = None) -> str:
    """What the inputs of the graph's exported model need, in words, for the exported file and
    the person exporting it: nothing for a graph that normalises its input itself (the
    statistics it holds, ``state``'s trained ones if given), else the normalisation training
    gives its data set; "" when there is nothing to say (a data set that is not normalised)."""
    try:
        config = TrainingConfig.from_dict(graph.training)
    except ConfigError:
        return ""
    node = input_normalizer(graph)
    if node is not None:
        params, attribute = graph.nodes[node].params, module_attributes(graph)[node]
        held = [state.get(f"{attribute}.{k}") for k in ("mean", "std")] if state is not None else [None, None]
        found = tuple(t.flatten().tolist() if t is not None else params[k] for t, k in zip(held, ("mean", "std")))
        return scaling_note(graph, (list(found[0]), list(found[1])), "", config.dataset)
    options = {k: v for k, v in config.dataset_options.items() if k != "download"}
    try:
        data = load_dataset(config.dataset, **options)
    except DataError as err:
        return (f"The model's inputs may need scaling as training gives them: {config.dataset} cannot be read here to "
                f"say how ({err}).")
    return scaling_note(graph, input_statistics(data, config), statistics_source(data, config), config.dataset)


def prepared_data(data: DataSet, config: TrainingConfig, graph: Graph | None = None) -> DataSet:
    """The data set as the model is fed it: raw values for a graph that normalises its input
    itself, else normalised as ``config.normalize`` says: unchanged for "data", with the start
    weights' or ImageNet's statistics otherwise."""
    if graph is not None and input_normalizer(graph) is not None:
        return raw_values(data)
    if config.normalize == "data":
        return data
    if config.normalize == "imagenet":
        return renormalized(data, IMAGENET_MEAN, IMAGENET_STD, "ImageNet's statistics")
    entry = config.start_from
    return renormalized(data, entry["mean"], entry["std"], "the start weights' statistics")


def run_augmentation(data: DataSet, config: TrainingConfig) -> Augmentation:
    """The augmentation of a run: the settings' and the data set's own options together."""
    augmentation = Augmentation.from_settings(config.augment).with_data_options(data.extra)
    if augmentation.active and (data.kind != "image" or data.x_train.dim() != 4):
        raise ConfigError(f"training.augment: augmentations change images, but {data.name} holds {data.kind} data; "
                          "leave them off")
    return augmentation


def describe(data: DataSet, config: TrainingConfig, augmentation: Augmentation, graph: Graph | None = None) -> str:
    node = input_normalizer(graph) if graph is not None else None
    if node is not None:
        return f"augmentations: {augmentation.describe()}; raw values, which the graph's {node} step normalises"
    statistics = {"data": "its own statistics" if pixel_statistics(data) is not None else "none (pixels 0 to 1)",
                  "imagenet": "ImageNet's statistics", "weights": "the start weights' statistics"}[config.normalize]
    return f"augmentations: {augmentation.describe()}; normalised with {statistics}"


def pictures(x: torch.Tensor, data: DataSet) -> np.ndarray:
    """Images as the person sees them: pixels 0-255, N x H x W x C."""
    pixels = to_pixels(x.detach().float(), data).clamp(0, 1)
    return (pixels * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The shuffled order of an epoch, a function of (seed, epoch) alone: resuming needs no state."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))


def batch_as_seen(training: dict[str, Any] | TrainingConfig, data: DataSet | None = None,
                  count: int = SHOWN, graph: Graph | None = None) -> SeenBatch:
    """The first ``count`` samples of the first training batch, exactly as a run on the CPU
    feeds them to the model (a GPU run draws other random numbers of the same kind); what
    later batches look like comes with the run, as ``TrainingBatch`` messages.
    ``training``: the graph's training settings; ``data``: the data set if already loaded (else
    it is loaded, never downloaded); ``graph``: the graph it trains, which may normalise its input
    itself. For the window's Data tab: call it in a background thread.
    DataError or ConfigError with a message for the person."""
    config = training if isinstance(training, TrainingConfig) else TrainingConfig.from_dict(training)
    if data is None:
        options = {k: v for k, v in config.dataset_options.items() if k != "download"}
        data = load_dataset(config.dataset, **options)
    if data.kind != "image" or data.x_train.dim() != 4:
        raise DataError(f"{data.name} holds {data.kind} data, not images: there is no picture of it to show")
    data = prepared_data(data, config, graph)
    augmentation = run_augmentation(data, config)
    order = epoch_order(len(data.x_train), config.seed, 0)[:config.batch_size]
    x = data.x_train[order]
    if augmentation.active:      # the whole batch, as training draws its numbers for the whole batch
        x = augmentation.apply(x, torch.Generator().manual_seed(config.seed + 1), pixel_statistics(data))
    x, labels = x[:count], data.y_train[order][:count]
    return SeenBatch(x, pictures(x, data), tuple(int(v) for v in labels), tuple(data.class_names),
                     describe(data, config, augmentation, graph))
