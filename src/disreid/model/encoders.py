"""Image and text encoders, chosen by backbone name from a registry (SPEC §3).

A backbone builder returns the two encoders and the tokenizer. Called with `pretrained=True` it loads a
Hugging Face checkpoint (or, for `tiny`, builds a fresh model); called with `pretrained=False` it
rebuilds the same architecture from the encoder configs stored in `DisReIDConfig`, for
`DisReID.from_pretrained`, which then loads the trained weights.
"""

from __future__ import annotations

import logging
import math
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch
from torch import nn
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertModel,
    CLIPModel,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    ViTConfig,
    ViTModel,
)
from transformers.utils import logging as hf_logging

from disreid.model.config import DisReIDConfig
from disreid.model.layers import masked_mean
from disreid.model.tokenizer import build_word_tokenizer


class ViTImageEncoder(nn.Module):
    """Token sequence `[B, 1 + patches, D]` (CLS first) of a Hugging Face ViT at any input size.

    Position embeddings are interpolated to the patch grid of the input (e.g. 24×8 at 384×128) when it
    differs from the size the checkpoint was trained at.
    """

    def __init__(self, model: PreTrainedModel) -> None:
        super().__init__()
        self.model = model
        self.hidden_size: int = model.config.hidden_size
        size = model.config.image_size
        self.native_size = tuple(size) if isinstance(size, list | tuple) else (size, size)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        interpolate = tuple(pixels.shape[-2:]) != self.native_size
        return self.model(pixel_values=pixels, interpolate_pos_encoding=interpolate).last_hidden_state


class ConvStemViTEncoder(ViTImageEncoder):
    """A ViT that reads the feature map of a small convolutional stem instead of raw pixels.

    Each stem stage is a 3×3 stride-2 convolution, BatchNorm and ReLU, so the ViT's patches cover
    `patch_size × 2^stages` pixels. Trained from scratch, such early convolutions learn local colour
    and shape far faster than a ViT's patchify layer (Xiao et al., 2021, "Early convolutions help
    transformers see better"): on SynthPedes the tiny model fits in minutes instead of not at all.
    """

    def __init__(self, model: PreTrainedModel, stem_channels: Sequence[int]) -> None:
        super().__init__(model)
        layers: list[nn.Module] = []
        for inputs, outputs in zip([3, *stem_channels[:-1]], stem_channels, strict=True):
            layers += [nn.Conv2d(inputs, outputs, 3, 2, 1, bias=False), nn.BatchNorm2d(outputs), nn.ReLU()]
        self.stem = nn.Sequential(*layers)
        # Channels-last is the layout oneDNN's convolutions run fastest in (7 % off a synth_tiny CPU step);
        # `to`, `load_state_dict` and the optimizer keep the layout of these weights.
        self.to(memory_format=torch.channels_last)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return super().forward(self.stem(pixels.contiguous(memory_format=torch.channels_last)))


class CLIPImageEncoder(ViTImageEncoder):
    """CLIP's vision tower: its final LayerNorm is applied to every token, not only to CLS (as IRRA does),
    so that token 0 is the class token CLIP itself projects into its joint space.

    With a `patch_stride` below the patch size the patches overlap (TransReID's sliding window): the same
    patch embedding reads the image at a finer step, so details smaller than a patch, a face or a bun,
    no longer fall on one patch's edge. The position embeddings are resized to the finer grid.
    """

    def __init__(self, model: PreTrainedModel, patch_stride: int | None = None) -> None:
        super().__init__(model)
        self.overlapping = patch_stride is not None and patch_stride != model.config.patch_size
        if self.overlapping:
            model.embeddings.patch_embedding.stride = (patch_stride, patch_stride)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        if not self.overlapping:
            return self.model.post_layernorm(super().forward(pixels))
        tokens = self.model.pre_layrnorm(self.overlapping_tokens(pixels))
        return self.model.post_layernorm(self.model.encoder(inputs_embeds=tokens).last_hidden_state)

    def overlapping_tokens(self, pixels: torch.Tensor) -> torch.Tensor:
        """CLS and the `[B, 1 + h·w, D]` patch tokens of the overlapping grid, position embeddings
        resized to it bicubically (as Hugging Face resizes them to a larger image)."""
        embeddings = self.model.embeddings
        patches = embeddings.patch_embedding(pixels.to(embeddings.patch_embedding.weight.dtype))
        batch, dim, height, width = patches.shape
        positions = embeddings.position_embedding.weight
        side = math.isqrt(positions.shape[0] - 1)
        grid = positions[1:].reshape(1, side, side, dim).permute(0, 3, 1, 2)
        grid = nn.functional.interpolate(grid, size=(height, width), mode="bicubic", align_corners=False)
        patches = (patches + grid).flatten(2).transpose(1, 2)
        cls = (embeddings.class_embedding + positions[0]).expand(batch, 1, dim)
        return torch.cat([cls, patches], dim=1)


