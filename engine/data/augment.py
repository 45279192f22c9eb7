"""Image augmentation applied to whole batches on the training device.

Each sample gets its own random crop offset and flip, drawn from a generator that the training
loop owns (so a resumed run draws the same numbers). Padding uses torchvision's transform.
"""

from __future__ import annotations

import torch


def augment_batch(x: torch.Tensor, crop_padding: int, flip: bool, generator: torch.Generator) -> torch.Tensor:
    """Random crops (after zero padding by ``crop_padding``) and horizontal flips of N x C x H x W."""
    n, _, h, w = x.shape
    if flip:
        mask = torch.rand(n, generator=generator, device=generator.device) < 0.5
        x = torch.where(mask.to(x.device)[:, None, None, None], x.flip(-1), x)
    if crop_padding > 0:
        p = crop_padding
        padded = torch.nn.functional.pad(x, (p, p, p, p))
        dy = torch.randint(0, 2 * p + 1, (n,), generator=generator, device=generator.device).to(x.device)
        dx = torch.randint(0, 2 * p + 1, (n,), generator=generator, device=generator.device).to(x.device)
        rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
        batch = torch.arange(n, device=x.device)[:, None, None, None]
        channels = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
        x = padded[batch, channels, rows, cols]
    return x
