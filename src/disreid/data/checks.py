"""Checks of a data set's records before training uses them: every image present and decodable, every
caption with words. A bad record stops a run mid-epoch otherwise, hours in; found first, it is left out
and counted (`data.bad_records: skip`) or refused by name (`refuse`)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from tqdm.auto import tqdm

from disreid.data.annotations import ImageRecord
from disreid.data.datasets import ImageReadError, load_image

MAX_NAMED = 10  # bad records named in a report or an error
MISSING = "missing"


class BadRecordError(ValueError):
    """Records with an unreadable image or a blank caption, under `data.bad_records: refuse`."""


@dataclass(frozen=True)
class Problem:
    index: int  # of the record in the list checked
    record: ImageRecord
    image: str | None  # None: the image reads; else "missing" or why it cannot be decoded
    blank: tuple[int, ...]  # positions of blank captions

    @property
    def dropped(self) -> bool:
        """Whether the whole record goes: no image, or no caption left."""
        return self.image is not None or len(self.blank) == len(self.record.captions)

    def __str__(self) -> str:
        what = [f"caption {i + 1} is blank" for i in self.blank]
        if self.image is not None:
            what.insert(0, "image missing" if self.image == MISSING else f"image unreadable ({self.image})")
        return f"{self.record.path} (person {self.record.person_id}): {', '.join(what)}"


def image_problem(path: Path) -> str | None:
    """None for a readable image, else "missing" or why it cannot be decoded."""
    if not path.is_file():
        return MISSING
    try:
        load_image(path)
    except ImageReadError as error:
        return str(error.__cause__ or error)
    return None


def image_problems(
    paths: Sequence[Path], workers: int | None = None, progress: bool = False
) -> list[str | None]:
    """`image_problem` of every path, decoded in `workers` threads (PIL releases the GIL)."""
    with ThreadPoolExecutor(max(1, workers or min(8, os.cpu_count() or 1))) as pool:
        found = pool.map(image_problem, paths)
        return list(tqdm(found, total=len(paths), desc="checking images", leave=False, disable=not progress))


def find_problems(
    records: Sequence[ImageRecord], workers: int | None = None, progress: bool = False
) -> list[Problem]:
    """Decode every image and look at every caption."""
    images = image_problems([record.path for record in records], workers, progress)
    problems = []
    for index, (record, image) in enumerate(zip(records, images, strict=True)):
        blank = tuple(i for i, caption in enumerate(record.captions) if not caption.strip())
        if image or blank:
            problems.append(Problem(index, record, image, blank))
    return problems


def check_records(records: Sequence[ImageRecord], policy: str, split: str) -> list[ImageRecord]:
    """`records` less those with a bad image and less blank captions (reported), or an error naming
    them under `policy` "refuse"."""
    problems = find_problems(records)
    if not problems:
        return list(records)
    named = "; ".join(str(problem) for problem in problems[:MAX_NAMED])
    more = f"; and {len(problems) - MAX_NAMED} more" if len(problems) > MAX_NAMED else ""
    if policy == "refuse":
        raise BadRecordError(
            f"{len(problems)} {split} record(s) cannot be trained on: {named}{more} "
            "(data.bad_records=skip leaves them out)"
        )
    kinds = Counter(
        MISSING if problem.image == MISSING else "unreadable" if problem.image else "with no caption"
        for problem in problems
        if problem.dropped
    )
    blanks = sum(len(problem.blank) for problem in problems if not problem.dropped)
    dropped = sum(kinds.values())
    print(
        f"{split}: left out {dropped} of {len(records)} images ("
        + ", ".join(f"{kinds[kind]} {kind}" for kind in (MISSING, "unreadable", "with no caption"))
        + f") and {blanks} blank caption(s) of the others: {named}{more}",
        flush=True,
    )
    return _without(records, problems)


def _without(records: Sequence[ImageRecord], problems: list[Problem]) -> list[ImageRecord]:
    found = {problem.index: problem for problem in problems}
    kept = []
    for index, record in enumerate(records):
        problem = found.get(index)
        if problem is None:
            kept.append(record)
        elif not problem.dropped:
            keep = [i for i in range(len(record.captions)) if i not in problem.blank]
            kept.append(replace(record, **{name: _pick(getattr(record, name), keep) for name in _CAPTIONS}))
    return kept


_CAPTIONS = ("captions", "identity_captions", "clothing_captions")


def _pick(values: tuple[str, ...] | None, keep: list[int]) -> tuple[str, ...] | None:
    return None if values is None else tuple(values[i] for i in keep)