class TextEncoder(nn.Module):
    """One sentence vector `[B, D]` per text; padding never contributes to it."""

    def __init__(self, model: PreTrainedModel, pooling: str) -> None:
        super().__init__()
        self.model = model
        self.pooling = pooling
        self.hidden_size: int = model.config.hidden_size

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        if self.pooling == "mean":
            return masked_mean(hidden, attention_mask)
        if self.pooling == "cls":
            return hidden[:, 0]
        last = attention_mask.sum(dim=1) - 1  # "eos": the last real token (right padding)
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]


@dataclass
class Encoders:
    """What a backbone builder returns. A backbone trained into a joint image-text space of its own
    (CLIP) also returns the projections into it; they keep that space from the first step."""

    image: ViTImageEncoder
    text: TextEncoder
    tokenizer: PreTrainedTokenizerBase
    image_projection: nn.Linear | None = None
    text_projection: nn.Linear | None = None


BackboneBuilder = Callable[
    [DisReIDConfig, PreTrainedTokenizerBase | None, Sequence[str] | None, bool], Encoders
]
BACKBONES: dict[str, BackboneBuilder] = {}


def register_backbone(name: str) -> Callable[[BackboneBuilder], BackboneBuilder]:
    def register(builder: BackboneBuilder) -> BackboneBuilder:
        BACKBONES[name] = builder
        return builder

    return register


def create_encoders(
    config: DisReIDConfig,
    *,
    tokenizer: PreTrainedTokenizerBase | None = None,
    texts: Sequence[str] | None = None,
    pretrained: bool = True,
) -> Encoders:
    """Build the encoders of `config.backbone` and record their configs (and text pooling) in `config`."""
    if config.backbone not in BACKBONES:
        raise ValueError(
            f"unknown backbone {config.backbone!r}; choose one of: {', '.join(sorted(BACKBONES))}"
        )
    encoders = BACKBONES[config.backbone](config, tokenizer, texts, pretrained)
    encoders.tokenizer.padding_side = "right"
    config.image_encoder = encoders.image.model.config.to_dict()
    config.text_encoder = encoders.text.model.config.to_dict()
    config.text_pooling = encoders.text.pooling
    config.embed_dim = _joint_space_size(config, encoders)
    return encoders


DEFAULT_EMBED_DIM = 256


def _joint_space_size(config: DisReIDConfig, encoders: Encoders) -> int:
    """E: the backbone's own joint space where it has one, else `config.embed_dim` (default 256)."""
    if encoders.image_projection is None:
        return config.embed_dim or DEFAULT_EMBED_DIM
    size = encoders.image_projection.out_features
    if config.embed_dim not in (None, size):
        raise ValueError(
            f"embed_dim is {config.embed_dim}, but {config.checkpoint or config.backbone} embeds into a "
            f"{size}-d joint space of its own: leave embed_dim unset (null)"
        )
    return size


class CheckpointNotFoundError(FileNotFoundError):
    """A checkpoint is neither a local directory, nor in the Hugging Face cache, nor reachable. A missing
    file to the command line too, which prints its message (the remedy) as one line."""


def _hub_reachable(timeout: float = 3.0) -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return False
    from huggingface_hub import constants

    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def load_pretrained(cls: Any, name: str, **kwargs: Any) -> Any:
    """`cls.from_pretrained(name)` from a local directory, the local cache or the hub, in that order.

    Fails at once, instead of retrying for half a minute, when the hub cannot be reached and no local
    copy exists, and says how to pass one.
    """
    with transformers_logging_level(logging.ERROR):  # silence the report of a checkpoint's parts left
        return _load_pretrained(cls, name, **kwargs)  # unused ("unexpected" keys: BERT's pre-training heads)


@contextmanager
def transformers_logging_level(level: int) -> Iterator[None]:
    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity(level)
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)


def _load_pretrained(cls: Any, name: str, **kwargs: Any) -> Any:
    looks_like_path = name.startswith((".", "/", "~")) or os.sep in name.replace("/", "", 1)
    if Path(name).expanduser().is_dir():
        return cls.from_pretrained(str(Path(name).expanduser()), **kwargs)
    if looks_like_path:
        raise CheckpointNotFoundError(f"checkpoint directory {name!r} does not exist")
    try:
        return cls.from_pretrained(name, local_files_only=True, **kwargs)
    except OSError:
        pass
    if not _hub_reachable():
        raise CheckpointNotFoundError(
            f"cannot load {name!r}: it is not a local directory, not in the Hugging Face cache, and the hub "
            f"cannot be reached. On a machine with network, run `huggingface-cli download {name} --local-dir "
            f"DIR`, copy DIR here and pass it instead, e.g. `--set model.checkpoint=DIR`."
        )
    return cls.from_pretrained(name, **kwargs)


