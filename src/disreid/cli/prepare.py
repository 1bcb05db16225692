"""`disreid prepare`: check a downloaded benchmark data set and cache the caption split it trains with."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from disreid.data import ImageRecord


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prepare",
        help="check a downloaded CUHK-PEDES, ICFG-PEDES or RSTPReid and cache its caption split",
        description="Check a data set as its authors hand it out: every annotation record well formed, "
        "persons, images and captions per split as published, every image present and readable, every "
        "caption with words. Then split each caption into identity and clothing text and cache the parts "
        "in captions_split.json beside the annotations, where training reads them. Exits with 1 when the "
        "data set differs from the published one (the cache is written all the same).",
    )
    parser.add_argument("--dataset", required=True, help="cuhk-pedes, icfg-pedes or rstpreid")
    parser.add_argument("--root", type=Path, required=True, help="data set folder (annotations, imgs/)")
    parser.add_argument("--workers", type=int, default=8, help="threads decoding images (default: 8)")
    parser.add_argument("--show", type=int, default=20, help="problem images listed (default: 20, 0: all)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from disreid.data import BENCHMARKS
    from disreid.data.caption_split import count_empty, write_cache

    if args.dataset not in BENCHMARKS:
        raise ValueError(f"unknown dataset {args.dataset!r}; choose one of: {', '.join(BENCHMARKS)}")
    benchmark = BENCHMARKS[args.dataset]
    records = benchmark(args.root, split=None)  # names every malformed record, or the missing file
    as_published = _report_sizes(records, benchmark.splits)
    sound = _report_problems(records, args.workers, args.show)

    parts = [list(zip(r.identity_captions, r.clothing_captions, strict=True)) for r in records]
    annotation_file = args.root / benchmark.annotations
    cache = write_cache(annotation_file, hashlib.sha256(annotation_file.read_bytes()).hexdigest(), parts)
    captions = sum(len(record) for record in parts)
    no_identity, no_clothing = count_empty(parts)
    print(
        f"split {captions:,} captions into identity and clothing text: {_share(no_identity, captions)} "
        f"name no identity, {_share(no_clothing, captions)} no clothing (the whole caption stands in for "
        f"a missing part); cached in {cache}"
    )
    if as_published and sound:
        print(f"{args.root} is the published {args.dataset}")
        return 0
    print(f"{args.root} differs from the published {args.dataset}: see above")
    return 1


def _report_sizes(records: list[ImageRecord], published: dict[str, tuple[int, int, int]]) -> bool:
    """Print persons, images and captions per split against the published sizes; True when all agree."""
    found: dict[str, tuple[int, int, int]] = {}
    for split in [*published, *sorted({record.split for record in records} - set(published))]:
        kept = [record for record in records if record.split == split]
        persons = len({record.person_id for record in kept})
        found[split] = (persons, len(kept), sum(len(record.captions) for record in kept))
    print(f"{'split':<8}{'persons':>10}{'images':>10}{'captions':>10}  published")
    for split, sizes in found.items():
        expected = published.get(split)
        if sizes == expected:
            verdict = "as published"
        else:
            verdict = "DIFFERS: " + ("not a published split" if expected is None else _sizes(expected))
        print(f"{split:<8}" + "".join(f"{n:>10,}" for n in sizes) + f"  {verdict}")
    return found == published


def _sizes(sizes: tuple[int, int, int]) -> str:
    return " / ".join(f"{n:,}" for n in sizes)


def _report_problems(records: list[ImageRecord], workers: int, show: int) -> bool:
    """Decode every image and look at every caption; list the missing and unreadable images and the
    blank captions. True when there are none."""
    from disreid.data.checks import MISSING, find_problems

    problems = find_problems(records, workers, progress=True)
    groups = {
        "images are missing": [str(p.record.path) for p in problems if p.image == MISSING],
        "images are unreadable": [
            f"{p.record.path}: {p.image}" for p in problems if p.image not in (None, MISSING)
        ],
        "images have blank captions": [str(p) for p in problems if p.blank],
    }
    for title, lines in groups.items():
        if lines:
            print(f"{len(lines):,} of {len(records):,} {title}:")
            shown = lines if show <= 0 else lines[:show]
            print("\n".join(f"  {line}" for line in shown))
            if len(shown) < len(lines):
                print(f"  ... and {len(lines) - len(shown):,} more (--show 0 lists them all)")
    if not any(p.image for p in problems):
        print(f"all {len(records):,} images read")
    return not problems


def _share(count: int, total: int) -> str:
    return f"{count:,} ({100 * count / max(1, total):.1f} %)"
