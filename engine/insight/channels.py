"""What a channel responds to: an input optimised from noise to excite one channel of a layer
(activation maximisation, as in Erhan et al. and Olah et al.'s "Feature Visualization").

Without regularisers the optimum is high-frequency noise that says nothing; three common ones
keep it readable: the input is jittered (shifted a pixel or two) before each step, blurred
now and then, and its size is penalised (L2)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import fx

from .layer_values import InsightError, truncated

MAX_CHANNELS = 64


@dataclass(frozen=True)
class ChannelImages:
    layer: str
    channels: tuple[int, ...]
    images: np.ndarray = field(repr=False)       # channels x C x H x W: the inputs found
    activation: np.ndarray = field(repr=False)   # each channel's mean activation for its input
    noise_activation: np.ndarray = field(repr=False)   # ... and for noise of the same size (mean of 16 draws)
    noise_spread: np.ndarray = field(repr=False)       # the standard deviation over those draws


@dataclass(frozen=True)
class Regularisers:
    steps: int = 160
    lr: float = 0.1
    jitter: int = 1            # pixels; shifted at random in both axes before each step
    blur_every: int = 8        # steps between Gaussian blurs (0: never)
    blur_sigma: float = 0.5
    l2: float = 1e-3           # weight of the mean squared input


def maximise_channels(model: fx.GraphModule, layer: str, input_shape: tuple[int, ...], count: int = 16,
                      settings: Regularisers = Regularisers(), seed: int = 0) -> ChannelImages:
    """Inputs that maximise the mean activation of each of ``layer``'s first ``count`` channels,
    all optimised at once as one batch (one image per channel)."""
    if len(input_shape) != 3:
        raise InsightError(f"channel images need image input (channels x height x width), not {list(input_shape)}")
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    cut = truncated(model, layer).eval()
    generator = torch.Generator().manual_seed(seed)
    probe = torch.randn((1, *input_shape), generator=generator).to(device)
    with torch.no_grad():
        out = cut(probe)
    if not isinstance(out, torch.Tensor) or out.dim() < 2 or not out.is_floating_point():
        raise InsightError(f"{layer} does not give one tensor with channels")
    count = max(1, min(count, out.shape[1], MAX_CHANNELS))
    channels = torch.arange(count, device=device)
    frozen = [p for p in cut.parameters() if p.requires_grad]
    for p in frozen:              # only the input learns; the model is shared with its owner
        p.requires_grad_(False)
    try:
        return _optimise(cut, layer, input_shape, channels, settings, generator, device)
    finally:
        for p in frozen:
            p.requires_grad_(True)


def _optimise(cut: fx.GraphModule, layer: str, input_shape: tuple[int, ...], channels: torch.Tensor,
              settings: Regularisers, generator: torch.Generator, device: torch.device) -> ChannelImages:
    count = len(channels)
    x = (0.5 * torch.randn((count, *input_shape), generator=generator)).to(device).requires_grad_(True)
    optimiser = torch.optim.Adam([x], lr=settings.lr)
    shifts = torch.randint(-settings.jitter, settings.jitter + 1, (settings.steps, 2), generator=generator).tolist()
    for step in range(settings.steps):
        dy, dx = shifts[step]
        shifted = torch.roll(x, shifts=(dy, dx), dims=(-2, -1))
        score = _channel_means(cut(shifted), channels)
        loss = -score.sum() + settings.l2 * x.pow(2).mean() * count
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if settings.blur_every and (step + 1) % settings.blur_every == 0:
            with torch.no_grad():
                x.copy_(_blur(x, settings.blur_sigma))
    with torch.no_grad():
        reached = _channel_means(cut(x), channels)
        noise_mean, noise_spread = _noise_scores(cut, x, channels, generator)
    return ChannelImages(layer, tuple(range(count)), x.detach().float().cpu().numpy(),
                         reached.float().cpu().numpy(), noise_mean.float().cpu().numpy(),
                         noise_spread.float().cpu().numpy())


def _channel_means(out: torch.Tensor, channels: torch.Tensor) -> torch.Tensor:
    """Row i: the mean over positions of channel ``channels[i]`` of sample i."""
    picked = out[torch.arange(len(channels), device=out.device), channels]
    return picked.flatten(1).mean(dim=1) if picked.dim() > 1 else picked


def _noise_scores(cut: fx.GraphModule, found: torch.Tensor, channels: torch.Tensor,
                  generator: torch.Generator, samples: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """Each channel's mean activation for noise as large (L2 norm) as the input found for it:
    its mean and standard deviation over ``samples`` draws, the baseline the found input is
    judged against."""
    count = len(channels)
    noise = torch.randn((samples, *found.shape), generator=generator).to(found.device)
    norms = found.flatten(1).norm(dim=1).view(1, count, *[1] * (found.dim() - 1))
    noise = noise / noise.flatten(2).norm(dim=2).view(samples, count, *[1] * (found.dim() - 1)) * norms
    scores = _channel_means(cut(noise.flatten(0, 1)), channels.repeat(samples))
    scores = scores.view(samples, count)
    return scores.mean(dim=0), scores.std(dim=0)


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """A 3x3 Gaussian blur of each channel, edges replicated."""
    offsets = torch.tensor([-1.0, 0.0, 1.0], device=x.device)
    kernel = torch.exp(-offsets ** 2 / (2 * sigma ** 2))
    kernel = (kernel[:, None] * kernel[None, :]) / kernel.sum() ** 2
    channels = x.shape[1]
    weight = kernel.expand(channels, 1, 3, 3).to(x.dtype)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), weight, groups=channels)
