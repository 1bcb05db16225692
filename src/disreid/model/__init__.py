"""The model: encoders chosen by name, the DisentangleModule and DisReID, which holds them all."""

from collections.abc import Sequence

from disreid.model.config import DisReIDConfig
from disreid.model.disentangle import DisentangleModule
from disreid.model.disreid import DisReID, DisReIDOutput, ImageEmbeddings
from disreid.model.encoders import BACKBONES, CheckpointNotFoundError, create_encoders, register_backbone


def build_model(config: DisReIDConfig, texts: Sequence[str] | None = None) -> DisReID:
    """A new DisReID: pretrained encoders for `clip` and `vit-bert`; for `tiny`, fresh encoders with a
    vocabulary built from `texts` (the training captions)."""
    return DisReID(config, create_encoders(config, texts=texts, pretrained=True))


__all__ = [
    "BACKBONES",
    "CheckpointNotFoundError",
    "DisReID",
    "DisReIDConfig",
    "DisReIDOutput",
    "DisentangleModule",
    "ImageEmbeddings",
    "build_model",
    "register_backbone",
]
