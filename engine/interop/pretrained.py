"""A library model's own pretrained weights: torchvision's and timm's, from the person's cache.

They are used when the library already has them on this machine (torch hub's cache for
torchvision, the Hugging Face cache for timm) and downloaded only when the person asks
(``allow_download``): never silently. Offline, the refusal is one line naming the model and
the cache. Cached files are read as any weights file (regular files of bounded size,
``weights_only``), never with the libraries' own loaders, which unpickle anything.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn

from ..data.normalization import IMAGENET_MEAN, IMAGENET_STD
from ..words import first_line
from .weight_files import WeightsError, read_weights

LIBRARIES = ("torchvision", "timm")


@dataclass(frozen=True)
class Pretrained:
    tensors: dict[str, torch.Tensor]          # the library model's state dict
    mean: tuple[float, ...]                   # the statistics its inputs were normalised with
    std: tuple[float, ...]
    source: str                               # "torchvision:resnet18 (ResNet18_Weights.IMAGENET1K_V1)"
    file: Path                                # where they were read from


def pretrained_weights(spec: str, allow_download: bool = False) -> Pretrained:
    """``torchvision:NAME`` or ``timm:NAME`` -> its default pretrained weights; WeightsError
    (one line) when they are neither cached nor allowed to be downloaded, or cannot be."""
    library, _, name = spec.partition(":")
    if library == "torchvision":
        return _torchvision(name, allow_download)
    if library == "timm":
        return _timm(name, allow_download)
    raise WeightsError(f"{spec}: pretrained weights come with torchvision:NAME and timm:NAME models only")


def apply_pretrained(module: nn.Module, weights: Pretrained) -> None:
    """Load the weights into the library's own module (every tensor must fit: they are its own)."""
    try:
        module.load_state_dict(weights.tensors)
    except RuntimeError as err:
        raise WeightsError(f"{weights.file}: the cached weights of {weights.source} do not fit the model "
                           f"({first_line(err)}); delete the file so that it is downloaded again") from None


def _torchvision(name: str, allow_download: bool) -> Pretrained:
    import torchvision.models as models
    try:
        weights = models.get_model_weights(name).DEFAULT
    except (ValueError, KeyError):
        raise WeightsError(f"torchvision has no pretrained weights for {name!r}") from None
    file = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(weights.url).path)
    source = f"torchvision:{name} ({type(weights).__name__}.{weights.name})"
    if not file.exists():
        size = weights.meta.get("_file_size")
        _refuse_or_allow(source, file, allow_download, f" ({size:.0f} MB)" if isinstance(size, (int, float)) else "")
        hashed = torch.hub.HASH_REGEX.search(file.name)
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(weights.url, str(file), hash_prefix=hashed.group(1) if hashed else None,
                                           progress=True)
        except Exception as err:   # offline, a proxy, a full disk: one line saying which
            raise WeightsError(f"{source}: downloading {weights.url} failed ({first_line(err)})") from None
    tensors = _renamed(name, read_weights(file).tensors)
    transform = weights.transforms()
    mean, std = getattr(transform, "mean", IMAGENET_MEAN), getattr(transform, "std", IMAGENET_STD)
    return Pretrained(tensors, tuple(mean), tuple(std), source, file)


def _renamed(name: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """torchvision's DenseNet files predate its modules' names (``norm.1`` for ``norm1``); the
    library renames them as it loads them, and so does this."""
    if not name.startswith("densenet"):
        return tensors
    old = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")
    renamed = {}
    for key, value in tensors.items():
        match = old.match(key)
        renamed[match.group(1) + match.group(2) if match else key] = value
    return renamed


def _timm(name: str, allow_download: bool) -> Pretrained:
    try:
        import timm
        from huggingface_hub import constants, hf_hub_download, try_to_load_from_cache
    except ImportError:
        raise WeightsError("timm models need the timm package: pip install -e '.[timm]'") from None
    try:
        config: dict = getattr(timm.create_model(name, pretrained=False), "pretrained_cfg", {})
    except RuntimeError as err:
        raise WeightsError(f"timm has no model {name!r} ({first_line(err)})") from None
    repo = config.get("hf_hub_id")
    source = f"timm:{name} ({repo or config.get('tag', 'default')})"
    if not repo:
        raise WeightsError(f"{source}: its weights are not on the Hugging Face hub, the one place NetLoom reads "
                           "timm's weights from")
    file = None
    for candidate in ("model.safetensors", "pytorch_model.bin"):
        found = try_to_load_from_cache(repo, candidate)
        if isinstance(found, str):
            file = Path(found)
            break
    if file is None:
        _refuse_or_allow(source, Path(constants.HF_HUB_CACHE), allow_download, "")
        try:
            file = Path(hf_hub_download(repo, "model.safetensors"))
        except Exception as err:   # offline, no such file, a full disk
            raise WeightsError(f"{source}: downloading from the Hugging Face hub failed ({first_line(err)})") from None
    mean, std = config.get("mean", IMAGENET_MEAN), config.get("std", IMAGENET_STD)
    return Pretrained(read_weights(file).tensors, tuple(mean), tuple(std), source, file)


def _refuse_or_allow(source: str, where: Path, allow_download: bool, size: str) -> None:
    if not allow_download:
        raise WeightsError(f"the pretrained weights of {source} are not in the cache ({where}); NetLoom downloads "
                           f"them{size} only when asked: add --allow-download (online)")