def _hf_model(cls: type[PreTrainedModel], name: str, stored: dict[str, Any], pretrained: bool, **kwargs: Any):
    """A pretrained model by name, or the architecture `stored` in a DisReIDConfig with fresh weights."""
    if pretrained:
        return load_pretrained(cls, name, **kwargs)
    if not stored:
        raise ValueError(f"no stored {cls.__name__} config to rebuild the encoder from")
    return cls(cls.config_class.from_dict(stored), **kwargs)


def _need_tokenizer(tokenizer: PreTrainedTokenizerBase | None) -> PreTrainedTokenizerBase:
    if tokenizer is None:
        raise ValueError("rebuilding saved encoders needs the saved tokenizer")
    return tokenizer


@register_backbone("clip")
def clip(config: DisReIDConfig, tokenizer, texts, pretrained: bool) -> Encoders:  # noqa: ANN001
    """CLIP's vision and text towers and its two projections from one checkpoint (default ViT-B/16);
    EOS-token text vector. The learned logit scale is not kept: the temperature is `train.temperature`."""
    name = config.checkpoint or "openai/clip-vit-base-patch16"
    stored = {
        "vision_config": config.image_encoder,
        "text_config": config.text_encoder,
        "projection_dim": config.embed_dim,
    }
    model = _hf_model(CLIPModel, name, stored if config.image_encoder else {}, pretrained)
    tokenizer = load_pretrained(AutoTokenizer, name) if pretrained else _need_tokenizer(tokenizer)
    return Encoders(
        CLIPImageEncoder(model.vision_model, config.patch_stride),
        TextEncoder(model.text_model, config.text_pooling or "eos"),
        tokenizer,
        model.visual_projection,
        model.text_projection,
    )


@register_backbone("vit-bert")
def vit_bert(config: DisReIDConfig, tokenizer, texts, pretrained: bool) -> Encoders:  # noqa: ANN001
    """The original design: an ImageNet ViT and BERT, masked-mean (or CLS) text vector."""
    image_name = config.checkpoint or "google/vit-base-patch16-224"
    text_name = config.text_checkpoint or "bert-base-uncased"
    vision = _hf_model(ViTModel, image_name, config.image_encoder, pretrained, add_pooling_layer=False)
    text = _hf_model(BertModel, text_name, config.text_encoder, pretrained, add_pooling_layer=False)
    tokenizer = load_pretrained(AutoTokenizer, text_name) if pretrained else _need_tokenizer(tokenizer)
    return Encoders(ViTImageEncoder(vision), TextEncoder(text, config.text_pooling or "mean"), tokenizer)


TINY_VIT = {
    "patch_size": 8,
    "hidden_size": 128,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "intermediate_size": 256,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
}
TINY_TEXT = {
    "hidden_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 256,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
}


@register_backbone("tiny")
def tiny(config: DisReIDConfig, tokenizer, texts, pretrained: bool) -> Encoders:  # noqa: ANN001
    """A small ViT and a small BERT with random weights and a word-level vocabulary of `texts`: for
    SynthPedes, tests and CPUs. Entries of `config.image_encoder` / `text_encoder` override the sizes."""
    if tokenizer is None:
        if not texts:
            raise ValueError("the tiny backbone builds its vocabulary from texts: pass the training captions")
        tokenizer = build_word_tokenizer(texts)
    # `conv_stem` lists the channels of the convolutional stages before the ViT (none: plain ViT); the
    # ViT then sees their output, at 1 / 2^stages of the image size.
    stem = list(config.image_encoder.get("conv_stem") or [])
    stride = 2 ** len(stem)
    height, width = config.image_size
    if height % stride or width % stride:
        raise ValueError(f"image size {height}×{width} is not divisible by the conv stem's stride {stride}")
    vision_config = ViTConfig.from_dict(
        {
            **TINY_VIT,
            **config.image_encoder,
            "image_size": [height // stride, width // stride],
            "num_channels": stem[-1] if stem else 3,
        }
    )
    text_config = BertConfig.from_dict(
        {
            **TINY_TEXT,
            "max_position_embeddings": config.text_max_length,
            **config.text_encoder,
            "vocab_size": len(tokenizer),
            "pad_token_id": tokenizer.pad_token_id,
        }
    )
    vision = ViTModel(vision_config, add_pooling_layer=False)
    text = BertModel(text_config, add_pooling_layer=False)
    image = ConvStemViTEncoder(vision, stem) if stem else ViTImageEncoder(vision)
    return Encoders(image, TextEncoder(text, config.text_pooling or "mean"), tokenizer)
