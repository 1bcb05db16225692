"""DisReIDConfig: every hyperparameter of the model, saved as JSON beside its weights."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from disreid.io import read_json

CONFIG_NAME = "config.json"


@dataclass
class DisReIDConfig:
    """Architecture of a DisReID model.

    `image_encoder` and `text_encoder` hold the Hugging Face config of each encoder (as a dict). They
    are filled in when the encoders are first built, from a pretrained checkpoint or from the `tiny`
    defaults, so that `from_pretrained` can rebuild the exact architecture without any download.
    """

    backbone: str = "tiny"  # a name in disreid.model.encoders.BACKBONES
    checkpoint: str | None = None  # hub name or local directory of the (image) encoder
    text_checkpoint: str | None = None  # vit-bert only: hub name or local directory of BERT
    image_size: tuple[int, int] = (128, 64)  # (height, width) of the input images
    # CLIP: the step between image patches; below the patch size they overlap (TransReID's 12 for
    # ViT-B/16). None: the patch size, as CLIP was trained.
    patch_stride: int | None = None
    text_max_length: int = 77
    text_pooling: str | None = None  # "mean" (masked), "cls" or "eos" (last real token); None: backbone's
    # The joint image-text space E. None: the checkpoint's own joint space where the backbone has one
    # (CLIP's projection_dim), else 256. Recorded when the encoders are first built.
    embed_dim: int | None = None
    disentangle: bool = True  # False: pooled image tokens project straight into the joint space
    num_heads: int = 8
    self_layers: int = 6
    cross_layers: int = 3
    ffn: bool = False
    # The branches that the losses on the full embedding v train: "both" (the design), "clothing", or
    # "none" (v is then a projection of parts that only their own texts train, so the full caption cannot
    # pull clothing into the identity branch). Inference is the same either way.
    full_gradient: str = "both"
    dropout: float = 0.0
    num_classes: int = 0  # training identities, for the identity classifier (0: no classifier)
    image_encoder: dict[str, Any] = field(default_factory=dict)
    text_encoder: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.image_size = tuple(self.image_size)
        if len(self.image_size) != 2:
            raise ValueError(f"image_size must be (height, width), got {self.image_size}")
        if self.full_gradient not in ("both", "clothing", "none"):
            raise ValueError(f"full_gradient must be 'both', 'clothing' or 'none': {self.full_gradient!r}")
        if self.text_pooling not in (None, "mean", "cls", "eos"):
            raise ValueError(f"text_pooling must be 'mean', 'cls' or 'eos', got {self.text_pooling!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DisReIDConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown DisReIDConfig fields: {', '.join(unknown)}")
        return cls(**values)

    def save(self, directory: str | Path) -> None:
        path = Path(directory) / CONFIG_NAME
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, directory: str | Path) -> DisReIDConfig:
        path = Path(directory) / CONFIG_NAME
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: {directory} is not a saved disreid model")
        return cls.from_dict(read_json(path))
