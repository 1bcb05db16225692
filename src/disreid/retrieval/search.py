"""Text queries: the part of a description each search mode compares, encoded by the index's model."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from disreid.retrieval.index import MODES, GalleryIndex, Hit
from disreid.text import split_caption

MAX_QUERY_CHARS = 500  # a long CUHK-PEDES caption is about 400; the model truncates to its token limit


@dataclass(frozen=True)
class SearchResult:
    query: str  # as given, less surrounding blanks
    mode: str
    text: str  # what was encoded: the query, or its identity or clothing part
    hits: list[Hit]


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


def search(index: GalleryIndex, query: str, mode: str = "full", k: int = 10) -> SearchResult:
    """The `k` gallery images that best match a description, in one of the modes of `MODES`."""
    text = query_text(query, mode)
    with torch.inference_mode():
        embedding = index.model.encode_text([text])[0]
    return SearchResult(query.strip(), mode, text, index.search(embedding, mode, k))
