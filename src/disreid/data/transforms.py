"""Image transforms in PIL and torch alone (torchvision would pull in a second torch build).

Random steps draw from `generator`, or from torch's global generator when it is None: leave it None
under a multi-worker DataLoader, which seeds the global generator of each worker differently (a
passed generator would be copied to every worker and give them all the same draws).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
from PIL import Image
from torch import Tensor

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

Transform = Callable[[Image.Image], Tensor]


def build_transforms(
    image_size: tuple[int, int],
    train: bool,
    mean: Sequence[float],
    std: Sequence[float],
    flip: bool = True,
    crop_padding: int = 10,
    erasing_prob: float = 0.5,
    generator: torch.Generator | None = None,
) -> Transform:
    """IRRA's pipeline: resize to (H, W); when training, flip, pad-and-crop and (after normalising)
    random erasing. The augmentation arguments are ignored when `train` is False."""
    steps: list[Callable[[Tensor], Tensor]] = []
    if train and flip:
        steps.append(partial(random_horizontal_flip, generator=generator))
    if train and crop_padding:
        steps.append(partial(pad_and_random_crop, padding=crop_padding, generator=generator))
    steps.append(partial(normalize, mean=mean, std=std))
    if train and erasing_prob:
        steps.append(partial(random_erasing, p=erasing_prob, generator=generator))
    return _Pipeline(tuple(image_size), tuple(steps))


@dataclass(frozen=True)
class _Pipeline:
    """A class rather than a closure, so that DataLoader workers can pickle it."""

    image_size: tuple[int, int]
    steps: tuple[Callable[[Tensor], Tensor], ...]

    def __call__(self, image: Image.Image) -> Tensor:
        pixels = to_tensor(resize(image, self.image_size))
        for step in self.steps:
            pixels = step(pixels)
        return pixels


def resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """RGB image of (height, width) `size`, bicubic."""
    height, width = size
    return image.convert("RGB").resize((width, height), Image.Resampling.BICUBIC)


def to_tensor(image: Image.Image) -> Tensor:
    """[3, H, W] float32 in [0, 1]."""
    return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1).contiguous()


def normalize(pixels: Tensor, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    return (pixels - torch.tensor(mean).view(-1, 1, 1)) / torch.tensor(std).view(-1, 1, 1)


def random_horizontal_flip(
    pixels: Tensor, p: float = 0.5, generator: torch.Generator | None = None
) -> Tensor:
    return pixels.flip(-1) if _uniform(generator) < p else pixels


def pad_and_random_crop(pixels: Tensor, padding: int, generator: torch.Generator | None = None) -> Tensor:
    """Zero-pad every side by `padding`, then crop back to the original size at a random place:
    a shift of up to `padding` pixels either way."""
    height, width = pixels.shape[-2:]
    padded = torch.nn.functional.pad(pixels, (padding, padding, padding, padding))
    top = _randint(2 * padding + 1, generator)
    left = _randint(2 * padding + 1, generator)
    return padded[..., top : top + height, left : left + width]


def random_erasing(
    pixels: Tensor,
    p: float = 0.5,
    scale: tuple[float, float] = (0.02, 0.4),
    ratio: tuple[float, float] = (0.3, 3.3),
    generator: torch.Generator | None = None,
) -> Tensor:
    """Zhong et al.'s random erasing, as in torchvision, on normalised pixels.

    The rectangle is set to 0, the mean colour after normalisation (IRRA passes the mean itself
    as the fill value after normalising, which is not the mean colour).
    """
    if _uniform(generator) >= p:
        return pixels
    height, width = pixels.shape[-2:]
    for _ in range(10):  # torchvision's number of tries for a rectangle that fits
        area = height * width * (scale[0] + (scale[1] - scale[0]) * _uniform(generator))
        log_low, log_high = math.log(ratio[0]), math.log(ratio[1])
        aspect = math.exp(log_low + (log_high - log_low) * _uniform(generator))
        box_height, box_width = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
        if 0 < box_height < height and 0 < box_width < width:
            top = _randint(height - box_height + 1, generator)
            left = _randint(width - box_width + 1, generator)
            pixels = pixels.clone()
            pixels[..., top : top + box_height, left : left + box_width] = 0.0
            return pixels
    return pixels


def _uniform(generator: torch.Generator | None) -> float:
    return torch.rand((), generator=generator).item()


def _randint(high: int, generator: torch.Generator | None) -> int:
    return int(torch.randint(high, (), generator=generator))
