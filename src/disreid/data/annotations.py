"""Readers of the annotation files of text-to-person data sets, into one record type.

Each data set's reader is a `parse_record` function for its record layout, run by `_read`, which
owns what they share: loading the JSON list, filtering a split, naming the file and every malformed
record in errors, and giving real captions their identity and clothing text (`caption_split`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from disreid.data.caption_split import read_cache
from disreid.text import split_caption

MAX_REPORTED = 10  # malformed records named in one error

logger = logging.getLogger(__name__)


class AnnotationError(ValueError):
    """An annotation file, or one of its records, is not in the expected format."""


@dataclass(frozen=True)
class ImageRecord:
    """One image with its captions and their identity and clothing parts: SynthPedes writes them, real
    captions are split by the caption splitter ("" where a caption names no identity or no clothing).
    Outfit, factors, what each caption states and what the image hides exist for SynthPedes only:
    `stated[i]` maps "identity" and "clothing" to the factor values that caption i's parts state."""

    path: Path
    person_id: int
    split: str
    captions: tuple[str, ...]
    identity_captions: tuple[str, ...] | None = None
    clothing_captions: tuple[str, ...] | None = None
    outfit_id: int | None = None
    factors: dict | None = None
    stated: tuple[dict, ...] | None = None
    # parts of the person the image does not show ("face", "shoes", "bag")
    hidden: tuple[str, ...] | None = None


class _RecordError(Exception):
    """What is wrong with one record; `_read` adds the file and the record index."""


ParseRecord = Callable[[Mapping[str, Any], Path], ImageRecord]


def read_cuhk_pedes(
    annotation_file: Path, image_root: Path | None = None, split: str | None = None
) -> list[ImageRecord]:
    """Records of a CUHK-PEDES-format file (CUHK-PEDES `reid_raw.json`, SynthPedes).

    `file_path` is resolved against `image_root`, by default the annotation file's folder
    (for CUHK-PEDES itself, pass its `imgs` folder). `split` keeps the records of one split.
    """
    return _read(Path(annotation_file), image_root, split, _parse_cuhk_pedes)


def read_icfg_pedes(
    annotation_file: Path, image_root: Path | None = None, split: str | None = None
) -> list[ImageRecord]:
    """Records of ICFG-PEDES's `ICFG-PEDES.json`: CUHK-PEDES's keys with one caption per image, person
    ids that may start at 0, and only a `train` and a `test` split. Arguments as `read_cuhk_pedes`."""
    return _read(Path(annotation_file), image_root, split, partial(_parse_cuhk_pedes, first_id=0))


def read_rstpreid(
    annotation_file: Path, image_root: Path | None = None, split: str | None = None
) -> list[ImageRecord]:
    """Records of RSTPReid's `data_captions.json`: `{id, img_path, captions, split}`, two captions per
    image, person ids that may start at 0. Arguments as `read_cuhk_pedes`."""
    return _read(Path(annotation_file), image_root, split, _parse_rstpreid)


def _read(
    annotation_file: Path, image_root: Path | None, split: str | None, parse_record: ParseRecord
) -> list[ImageRecord]:
    image_root = annotation_file.parent if image_root is None else Path(image_root)
    content = annotation_file.read_bytes()
    try:
        raw_records = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise AnnotationError(f"{annotation_file}: not valid JSON: {error}") from error
    if not isinstance(raw_records, list):
        kind = type(raw_records).__name__
        raise AnnotationError(f"{annotation_file}: expected a JSON list of records, got {kind}")
    records, problems = [], []
    for index, raw in enumerate(raw_records):
        try:
            if not isinstance(raw, dict):
                raise _RecordError(f"expected an object, got {type(raw).__name__}")
            records.append(parse_record(raw, image_root))
        except _RecordError as error:
            problems.append(f"record {index}: {error}")
    if problems:
        more = len(problems) - MAX_REPORTED
        problems = problems[:MAX_REPORTED] + ([f"and {more} more malformed records"] if more > 0 else [])
        raise AnnotationError(f"{annotation_file}: " + "; ".join(problems))
    selected = [index for index, record in enumerate(records) if split is None or record.split == split]
    _split_captions(annotation_file, content, records, selected)
    return [records[index] for index in selected]


