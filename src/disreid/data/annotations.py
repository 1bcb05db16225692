"""Readers of the annotation files of text-to-person data sets, into one record type.

Each data set's reader is a `parse_record` function for its record layout, run by `_read`, which
owns what they share: loading the JSON list, filtering a split and naming the file and record in
every error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class AnnotationError(ValueError):
    """An annotation file, or one of its records, is not in the expected format."""


@dataclass(frozen=True)
class ImageRecord:
    """One image with its captions; the split parts, outfit and factors exist for SynthPedes only."""

    path: Path
    person_id: int
    split: str
    captions: tuple[str, ...]
    identity_captions: tuple[str, ...] | None = None
    clothing_captions: tuple[str, ...] | None = None
    outfit_id: int | None = None
    factors: dict | None = None


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


def _read(
    annotation_file: Path, image_root: Path | None, split: str | None, parse_record: ParseRecord
) -> list[ImageRecord]:
    image_root = annotation_file.parent if image_root is None else Path(image_root)
    try:
        raw_records = json.loads(annotation_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise AnnotationError(f"{annotation_file}: not valid JSON: {error}") from error
    if not isinstance(raw_records, list):
        kind = type(raw_records).__name__
        raise AnnotationError(f"{annotation_file}: expected a JSON list of records, got {kind}")
    records = []
    for index, raw in enumerate(raw_records):
        try:
            if not isinstance(raw, dict):
                raise _RecordError(f"expected an object, got {type(raw).__name__}")
            record = parse_record(raw, image_root)
        except _RecordError as error:
            raise AnnotationError(f"{annotation_file}: record {index}: {error}") from None
        if split is None or record.split == split:
            records.append(record)
    return records


def _parse_cuhk_pedes(raw: Mapping[str, Any], image_root: Path) -> ImageRecord:
    captions = _captions(raw, "captions")
    identity_captions = _captions(raw, "id_captions", len(captions)) if "id_captions" in raw else None
    clothing_captions = _captions(raw, "cloth_captions", len(captions)) if "cloth_captions" in raw else None
    return ImageRecord(
        path=image_root / _field(raw, "file_path", str),
        person_id=_positive_int(raw, "id"),
        split=_field(raw, "split", str),
        captions=captions,
        identity_captions=identity_captions,
        clothing_captions=clothing_captions,
        outfit_id=_positive_int(raw, "outfit") if "outfit" in raw else None,
        factors=_field(raw, "factors", dict) if "factors" in raw else None,
    )


def _field(raw: Mapping[str, Any], key: str, kind: type) -> Any:
    if key not in raw:
        raise _RecordError(f"missing key {key!r}")
    value = raw[key]
    # bool is an int in Python, never a valid id or count here.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _RecordError(f"{key!r} should be {kind.__name__}, got {type(value).__name__}")
    return value


def _positive_int(raw: Mapping[str, Any], key: str) -> int:
    value = _field(raw, key, int)
    if value < 1:
        raise _RecordError(f"{key!r} should be a positive (1-based) id, got {value}")
    return value


def _captions(raw: Mapping[str, Any], key: str, expected_length: int | None = None) -> tuple[str, ...]:
    captions = _field(raw, key, list)
    if not captions:
        raise _RecordError(f"{key!r} is empty")
    if expected_length is not None and len(captions) != expected_length:
        raise _RecordError(f"{key!r} has {len(captions)} entries but 'captions' has {expected_length}")
    if not all(isinstance(caption, str) for caption in captions):
        raise _RecordError(f"{key!r} should hold strings only")
    return tuple(captions)
