"""The identity and clothing text of real captions, which their annotation files do not hold.

`disreid.text.split_caption` makes them (a few thousand captions a second: a minute for a whole data
set), so `disreid prepare` writes them once to `captions_split.json` beside the annotation file. The
cache names the annotation file's digest and the splitter's version, and is ignored when either has
changed, so that stale parts never train a model.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from disreid.io import atomic_write_text
from disreid.text import splitter

CACHE_NAME = "captions_split.json"
# A digest of the splitter's source: any change to the splitter invalidates every cache.
SPLITTER_VERSION = hashlib.sha256(Path(splitter.__file__).read_bytes()).hexdigest()[:16]

Parts = list[tuple[str, str]]  # (identity, clothing) of each caption of one record; "" where it names none

logger = logging.getLogger(__name__)


def read_cache(annotation_file: Path, digest: str) -> list[Parts] | None:
    """The cached parts of every record, by record index, or None where there is no valid cache."""
    path = annotation_file.parent / CACHE_NAME
    if not path.is_file():
        return None
    try:
        cache = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        logger.warning("%s is not valid JSON: rerun `disreid prepare`", path)
        return None
    written_for = (cache.get("annotations"), cache.get("sha256"), cache.get("splitter"))
    if written_for != (annotation_file.name, digest, SPLITTER_VERSION):
        logger.warning("%s is for another annotation file or splitter: rerun `disreid prepare`", path)
        return None
    return [[(identity, clothing) for identity, clothing in record] for record in cache["parts"]]


def write_cache(annotation_file: Path, digest: str, parts: Sequence[Parts]) -> Path:
    """Write the parts of every record of `annotation_file` (by record index, then caption index)."""
    identity_empty, clothing_empty = count_empty(parts)
    cache = {
        "annotations": annotation_file.name,
        "sha256": digest,
        "splitter": SPLITTER_VERSION,
        "captions": sum(len(record) for record in parts),
        "empty_identity": identity_empty,
        "empty_clothing": clothing_empty,
        "parts": [[list(caption) for caption in record] for record in parts],
    }
    path = annotation_file.parent / CACHE_NAME
    atomic_write_text(path, json.dumps(cache, ensure_ascii=False) + "\n")
    return path


def count_empty(parts: Sequence[Parts]) -> tuple[int, int]:
    """How many captions have no identity part, and how many no clothing part: training and the
    identity and clothing queries use the whole caption for those."""
    captions = [caption for record in parts for caption in record]
    return sum(not identity for identity, _ in captions), sum(not clothing for _, clothing in captions)
