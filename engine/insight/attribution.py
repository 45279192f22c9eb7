"""What drove a prediction: Grad-CAM on a convolution layer (Selvaraju et al.), the input
gradient (saliency, Simonyan et al.) for any model, and occlusion: the score lost when a patch
of the input is hidden, the slow but assumption-free reference the other two are judged by."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx

from graphs import Graph

from .layer_values import InsightError, input_scaler, run_keeping

CONVOLUTIONS = ("Conv2d",)


def grad_cam_layer(model: fx.GraphModule, graph: Graph, x: torch.Tensor) -> str | None:
    """The layer Grad-CAM looks at: the last convolution, or block of them (a ResNet stage, a
    VGG stage), whose output is still a map (more than one position) for ``x``; None for a
    network without one, which gets saliency instead."""
    candidates = [n.id for n in graph.nodes.values() if n.type in CONVOLUTIONS or n.type in graph.blocks]
    if not candidates or x.dim() != 4:
        return None
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            _, kept = run_keeping(model, candidates, x)
    finally:
        model.train(was_training)
    maps = [layer for layer, value in kept.items() if value.dim() == 4 and value.shape[-2] * value.shape[-1] > 1]
    return maps[-1] if maps else None           # kept in the order the forward computed them


def _scores(output) -> torch.Tensor:
    output = output[0] if isinstance(output, tuple) else output
    if output.dim() != 2:
        raise InsightError(f"this view needs a classifier with one score per class; the model gives "
                           f"{'x'.join(map(str, output.shape[1:]))} per sample")
    return output


def _target(scores: torch.Tensor, target: int | None) -> int:
    if target is None:
        return int(scores[0].argmax())
    if not 0 <= target < scores.shape[1]:
        raise InsightError(f"class {target} does not exist: the model scores {scores.shape[1]} classes")
    return target


def grad_cam(model: fx.GraphModule, layer: str, x: torch.Tensor, target: int | None = None) -> tuple[torch.Tensor, int]:
    """The Grad-CAM map of one sample ``x`` (1 x C x H x W) for class ``target`` (None: the
    predicted class), at the input's size (H x W), 0 to 1; and the class it explains.

    Each of ``layer``'s channels is weighted by the mean gradient of the class score over its
    positions; the positive part of the weighted sum is where the evidence for the class lies."""
    if x.dim() != 4:
        raise InsightError(f"Grad-CAM needs an image input, not one of shape {list(x.shape[1:])}")
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            # the input asks for a gradient, so the maps carry one even in a frozen model
            output, kept = run_keeping(model, [layer], x.detach().float().requires_grad_(True))
            scores = _scores(output)
            target = _target(scores, target)
            maps = kept.get(layer)
            if maps is None or maps.dim() != 4:
                raise InsightError(f"{layer} gives no feature maps for Grad-CAM")
            gradient, = torch.autograd.grad(scores[0, target], maps)
    finally:
        model.train(was_training)
    weights = gradient.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * maps.detach()).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    return _unit(cam), target


def saliency(model: fx.GraphModule, x: torch.Tensor, target: int | None = None) -> tuple[torch.Tensor, int]:
    """|d score / d input| of one sample, 0 to 1, for class ``target`` (None: the predicted one):
    the input's shape, or H x W for an image (the largest over its colour channels)."""
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            x = x.detach().float().requires_grad_(True)
            scores = _scores(model(x))
            target = _target(scores, target)
            gradient, = torch.autograd.grad(scores[0, target], x)
    finally:
        model.train(was_training)
    found = gradient[0].abs()
    if found.dim() == 3:
        found = found.amax(dim=0)
    return _unit(found), target


def occlusion(model: fx.GraphModule, x: torch.Tensor, target: int, patch: int = 3,
              baseline: float | None = None) -> torch.Tensor:
    """H x W: how much the score (logit) of ``target`` falls when the ``patch`` x ``patch`` square
    centred on each pixel is set to ``baseline``; by default the data set's mean, as the model
    takes its input (0 after normalising; for a graph whose Normalize step takes raw values, that
    step's mean, channel by channel). The logit, not the probability: a confident model's
    probability barely moves, its logit does."""
    _, channels, height, width = x.shape
    half = patch // 2
    scaler = input_scaler(model) if baseline is None else None
    mean = getattr(scaler, "mean", None)
    fill = (mean.to(x).reshape(-1, 1, 1) if isinstance(mean, torch.Tensor) and mean.numel() in (1, channels)
            else torch.tensor(baseline or 0.0).to(x))
    hidden = x.repeat(height * width, 1, 1, 1)
    for i in range(height):
        for j in range(width):
            rows, cols = slice(max(0, i - half), i + half + 1), slice(max(0, j - half), j + half + 1)
            patch_area = hidden[i * width + j, :, rows, cols]
            patch_area.copy_(fill.expand_as(patch_area))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            base = _scores(model(x)).float()[0, target]
            hidden_scores = torch.cat([_scores(model(chunk)).float()[:, target] for chunk in hidden.split(256)])
    finally:
        model.train(was_training)
    return (base - hidden_scores).reshape(height, width)


def _unit(values: torch.Tensor) -> torch.Tensor:
    values = values.detach().float()
    high = float(values.max())
    return values / high if high > 0 else torch.zeros_like(values)
