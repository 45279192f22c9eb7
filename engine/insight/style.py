"""Neural style transfer (Gatys, Ecker and Bethge, 2016): an image optimised so that its
feature maps in a convolutional network match one picture's (the content) and the Gram matrices
of its feature maps, which keep which features occur together but not where, match another's
(the style).

The feature network is any compiled graph with image input; the example's is VGG-16's first
eleven convolutions, whose ImageNet weights torchvision can download on request."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import fx, nn

from graphs.reading import ReadError, file_size, open_regular

from ..layers import step_name
from .layer_values import InsightError, input_scaler, run_keeping, truncated

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
VGG16_FILE = "vgg16-397923af.pth"           # torchvision's VGG16_Weights.IMAGENET1K_V1
VGG16_SIZE_MB = 528
SAMPLE_PICTURES = ("china", "flower")       # scikit-learn's load_sample_images, by file stem
MAX_PICTURE_BYTES = 50 * 2 ** 20
MAX_PICTURE_PIXELS = 40_000_000


@dataclass(frozen=True)
class StyleSettings:
    content_layers: tuple[str, ...]
    style_layers: tuple[str, ...]
    style_weight: float = 1e4       # against content weight 1: Gram terms are tiny numbers
    steps: int = 200
    lr: float = 0.02
    report_every: int = 10


@dataclass(frozen=True)
class StyleProgress:
    step: int
    content_loss: float
    style_loss: float
    image: np.ndarray = field(repr=False)     # H x W x 3, 0..1


def gram(features: torch.Tensor) -> torch.Tensor:
    """B x C x H x W feature maps -> B x C x C: how strongly each pair of channels fires together,
    averaged over positions (divided by C·H·W so that layers of any size weigh alike)."""
    b, c, h, w = features.shape
    flat = features.reshape(b, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def normalise(image: torch.Tensor) -> torch.Tensor:
    """0..1 RGB (B x 3 x H x W) as ImageNet-trained networks expect it."""
    mean = torch.tensor(IMAGENET_MEAN, device=image.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=image.device).view(1, 3, 1, 1)
    return (image - mean) / std


class StyleTransfer:
    """The optimisation, step by step: ``run()`` yields progress every ``report_every`` steps."""

    def __init__(self, model: fx.GraphModule, content: torch.Tensor, style: torch.Tensor,
                 settings: StyleSettings) -> None:
        if not settings.content_layers or not settings.style_layers:
            raise InsightError("choose at least one content layer and one style layer")
        self.settings = settings
        self.takes_pixels = normalises_input(model)     # else pictures are normalised for it, as ImageNet's
        for p in model.parameters():
            p.requires_grad_(False)
        self.layers = list(dict.fromkeys(settings.content_layers + settings.style_layers))
        # Only the layers up to the deepest one chosen run: pictures of any size pass convolutions,
        # whatever head the graph ends in.
        order = {n.name: i for i, n in enumerate(model.graph.nodes)}
        if all(step_name(k) in order for k in self.layers):
            model = truncated(model, max(self.layers, key=lambda k: order[step_name(k)]))
        self.model = model.eval()
        with torch.no_grad():
            content_maps = self.features(content)
            style_maps = self.features(style)
        self.content_targets = {k: content_maps[k] for k in settings.content_layers}
        self.style_targets = {k: gram(style_maps[k]) for k in settings.style_layers}
        self.image = content.clone().requires_grad_(True)     # start from the content picture
        self.optimiser = torch.optim.Adam([self.image], lr=settings.lr)

    def features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        _, kept = run_keeping(self.model, self.layers, image if self.takes_pixels else normalise(image))
        for layer in self.layers:
            if layer not in kept or kept[layer].dim() != 4:
                raise InsightError(f"{layer} gives no feature maps to compare")
        return kept

    def losses(self) -> tuple[torch.Tensor, torch.Tensor]:
        maps = self.features(self.image)
        content = sum(F.mse_loss(maps[k], t) for k, t in self.content_targets.items())
        style = sum(F.mse_loss(gram(maps[k]), t) for k, t in self.style_targets.items())
        return content, style  # type: ignore[return-value]

    def run(self) -> Iterator[StyleProgress]:
        s = self.settings
        for step in range(1, s.steps + 1):
            content, style = self.losses()
            loss = content + s.style_weight * style
            self.optimiser.zero_grad()
            loss.backward()
            self.optimiser.step()
            with torch.no_grad():
                self.image.clamp_(0, 1)
            if step % s.report_every == 0 or step == s.steps or step == 1:
                yield StyleProgress(step, float(content.detach()), float(style.detach()), self.picture())

    def picture(self) -> np.ndarray:
        return self.image.detach()[0].permute(1, 2, 0).float().cpu().numpy()


# ---------------------------------------------------------------------- pictures
def sample_pictures() -> dict[str, np.ndarray]:
    """scikit-learn's two bundled photographs (H x W x 3, uint8): a temple in China, a flower."""
    from sklearn.datasets import load_sample_images
    bundle = load_sample_images()
    return {Path(name).stem: image for name, image in zip(bundle.filenames, bundle.images)}


