"""DisReID: the encoders, the DisentangleModule and every projection head, as one model (SPEC §1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_model, save_model
from torch import nn
from transformers import AutoTokenizer, BatchEncoding

from disreid.io import atomic_directory, current, reading, unreadable, writing
from disreid.model.config import CONFIG_NAME, DisReIDConfig
from disreid.model.disentangle import DisentangleModule
from disreid.model.encoders import Encoders, create_encoders
from disreid.model.layers import grad_reverse

WEIGHTS_NAME = "model.safetensors"
TOKENIZER_DIR = "tokenizer"
TOKEN_CACHE_SIZE = 1 << 18  # texts whose token ids are kept: every caption of CUHK-PEDES and its parts


@dataclass
class ImageEmbeddings:
    """L2-normalised image embeddings `[N, E]` in the joint space; `gate` `[N, D]` (None without the
    DisentangleModule, where identity and clothing are the full embedding)."""

    full: torch.Tensor
    identity: torch.Tensor
    clothing: torch.Tensor
    gate: torch.Tensor | None


@dataclass
class DisReIDOutput:
    """Everything AdvancedLoss needs from one training batch. Embeddings are L2-normalised `[B, E]`."""

    image: torch.Tensor  # v
    image_identity: torch.Tensor  # v_id
    image_clothing: torch.Tensor  # v_cl
    text: torch.Tensor  # t, of the full caption
    text_identity: torch.Tensor | None  # t_id, of the identity part (None: not given)
    text_clothing: torch.Tensor | None  # t_cl, of the clothing part (None: not given)
    identity_logits: torch.Tensor | None  # [B, num_classes], from f_id
    clothing_adversary: torch.Tensor | None  # clothing predicted from v_id behind gradient reversal
    identity_adversary: torch.Tensor | None  # identity predicted from v_cl behind gradient reversal
    gate: torch.Tensor | None


def adversary_head(embed: int) -> nn.Module:
    """A small MLP that, behind gradient reversal, reads one part's text out of the other part's embedding."""
    return nn.Sequential(nn.Linear(embed, embed), nn.ReLU(), nn.Linear(embed, embed))


class DisReID(nn.Module):
    """Text-to-person retrieval model with an identity and a clothing embedding per image.

    Build a new one with `disreid.model.build_model(config, texts)`; load a saved one with
    `DisReID.from_pretrained(directory)`.
    """

    def __init__(self, config: DisReIDConfig, encoders: Encoders) -> None:
        super().__init__()
        self.config = config
        self.tokenizer = encoders.tokenizer
        self._token_ids: dict[str, tuple[int, ...]] = {}  # see `tokenize`
        self.image_encoder = encoders.image
        self.text_encoder = encoders.text
        width, embed = encoders.image.hidden_size, config.embed_dim
        # A backbone with a joint space of its own (CLIP) keeps its projections, P_clip and P_txt, and the
        # image is its class token through P_clip, so that step 0 scores as the checkpoint does (SPEC §1).
        self.pretrained_joint_space = encoders.image_projection is not None
        # The parts a checkpoint provides; the optimizer gives the rest `new_layer_lr_factor` times the rate.
        self.pretrained_parts = ("image_encoder", "text_encoder") + (
            ("image_projection", "text_projection") if self.pretrained_joint_space else ()
        )
        self.image_projection = encoders.image_projection or nn.Linear(width, embed)  # P_img or P_clip
        # P_txt, shared by t, t_id and t_cl
        self.text_projection = encoders.text_projection or nn.Linear(encoders.text.hidden_size, embed)
        self.disentangle = (
            DisentangleModule(
                width, config.num_heads, config.self_layers, config.cross_layers, config.ffn, config.dropout
            )
            if config.disentangle
            else None
        )
        # Z: what the DisentangleModule adds to CLIP's image embedding starts at nothing; training decides.
        self.residual_projection = None
        if self.disentangle is not None and self.pretrained_joint_space:
            self.residual_projection = nn.Linear(width, embed)
            nn.init.zeros_(self.residual_projection.weight)
            nn.init.zeros_(self.residual_projection.bias)
        if self.disentangle is not None:
            self.identity_projection = nn.Linear(width, embed)  # P_id
            self.clothing_projection = nn.Linear(width, embed)  # P_cl
            self.clothing_adversary = adversary_head(embed)
            self.identity_adversary = adversary_head(embed)
        self.classifier = nn.Linear(width, config.num_classes) if config.num_classes > 0 else None

    @property
    def device(self) -> torch.device:
        return self.image_projection.weight.device

    # ----------------------------------------------------------------------------------------- text
    def tokenize(self, texts: Sequence[str]) -> BatchEncoding:
        """`input_ids` and `attention_mask`, padded on the right to the longest text, truncated to
        `text_max_length` tokens. Each text's ids are remembered: training meets every caption once an
        epoch, and tokenizing a batch anew cost a twentieth of a CPU training step."""
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise TypeError("texts must be a list of strings")
        if len(texts) == 0:
            raise ValueError("texts is empty: give at least one text")
        for index, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"text {index} is empty or not a string: {text!r}")
        rows = [self._ids(text) for text in texts]
        length, pad = max(map(len, rows)), self.tokenizer.pad_token_id
        input_ids = [row + (pad,) * (length - len(row)) for row in rows]
        attention_mask = [[1] * len(row) + [0] * (length - len(row)) for row in rows]
        return BatchEncoding(
            {"input_ids": torch.tensor(input_ids), "attention_mask": torch.tensor(attention_mask)}
        ).to(self.device)

    def _ids(self, text: str) -> tuple[int, ...]:
        ids = self._token_ids.get(text)
        if ids is None:
            if len(self._token_ids) >= TOKEN_CACHE_SIZE:  # a long-running search server: start afresh
                self._token_ids.clear()
            encoded = self.tokenizer(text, truncation=True, max_length=self.config.text_max_length)
            ids = self._token_ids[text] = tuple(encoded["input_ids"])
        return ids

    def encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        """L2-normalised text embeddings `[N, E]`; compare with any of the image embeddings."""
        tokens = self.tokenize(texts)
        features = self.text_encoder(tokens["input_ids"], tokens["attention_mask"])
        return F.normalize(self.text_projection(features), dim=-1)

    # ---------------------------------------------------------------------------------------- image
    def _check_pixels(self, pixels: torch.Tensor) -> None:
        height, width = self.config.image_size
        if pixels.dim() != 4 or pixels.shape[1] != 3 or tuple(pixels.shape[2:]) != (height, width):
            raise ValueError(f"expected images of shape [N, 3, {height}, {width}], got {list(pixels.shape)}")

    def _image_features(self, pixels: torch.Tensor):
        """(v, v_id, v_cl, f_id, gate) of a batch of images."""
        self._check_pixels(pixels)
        tokens = self.image_encoder(pixels)
        pooled = tokens[:, 0] if self.pretrained_joint_space else tokens.mean(dim=1)
        if self.disentangle is None:
            full = F.normalize(self.image_projection(pooled), dim=-1)
            return full, full, full, pooled, None
        f_id, f_cl, gate = self.disentangle(tokens)
        parts = self._full_parts(f_id, f_cl)
        if self.residual_projection is None:
            full = F.normalize(self.image_projection(parts), dim=-1)
        else:
            full = F.normalize(self.image_projection(pooled) + self.residual_projection(parts), dim=-1)
        identity = F.normalize(self.identity_projection(f_id), dim=-1)
        clothing = F.normalize(self.clothing_projection(f_cl), dim=-1)
        return full, identity, clothing, f_id, gate

    def _full_parts(self, f_id: torch.Tensor, f_cl: torch.Tensor) -> torch.Tensor:
        """f_id + f_cl, through which the full embedding's losses train only `config.full_gradient`."""
        if self.config.full_gradient != "both":
            f_id = f_id.detach()
        if self.config.full_gradient == "none":
            f_cl = f_cl.detach()
        return f_id + f_cl

    def encode_image(self, pixels: torch.Tensor) -> ImageEmbeddings:
        """Full, identity and clothing embeddings of images `[N, 3, H, W]` at `config.image_size`."""
        full, identity, clothing, _, gate = self._image_features(pixels.to(self.device))
        return ImageEmbeddings(full, identity, clothing, gate)

    # ------------------------------------------------------------------------------------- training
    def forward(
        self,
        pixels: torch.Tensor,
        captions: Sequence[str],
        identity_captions: Sequence[str] | None = None,
        clothing_captions: Sequence[str] | None = None,
    ) -> DisReIDOutput:
        """One training batch: images and, per image, its caption and the caption's two parts. A part
        left out (None) is not encoded: a run whose losses do not use it (the baseline) saves the time."""
        count = len(captions)
        parts = [part for part in (identity_captions, clothing_captions) if part is not None]
        if any(len(part) != count for part in parts) or pixels.shape[0] != count:
            raise ValueError("pixels, captions, identity_captions and clothing_captions differ in length")
        full, identity, clothing, f_id, gate = self._image_features(pixels)
        # One call per kind of text: each is padded to its own longest, the short parts to theirs.
        text_identity, text_clothing = (
            None if part is None else self.encode_text(part)
            for part in (identity_captions, clothing_captions)
        )
        text = self.encode_text(captions)
        clothing_adversary = identity_adversary = None
        if self.disentangle is not None:
            clothing_adversary = F.normalize(self.clothing_adversary(grad_reverse(identity)), dim=-1)
            identity_adversary = F.normalize(self.identity_adversary(grad_reverse(clothing)), dim=-1)
        return DisReIDOutput(
            image=full,
            image_identity=identity,
            image_clothing=clothing,
            text=text,
            text_identity=text_identity,
            text_clothing=text_clothing,
            identity_logits=None if self.classifier is None else self.classifier(f_id),
            clothing_adversary=clothing_adversary,
            identity_adversary=identity_adversary,
            gate=gate,
        )

    # ------------------------------------------------------------------------------------ save/load
    def save_pretrained(self, directory: str | Path) -> None:
        """Write config.json, model.safetensors and tokenizer/ atomically into `directory`."""
        with writing(directory), atomic_directory(directory) as staging:
            self.config.save(staging)
            save_model(self, str(staging / WEIGHTS_NAME))
            self.tokenizer.save_pretrained(str(staging / TOKENIZER_DIR))

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> DisReID:
        """Load a model written by `save_pretrained`. Nothing is unpickled and nothing is downloaded."""
        directory = current(directory)  # or the copy an interrupted save left aside
        if not directory.is_dir():
            raise FileNotFoundError(f"model directory {directory} does not exist")
        missing = [
            name for name in (CONFIG_NAME, WEIGHTS_NAME, TOKENIZER_DIR) if not (directory / name).exists()
        ]
        if missing:
            raise FileNotFoundError(
                f"{directory} is not a complete disreid model: missing {', '.join(missing)}"
            )
        config = DisReIDConfig.load(directory)
        with reading(directory / TOKENIZER_DIR):
            tokenizer = AutoTokenizer.from_pretrained(str(directory / TOKENIZER_DIR))
        model = cls(config, create_encoders(config, tokenizer=tokenizer, pretrained=False))
        try:
            load_model(model, str(directory / WEIGHTS_NAME), strict=True)
        except SafetensorError as error:
            raise unreadable(directory / WEIGHTS_NAME, error) from error
        except RuntimeError as error:
            raise ValueError(
                f"{directory / WEIGHTS_NAME} does not match {directory / CONFIG_NAME}: {error}"
            ) from error
        _check_can_rank(model, directory)
        return model.eval()


def _check_can_rank(model: DisReID, directory: Path) -> None:
    """Refuse weights that rank nothing: NaN or infinite ones (a diverged run) would be indexed and
    searched without a word, and all-zero ones evaluate to exactly chance."""
    weights = [tensor for tensor in model.state_dict().values() if tensor.is_floating_point()]
    if not all(torch.isfinite(tensor).all() for tensor in weights):
        raise ValueError(f"{directory}: the weights hold NaN or infinite values (did training diverge?)")
    if not any(tensor.any() for tensor in weights):
        raise ValueError(f"{directory}: the weights are all zero: this model ranks nothing")
