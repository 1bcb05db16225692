"""Search a gallery: index a folder of images once, then find a person by description, by identity
alone (whatever they wear) or by clothing alone."""

from disreid.retrieval.embedding import MODES, EmbeddingJob, embed_images
from disreid.retrieval.index import (
    IMAGE_EXTENSIONS,
    GalleryIndex,
    Hit,
    UpdateReport,
    find_images,
    resolve_model,
)
from disreid.retrieval.paths import PathTable
from disreid.retrieval.search import MAX_QUERY_CHARS, SearchResult, query_text, search, unknown_words
from disreid.retrieval.sheet import contact_sheet
from disreid.retrieval.structure import INDEX_TYPES, IndexSpec

__all__ = [
    "IMAGE_EXTENSIONS",
    "MAX_QUERY_CHARS",
    "MODES",
    "GalleryIndex",
    "Hit",
    "SearchResult",
    "UpdateReport",
    "contact_sheet",
    "EmbeddingJob",
    "INDEX_TYPES",
    "IndexSpec",
    "PathTable",
    "embed_images",
    "find_images",
    "query_text",
    "resolve_model",
    "search",
    "unknown_words",
]