def read_picture(path: str | Path) -> np.ndarray:
    """A PNG or JPEG file as H x W x 3 uint8; InsightError naming the file if it cannot be one.
    The size in its header is checked before any pixel is decoded: a small file that claims to be
    100,000 pixels square is refused, not allocated."""
    path = Path(path)
    try:
        file = open_regular(path)             # never a pipe or a device, which would never end
    except ReadError as err:
        raise InsightError(f"{path}: cannot be read ({err.problem})") from None
    with file:
        size = file_size(file)
        if size > MAX_PICTURE_BYTES:
            raise InsightError(f"{path}: {size / 2 ** 20:.0f} MB is larger than the {MAX_PICTURE_BYTES // 2 ** 20} MB "
                               "a picture may be")
        return _decode_picture(path, file)


def _decode_picture(path: Path, file) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(file, formats=("PNG", "JPEG")) as picture:
            width, height = picture.size
            if width * height > MAX_PICTURE_PIXELS:
                raise InsightError(f"{path}: {width} x {height} is more than the {MAX_PICTURE_PIXELS:,} pixels a "
                                   "picture may have")
            return np.asarray(picture.convert("RGB"))
    except Image.DecompressionBombError:
        raise InsightError(f"{path}: claims more than the {MAX_PICTURE_PIXELS:,} pixels a picture may have") from None
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise InsightError(f"{path}: not a picture NetLoom can read (PNG or JPEG): {str(err).splitlines()[0]}") from None


def as_input(picture: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """An H x W x 3 uint8 picture scaled to cover ``size`` (height, width), centre-cropped, as
    1 x 3 x h x w in 0..1."""
    image = torch.tensor(np.asarray(picture)).permute(2, 0, 1)[None].float() / 255
    height, width = image.shape[-2:]
    scale = max(size[0] / height, size[1] / width)
    scaled = (max(size[0], round(height * scale)), max(size[1], round(width * scale)))
    image = F.interpolate(image, size=scaled, mode="bilinear", antialias=True, align_corners=False)
    top, left = (scaled[0] - size[0]) // 2, (scaled[1] - size[1]) // 2
    return image[..., top: top + size[0], left: left + size[1]].clamp(0, 1)


def colour_statistics(image: torch.Tensor | np.ndarray) -> np.ndarray:
    """Mean and standard deviation of each colour channel (6 numbers): the simplest style statistic."""
    pixels = torch.as_tensor(np.asarray(image) if isinstance(image, np.ndarray) else image.detach().cpu())
    pixels = pixels.reshape(-1, 3) if pixels.shape[-1] == 3 else pixels.reshape(3, -1).T
    return torch.cat([pixels.float().mean(0), pixels.float().std(0)]).numpy()


# ---------------------------------------------------------------------- VGG-16 weights
def vgg16_weights_file() -> Path:
    """Where torchvision keeps VGG-16's ImageNet weights once downloaded."""
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG16_FILE


def vgg16_weights_present() -> bool:
    return vgg16_weights_file().is_file()


def download_vgg16_weights() -> Path:
    """Fetch VGG-16's ImageNet weights (528 MB) into torchvision's cache; only ever on request."""
    from torchvision.models import VGG16_Weights
    torch.hub.load_state_dict_from_url(VGG16_Weights.IMAGENET1K_V1.url, progress=False, check_hash=True)
    return vgg16_weights_file()


def normalises_input(model: nn.Module) -> bool:
    """Whether the compiled graph scales its input itself (its Input feeds a Normalize step)."""
    return input_scaler(model) is not None


def load_vgg16_weights(model: nn.Module, path: Path | None = None) -> int:
    """Copy VGG-16's convolution weights, in order, into the model's convolutions, and ImageNet's
    statistics, which those weights were trained with, into its input's Normalize step if it
    has one; returns how many convolutions were set. InsightError when the file is absent or the
    model's convolutions are not VGG-16's first ones."""
    path = path or vgg16_weights_file()
    if not path.is_file():
        raise InsightError(f"VGG-16's ImageNet weights are not on this computer (looked for {path}); "
                           f"download them ({VGG16_SIZE_MB} MB) to use them")
    state = torch.load(path, map_location="cpu", weights_only=True)
    theirs = [(state[f"{k}.weight"], state[f"{k}.bias"]) for k in
              sorted({k.rsplit(".", 1)[0] for k in state if k.startswith("features.")},
                     key=lambda k: int(k.split(".")[1]))]
    ours = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not ours or len(ours) > len(theirs):
        raise InsightError(f"the graph has {len(ours)} convolutions; VGG-16 has {len(theirs)}")
    with torch.no_grad():
        for i, (conv, (weight, bias)) in enumerate(zip(ours, theirs)):
            if conv.weight.shape != weight.shape:
                raise InsightError(f"convolution {i + 1} of the graph is {list(conv.weight.shape)}; VGG-16's is "
                                   f"{list(weight.shape)}, so its weights do not fit")
            conv.weight.copy_(weight)
            if conv.bias is not None:
                conv.bias.copy_(bias)
        scaler = input_scaler(model)
        mean, std = (getattr(scaler, "mean", None), getattr(scaler, "std", None))
        if isinstance(mean, torch.Tensor) and isinstance(std, torch.Tensor) and mean.numel() == 3:
            mean.copy_(torch.tensor(IMAGENET_MEAN))
            std.copy_(torch.tensor(IMAGENET_STD))
    return len(ours)
