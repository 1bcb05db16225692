"""Evaluation protocols (SPEC §5): captions query a gallery of images, in three modes.

Features are computed in batches and kept on the CPU; similarities are formed and ranked one chunk of
queries at a time (`LazySimilarity`, `rank`), so that even ICFG-PEDES's test set is evaluated in a few
hundred MB beyond its features, on a CPU or a small GPU.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from PIL import Image
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from disreid.data import CaptionQueries, GalleryImages, ImageRecord
from disreid.data.datasets import outfit_label
from disreid.evaluation.metrics import LazySimilarity, rank
from disreid.model import DisReID

MODES = ("full", "identity", "clothing")


QUERY_FIELDS = {"full": "caption", "identity": "identity_caption", "clothing": "clothing_caption"}  # per mode


@dataclass
class EmbeddedSplit:
    """Normalised embeddings of a split's gallery images and caption queries, with their labels.

    `images[mode]` is `[G, E]`, `texts[mode]` is `[Q, E]`: in mode `full` the texts are the whole
    captions, in `identity` and `clothing` their two parts. Outfits are -1 where unknown.
    """

    images: dict[str, torch.Tensor]
    texts: dict[str, torch.Tensor]
    gate: torch.Tensor | None
    gallery_pids: torch.Tensor
    gallery_outfits: torch.Tensor
    query_pids: torch.Tensor
    query_outfits: torch.Tensor


@torch.no_grad()
def embed_images(
    model: DisReID,
    records: Sequence[ImageRecord],
    transform: Callable[[Image.Image], torch.Tensor],
    batch_size: int = 128,
    device: torch.device | str | None = None,
    progress: bool = True,
) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
    """The full, identity and clothing embeddings `[N, E]` of the records' images, and their gates."""
    device = device or model.device
    was_training = model.training
    model.eval()
    images: dict[str, list[torch.Tensor]] = {mode: [] for mode in MODES}
    gates = []
    loader = DataLoader(GalleryImages(records, transform), batch_size=batch_size)
    for batch in tqdm(loader, desc="embedding images", leave=False, disable=not progress):
        embedded = model.encode_image(batch["pixels"].to(device))
        for mode, tensor in zip(MODES, (embedded.full, embedded.identity, embedded.clothing), strict=True):
            images[mode].append(tensor.float().cpu())
        if embedded.gate is not None:
            gates.append(embedded.gate.float().cpu())
    model.train(was_training)
    return {mode: torch.cat(parts) for mode, parts in images.items()}, torch.cat(gates) if gates else None


@torch.no_grad()
def embed_split(
    model: DisReID,
    records: Sequence[ImageRecord],
    transform: Callable[[Image.Image], torch.Tensor],
    batch_size: int = 128,
    device: torch.device | str | None = None,
    progress: bool = True,
) -> EmbeddedSplit:
    """Embed every image of `records` and every caption (whole and in its two parts)."""
    images, gate = embed_images(model, records, transform, batch_size, device, progress)
    was_training = model.training
    model.eval()
    queries = CaptionQueries(records)
    texts: dict[str, list[torch.Tensor]] = {mode: [] for mode in MODES}
    loader = DataLoader(queries, batch_size=batch_size)
    for batch in tqdm(loader, desc="embedding captions", leave=False, disable=not progress):
        for mode, field in QUERY_FIELDS.items():
            texts[mode].append(model.encode_text(list(batch[field])).float().cpu())
    model.train(was_training)
    return labelled_split(records, images, {mode: torch.cat(parts) for mode, parts in texts.items()}, gate)


def labelled_split(
    records: Sequence[ImageRecord],
    images: dict[str, torch.Tensor],
    texts: dict[str, torch.Tensor],
    gate: torch.Tensor | None = None,
) -> EmbeddedSplit:
    """The embeddings of `records`' images and of their `CaptionQueries` (in that order), however made
    (by disreid, or by a CLIP alone), with the persons and outfits the protocols need."""
    queries = CaptionQueries(records)
    return EmbeddedSplit(
        images=images,
        texts=texts,
        gate=gate,
        gallery_pids=torch.tensor([record.person_id for record in records]),
        gallery_outfits=torch.tensor([outfit_label(record) for record in records]),
        query_pids=torch.tensor(queries.person_ids),
        query_outfits=torch.tensor([outfit_label(records[image]) for image, _ in queries.pairs]),
    )


def standard_protocol(split: EmbeddedSplit, modes: Sequence[str] = MODES) -> dict[str, dict]:
    """IRRA's protocol: a gallery image is a positive when it shows the query's person."""
    return {
        mode: rank(
            LazySimilarity(split.texts[mode], split.images[mode]), split.query_pids, split.gallery_pids
        )
        for mode in modes
    }


def changes_clothes(split: EmbeddedSplit) -> bool:
    """Whether the clothes-changing protocol applies: every gallery image's outfit labelled, and some
    person seen in two outfits (PETA labels each person once, in one outfit)."""
    outfits, persons = split.gallery_outfits, split.gallery_pids
    if bool((outfits < 0).any()):
        return False
    return len(torch.unique(torch.stack([persons, outfits]), dim=1)[0]) > len(torch.unique(persons))


def clothes_changing_protocol(
    split: EmbeddedSplit, modes: Sequence[str] = ("full", "identity")
) -> dict[str, dict]:
    """Find the person in other clothes: the images of the query's own (person, outfit) are removed, so
    the positives are that person's images in other outfits. Needs outfit labels."""
    if bool((split.gallery_outfits < 0).any()):
        raise ValueError("the clothes-changing protocol needs outfit labels for every gallery image")
    return {
        mode: rank(
            LazySimilarity(split.texts[mode], split.images[mode]),
            split.query_pids,
            split.gallery_pids,
            query_groups=split.query_outfits,
            gallery_groups=split.gallery_outfits,
        )
        for mode in modes
    }
