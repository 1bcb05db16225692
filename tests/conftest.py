"""Shared fixtures: tiny models of every backbone, built offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never touch the network

from transformers import BertConfig, BertModel, CLIPConfig, CLIPModel, ViTConfig, ViTModel  # noqa: E402

from disreid.model import DisReID, DisReIDConfig, build_model  # noqa: E402
from disreid.model.tokenizer import build_word_tokenizer  # noqa: E402

CAPTIONS = [
    "A young woman with long brown hair is wearing a red jacket, blue jeans and white shoes.",
    "A tall man with short black hair wears a green shirt and grey trousers.",
    "She carries a black backpack.",
    "The man has glasses and a beard.",
]
IMAGE_SIZE = (32, 16)
SMALL_VIT = {
    "patch_size": 8,
    "hidden_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 4,
    "intermediate_size": 64,
}
SMALL_TEXT = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 64}


def small_config(backbone: str = "tiny", **overrides) -> DisReIDConfig:
    values = dict(
        backbone=backbone,
        image_size=IMAGE_SIZE,
        embed_dim=16,
        num_heads=4,
        self_layers=2,
        cross_layers=1,
        num_classes=4,
    )
    if backbone == "tiny":
        values.update(image_encoder=dict(SMALL_VIT), text_encoder=dict(SMALL_TEXT))
    values.update(overrides)
    return DisReIDConfig(**values)


@pytest.fixture(scope="session")
def clip_checkpoint(tmp_path_factory) -> Path:
    """A tiny CLIP with random weights, saved the way Hugging Face checkpoints are."""
    directory = tmp_path_factory.mktemp("clip")
    tokenizer = build_word_tokenizer(CAPTIONS)
    text = dict(
        SMALL_TEXT,
        vocab_size=len(tokenizer),
        max_position_embeddings=77,
        eos_token_id=tokenizer.sep_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    vision = dict(SMALL_VIT, image_size=24)  # a square 3x3 grid, interpolated to the 4x2 grid of 32x16
    CLIPModel(CLIPConfig(text_config=text, vision_config=vision)).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def vit_bert_checkpoints(tmp_path_factory) -> tuple[Path, Path]:
    vit_dir, bert_dir = tmp_path_factory.mktemp("vit"), tmp_path_factory.mktemp("bert")
    ViTModel(ViTConfig(**SMALL_VIT, image_size=24), add_pooling_layer=False).save_pretrained(vit_dir)
    tokenizer = build_word_tokenizer(CAPTIONS)
    BertModel(BertConfig(**SMALL_TEXT, vocab_size=len(tokenizer)), add_pooling_layer=False).save_pretrained(
        bert_dir
    )
    tokenizer.save_pretrained(bert_dir)
    return vit_dir, bert_dir


@pytest.fixture(params=["tiny", "clip", "vit-bert"])
def any_model(request, clip_checkpoint, vit_bert_checkpoints) -> DisReID:
    """A fresh small model of each backbone, the pretrained ones loaded through from_pretrained."""
    torch.manual_seed(0)
    if request.param == "clip":
        return build_model(small_config("clip", checkpoint=str(clip_checkpoint)))
    if request.param == "vit-bert":
        vit_dir, bert_dir = vit_bert_checkpoints
        return build_model(small_config("vit-bert", checkpoint=str(vit_dir), text_checkpoint=str(bert_dir)))
    return build_model(small_config(), CAPTIONS)
