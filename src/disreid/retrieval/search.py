"""Text queries: the part of a description each search mode compares, encoded by the index's model."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from transformers import PreTrainedTokenizerBase

from disreid.retrieval.index import MODES, GalleryIndex, Hit
from disreid.text import split_caption
from disreid.text.spelling import respell

MAX_QUERY_CHARS = 500  # a long CUHK-PEDES caption is about 400; the model truncates to its token limit


@dataclass(frozen=True)
class SearchResult:
    query: str  # as given, less surrounding blanks
    mode: str
    text: str  # what was encoded: the query, or its identity or clothing part
    hits: list[Hit]
    unknown_words: list[str] = field(default_factory=list)  # words of `text` the model cannot read


def query_text(query: str, mode: str) -> str:
    """The text to encode for `mode`: the whole query for `full`; for `identity` and `clothing` the
    query's part of that kind, as the training captions were split, or the whole query when it has
    no such part (a query of only "a red coat" is all clothing, and in identity mode still the best
    description there is)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    query = query.strip()
    if not query:
        raise ValueError("the query is empty: describe the person to look for")
    if len(query) > MAX_QUERY_CHARS:
        raise ValueError(f"the query has {len(query)} characters; shorten it to {MAX_QUERY_CHARS} at most")
    if mode == "full":
        return query
    identity, clothing = split_caption(query)
    return (identity if mode == "identity" else clothing) or query


def words_as_read(
    tokenizer: PreTrainedTokenizerBase, text: str, respelled: bool = True
) -> list[tuple[int, str]]:
    """Each token the tokenizer reads in `text`, with the part of `text` it stands for, as written.
    `text` is respelled first as the word tokenizer respells it (unless `respelled` is False), keeping
    where each character came from: the tokenizer, which then finds nothing to respell, gives offsets
    that lead back to the words as the user wrote them."""
    read, origins = respell(text) if respelled else (text, [(i, i + 1) for i in range(len(text))])
    encoding = tokenizer(read, add_special_tokens=False, return_offsets_mapping=True)
    return [
        (token, text[origins[start][0] : origins[end - 1][1]])
        for token, (start, end) in zip(encoding.input_ids, encoding.offset_mapping, strict=True)
    ]


def unknown_words(tokenizer: PreTrainedTokenizerBase, text: str) -> list[str]:
    """The words of `text` that the tokenizer reads as its unknown token, each once, in order: the model
    sees none of them. A word-level vocabulary (the tiny backbone's, made of its training captions) misses
    any other word, script or emoji; byte-level subword tokenizers (CLIP's) read every text, so with them
    the list is empty. Raises ValueError when no word of `text` is known: ranking the gallery by the
    unknown token alone would look like an answer and mean nothing."""
    pieces = words_as_read(tokenizer, text)
    unknown = list(dict.fromkeys(piece for token, piece in pieces if token == tokenizer.unk_token_id))
    if not any(
        token != tokenizer.unk_token_id and any(c.isalnum() for c in piece) for token, piece in pieces
    ):
        unread = f" ({', '.join(unknown)} unknown to it)" if unknown else ""
        raise ValueError(
            f"the model knows no word of the query{unread}: describe the person in the words of its "
            "training captions (English)"
        )
    return unknown


def search(
    index: GalleryIndex,
    query: str,
    mode: str = "full",
    k: int = 10,
    *,
    nprobe: int | None = None,
    rerank: int | None = None,
) -> SearchResult:
    """The `k` gallery images that best match a description, in one of the modes of `MODES`, and the
    words of it that the model does not know (which every front end names). `nprobe` and `rerank`
    override the index's own (`GalleryIndex.search`)."""
    text = query_text(query, mode)
    unknown = unknown_words(index.model.tokenizer, text)
    with torch.inference_mode():
        embedding = index.model.encode_text([text])[0]
    return SearchResult(
        query.strip(), mode, text, index.search(embedding, mode, k, nprobe=nprobe, rerank=rerank), unknown
    )
