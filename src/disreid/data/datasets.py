"""Torch datasets over `ImageRecord`s: caption-image pairs for training, images and captions for evaluation.

Items are dicts of named fields; an unknown outfit is -1 so that the default collate can stack it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image
from torch.utils.data import Dataset

from disreid.data.annotations import ImageRecord
from disreid.data.transforms import Transform


class ImageReadError(OSError):
    """An image named by an annotation file is missing or cannot be decoded."""


def load_image(path: Path) -> Image.Image:
    """The RGB image at `path`, decoded now, so that a bad file fails here with its name."""
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except OSError as error:  # missing files and PIL's decoding errors alike
        raise ImageReadError(f"cannot read image {path}: {error}") from error


class CaptionQueries(Dataset):
    """One item per caption, IRRA's unit: the whole caption, its identity and clothing parts and the
    labels of its image. A missing or empty part (a caption that names no clothing) is replaced by the
    whole caption, which describes the person all the same."""

    def __init__(self, records: Sequence[ImageRecord]) -> None:
        self.records = records
        self.pairs = [
            (image, caption)
            for image, record in enumerate(records)
            for caption in range(len(record.captions))
        ]
        self.person_ids = [records[image].person_id for image, _ in self.pairs]

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, Any]:
        image_index, caption_index = self.pairs[index]
        record = self.records[image_index]
        caption = record.captions[caption_index]
        identity, clothing = (
            parts[caption_index] if parts and parts[caption_index] else caption
            for parts in (record.identity_captions, record.clothing_captions)
        )
        return {
            "caption": caption,
            "identity_caption": identity,
            "clothing_caption": clothing,
            "person_id": record.person_id,
            "outfit_id": outfit_label(record),
            "image_index": image_index,
        }


class CaptionPairs(CaptionQueries):
    """Training pairs: each caption with its image, transformed. `person_ids` feeds the P×K sampler.

    With `cache_images`, each image is decoded once and kept in memory (in each DataLoader worker):
    an epoch reads every image once per caption, and on a small set like SynthPedes decoding is a
    tenth of a CPU training step. Leave it off for sets that do not fit in memory.
    """

    def __init__(
        self, records: Sequence[ImageRecord], transform: Transform, cache_images: bool = False
    ) -> None:
        super().__init__(records)
        self.transform = transform
        self.cache: dict[int, Image.Image] | None = {} if cache_images else None

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = super().__getitem__(index)
        item["pixels"] = self.transform(self._image(item["image_index"]))
        return item

    def _image(self, image_index: int) -> Image.Image:
        if self.cache is None:
            return load_image(self.records[image_index].path)
        if image_index not in self.cache:
            self.cache[image_index] = load_image(self.records[image_index].path)
        return self.cache[image_index]


class GalleryImages(Dataset):
    """Each image once, for the gallery side of evaluation."""

    def __init__(self, records: Sequence[ImageRecord], transform: Transform) -> None:
        self.records = records
        self.transform = transform

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, Any]:
        record = self.records[index]
        return {
            "pixels": self.transform(load_image(record.path)),
            "person_id": record.person_id,
            "outfit_id": outfit_label(record),
            "index": index,
        }


def outfit_label(record: ImageRecord) -> int:
    """The record's outfit id, -1 where unknown (a number, so that batches of it stack)."""
    return -1 if record.outfit_id is None else record.outfit_id
