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
        help="check a downloaded CUHK-PEDES, ICFG-PEDES, RSTPReid or PETA and write what training reads",
        description="Check a data set as its authors hand it out. CUHK-PEDES, ICFG-PEDES and RSTPReid: "
        "every annotation record well formed, persons, images and captions per split as published, every "
        "image present and readable, every caption with words; then split each caption into identity and "
        "clothing text and cache the parts in captions_split.json beside the annotations. PETA (--root: "
        "the `PETA dataset` folder holding its ten subsets): every label line understood, every image "
        "labelled and readable, images per subset as published; then caption every image from its "
        "person's labels and write peta_captions.json beside the subsets. Exits with 1 when the data set "
        "differs from the published one (what training reads is written all the same).",
    )
    parser.add_argument("--dataset", required=True, help="cuhk-pedes, icfg-pedes, rstpreid or peta")
    parser.add_argument(
        "--root", type=Path, required=True, help="data set folder (annotations and imgs/, or PETA's subsets)"
    )
    parser.add_argument("--workers", type=int, default=8, help="threads decoding images (default: 8)")
    parser.add_argument("--show", type=int, default=20, help="problems listed (default: 20, 0: all)")
    parser.add_argument("--seed", type=int, default=0, help="PETA only: seed of the captions (default: 0)")
    parser.add_argument(
        "--captions-per-image", type=int, default=3, help="PETA only: captions per image (default: 3)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from disreid.data import BENCHMARKS
    from disreid.data.caption_split import count_empty, write_cache

    if args.dataset == "peta":
        return _prepare_peta(args)
    if args.dataset not in BENCHMARKS:
        choices = ", ".join([*BENCHMARKS, "peta"])
        raise ValueError(f"unknown dataset {args.dataset!r}; choose one of: {choices}")
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


def _prepare_peta(args: argparse.Namespace) -> int:
    """Scan PETA, print what is wrong with it per subset and name it, then caption it."""
    from disreid.data.peta.dataset import ANNOTATIONS, SUBSETS, prepare_peta

    scans, records = prepare_peta(args.root, args.seed, args.captions_per_image, args.workers)
    columns = ("images", "published", "labels", "no image", "no label", "unreadable", "unknown", "malformed")
    print(f"{'subset':<12}" + "".join(f"{name:>11}" for name in columns))
    for subset in scans:
        counts = (
            subset.files,
            SUBSETS[subset.name],
            len(subset.labels),
            len(subset.labels_without_images),
            len(subset.images_without_labels),
            len(subset.unreadable),
            sum(subset.unknown.values()),
            len(subset.malformed),
        )
        print(f"{subset.name:<12}" + "".join(f"{count:>11,}" for count in counts))
    groups = {
        "subsets could not be read": [s.missing for s in scans if s.missing],
        "label lines are malformed": [line for s in scans for line in s.malformed],
        "label lines hold attribute names PETA does not have": [
            line for s in scans for line in s.unknown_lines
        ],
        "images are unreadable (left out)": [line for s in scans for line in s.unreadable],
        "images have no label line (left out)": [str(p) for s in scans for p in s.images_without_labels],
        "labelled persons have no image": [
            f"{s.name}: person {key}" for s in scans for key in s.labels_without_images
        ],
    }
    for title, lines in groups.items():
        if lines:
            print(f"{len(lines):,} {title}:")
            shown = lines if args.show <= 0 else lines[: args.show]
            print("\n".join(f"  {line}" for line in shown))
            if len(shown) < len(lines):
                print(f"  ... and {len(lines) - len(shown):,} more (--show 0 lists them all)")
    _report_sizes_found(records)
    total = sum(subset.files for subset in scans)
    each = f"{args.captions_per_image} captions each"
    print(f"captioned {len(records):,} images ({each}) into {args.root / ANNOTATIONS}")
    if all(subset.sound for subset in scans):
        print(f"{args.root} is the published PETA ({total:,} images)")
        return 0
    published = f"{sum(SUBSETS.values()):,} images in ten subsets"
    print(f"{args.root} differs from the published PETA ({published}): see above")
    return 1


def _report_sizes_found(records: list[dict]) -> None:
    """Persons, images and captions per split of the written records."""
    print(f"{'split':<14}{'persons':>10}{'images':>10}{'captions':>10}")
    for split in ("train", "val", "test", "viper", "unidentified"):
        kept = [record for record in records if record["split"] == split]
        sizes = (len({r["id"] for r in kept}), len(kept), sum(len(r["captions"]) for r in kept))
        print(f"{split:<14}" + "".join(f"{n:>10,}" for n in sizes))