def _split_captions(
    annotation_file: Path, content: bytes, records: list[ImageRecord], selected: list[int]
) -> None:
    """Give the selected records that have no caption parts the splitter's, from the cache where it is
    valid (`disreid prepare` writes it), else split now."""
    unsplit = [
        i for i in selected if records[i].identity_captions is None and records[i].clothing_captions is None
    ]
    if not unsplit:
        return
    cached = read_cache(annotation_file, hashlib.sha256(content).hexdigest())
    if cached is None:
        captions = sum(len(records[i].captions) for i in unsplit)
        logger.info("%s: splitting %d captions (`disreid prepare` caches them)", annotation_file, captions)
    for i in unsplit:
        parts = cached[i] if cached else [split_caption(caption) for caption in records[i].captions]
        identity, clothing = zip(*parts, strict=True)
        records[i] = replace(records[i], identity_captions=identity, clothing_captions=clothing)


def _parse_cuhk_pedes(raw: Mapping[str, Any], image_root: Path, first_id: int = 1) -> ImageRecord:
    captions = _captions(raw, "captions")
    identity_captions = _captions(raw, "id_captions", len(captions)) if "id_captions" in raw else None
    clothing_captions = _captions(raw, "cloth_captions", len(captions)) if "cloth_captions" in raw else None
    return ImageRecord(
        path=image_root / _relative_path(raw, "file_path"),
        person_id=_id(raw, "id", first_id),
        split=_field(raw, "split", str),
        captions=captions,
        identity_captions=identity_captions,
        clothing_captions=clothing_captions,
        outfit_id=_id(raw, "outfit") if "outfit" in raw else None,
        factors=_field(raw, "factors", dict) if "factors" in raw else None,
        stated=_stated(raw, len(captions)) if "stated" in raw else None,
        hidden=tuple(_field(raw, "hidden", list)) if "hidden" in raw else None,
    )


def _parse_rstpreid(raw: Mapping[str, Any], image_root: Path) -> ImageRecord:
    return ImageRecord(
        path=image_root / _relative_path(raw, "img_path"),
        person_id=_id(raw, "id", first=0),
        split=_field(raw, "split", str),
        captions=_captions(raw, "captions"),
    )


def _field(raw: Mapping[str, Any], key: str, kind: type) -> Any:
    if key not in raw:
        raise _RecordError(f"missing key {key!r}")
    value = raw[key]
    # bool is an int in Python, never a valid id or count here.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _RecordError(f"{key!r} should be {kind.__name__}, got {type(value).__name__}")
    return value


def _relative_path(raw: Mapping[str, Any], key: str) -> str:
    """An image path inside the image folder: an absolute path or a `..` would read any file."""
    value = _field(raw, key, str)
    if posixpath.isabs(value) or posixpath.normpath(value).split("/")[0] == "..":
        raise _RecordError(f"{key!r} leads out of the image folder: {value!r}")
    return value


def _id(raw: Mapping[str, Any], key: str, first: int = 1) -> int:
    value = _field(raw, key, int)
    if value < first:
        expected = "a positive (1-based) id" if first == 1 else f"an id from {first}"
        raise _RecordError(f"{key!r} should be {expected}, got {value}")
    return value


def _stated(raw: Mapping[str, Any], expected_length: int) -> tuple[dict, ...]:
    stated = _field(raw, "stated", list)
    if len(stated) != expected_length:
        raise _RecordError(f"'stated' has {len(stated)} entries but 'captions' has {expected_length}")
    if not all(isinstance(entry, dict) and set(entry) == {"identity", "clothing"} for entry in stated):
        raise _RecordError("'stated' should hold one {identity, clothing} object per caption")
    return tuple(stated)


def _captions(raw: Mapping[str, Any], key: str, expected_length: int | None = None) -> tuple[str, ...]:
    captions = _field(raw, key, list)
    if not captions:
        raise _RecordError(f"{key!r} is empty")
    if expected_length is not None and len(captions) != expected_length:
        raise _RecordError(f"{key!r} has {len(captions)} entries but 'captions' has {expected_length}")
    if not all(isinstance(caption, str) for caption in captions):
        raise _RecordError(f"{key!r} should hold strings only")
    return tuple(captions)
