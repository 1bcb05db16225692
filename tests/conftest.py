"""Shared fixtures: tiny models of every backbone, built offline, and a small CUHK-PEDES."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

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
    config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=16)  # small_config's embed_dim
    CLIPModel(config).save_pretrained(directory)
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


# Colours as CUHK-PEDES annotators name them, and the RGB a crop of that person is painted with.
COLOURS = {
    "red": (200, 30, 30), "blue": (30, 60, 200), "black": (20, 20, 20), "white": (235, 235, 235),
    "green": (40, 150, 60), "grey": (128, 128, 128), "yellow": (230, 200, 40), "pink": (240, 150, 180),
}  # fmt: skip
HAIR = ["short black hair", "long brown hair", "a black ponytail", "short grey hair", "long blond hair"]
TOPS = ["jacket", "t-shirt", "coat", "sweater", "shirt"]
BOTTOMS = ["jeans", "trousers", "shorts", "skirt"]
SHOES = ["white sneakers", "black shoes", "brown boots"]
BAGS = ["a black backpack", "a red handbag", "a white shoulder bag"]
TEMPLATES = [
    "A {age} {person} with {hair} is wearing a {top_colour} {top}, {bottom_colour} {bottom} and {shoes}.",
    "The {person} has {hair}. {pronoun} wears a {top_colour} {top} with {bottom_colour} {bottom} and "
    "carries {bag}.",
    "This {age} {person} is walking forward. {pronoun} is dressed in a {top_colour} {top} and "
    "{bottom_colour} {bottom}, with {shoes} and {bag}.",
]


def write_cuhk_pedes(
    root: Path, splits: dict[str, int] | None = None, images_per_person: int = 2, seed: int = 0
) -> Path:
    """A small CUHK-PEDES as its authors hand it out: `reid_raw.json` (ids from 1, two real-looking
    captions per image) beside `imgs/`, whose 32×16 crops are painted in the person's clothing colours."""
    splits = splits or {"train": 8, "val": 4, "test": 4}
    rng = np.random.default_rng(seed)
    records, person_id = [], 0
    for split, persons in splits.items():
        for _ in range(persons):
            person_id += 1
            woman = bool(rng.integers(2))
            top_colour, bottom_colour = rng.choice(list(COLOURS), 2, replace=False)
            words = {
                "person": "woman" if woman else "man", "pronoun": "She" if woman else "He",
                "age": rng.choice(["young", "middle-aged", "tall", "short"]), "hair": rng.choice(HAIR),
                "top_colour": top_colour, "top": rng.choice(TOPS), "bottom_colour": bottom_colour,
                "bottom": rng.choice(BOTTOMS), "shoes": rng.choice(SHOES), "bag": rng.choice(BAGS),
            }  # fmt: skip
            for image in range(images_per_person):
                file_path = f"CUHK03/{person_id:04d}_{image}.png"
                (root / "imgs" / "CUHK03").mkdir(parents=True, exist_ok=True)
                _paint(COLOURS[top_colour], COLOURS[bottom_colour], rng).save(root / "imgs" / file_path)
                captions = [template.format(**words) for template in rng.choice(TEMPLATES, 2, replace=False)]
                tokens = [caption.lower().rstrip(".").split() for caption in captions]
                records.append(
                    {"split": split, "captions": captions, "file_path": file_path, "processed_tokens": tokens,
                     "id": person_id}
                )  # fmt: skip
    (root / "reid_raw.json").write_text(json.dumps(records), encoding="utf-8")
    return root


def _paint(top: tuple[int, ...], bottom: tuple[int, ...], rng: np.random.Generator) -> Image.Image:
    """A 32×16 crop: head, upper garment and lower garment colours, with noise."""
    pixels = np.empty((32, 16, 3), dtype=np.int64)
    pixels[:6], pixels[6:18], pixels[18:] = (90, 60, 40), top, bottom
    return Image.fromarray(np.clip(pixels + rng.integers(-20, 21, pixels.shape), 0, 255).astype(np.uint8))


@pytest.fixture
def cuhk_pedes_root(tmp_path) -> Path:
    """A fresh small CUHK-PEDES (8 training, 4 validation and 4 test persons) per test: `prepare` writes
    into it."""
    return write_cuhk_pedes(tmp_path / "CUHK-PEDES")


@pytest.fixture
def one_thread():
    """Tiny models gain nothing from several threads, which only wait on each other when the cores are
    busy with other work (tens of times slower on a loaded two-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# A tiny model and batch for end-to-end runs of the Trainer, as `--set` overrides.
SMALL_RUN = [
    "model.image_size=[32, 16]",
    "model.embed_dim=32",
    "model.num_heads=2",
    "model.self_layers=1",
    "model.cross_layers=1",
    "model.image_encoder={patch_size: 8, hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, "
    "intermediate_size: 64}",
    "model.text_encoder={hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, "
    "intermediate_size: 64}",
    "data.synth_persons=16",  # the set of `synth_root`
    "data.synth_split=[0.6, 0.1, 0.3]",
    "data.persons_per_batch=4",
    "data.instances_per_person=2",
    "train.log_every=1",
]


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory) -> Path:
    """A SynthPedes of 16 persons in 2 outfits, 2 images each, at 32×16."""
    from disreid.data.synth import generate_synthpedes

    root = tmp_path_factory.mktemp("synth")
    generate_synthpedes(
        root, persons=16, outfits=2, images_per_outfit=2, height=32, width=16, workers=1, progress=False
    )
    return root
