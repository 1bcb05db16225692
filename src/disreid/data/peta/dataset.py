"""PETA as its authors hand it out, checked, split by person and captioned from its labels.

The download's `PETA dataset/` folder holds ten subsets, each `<subset>/archive/` with the images and
`Label.txt`: one line per person, the person's id (the prefix of their images' names, `000_45_1.bmp`
is person `000`) and then their attribute names. Ids are per subset. CUHK's subset labels each image
by its file name, and MIT's persons have one image each: neither has identities, so each of their
images is a person of its own, kept apart in the split `unidentified`.

`disreid prepare --dataset peta` scans the download (`scan`), names what is wrong with it, and writes
`peta_captions.json` (CUHK-PEDES records with factors and what each caption states, as SynthPedes
writes them) and `peta_manifest.json` beside the subsets; `read_peta` reads them for training.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from disreid.data.annotations import ImageRecord, read_cuhk_pedes
from disreid.data.checks import image_problems
from disreid.data.peta.attributes import KNOWN, factors_of
from disreid.data.peta.captions import describe
from disreid.io import atomic_write_text

VERSION = 1  # of the captions: bump whenever the same download and seed would give other records
ANNOTATIONS = "peta_captions.json"
MANIFEST = "peta_manifest.json"
ARCHIVE, LABELS = "archive", "Label.txt"
# Images per subset as published (Deng et al., 2014, Table 1): 19,000 in all.
SUBSETS = {
    "3DPeS": 1012,
    "CAVIAR4REID": 1220,
    "CUHK": 4563,
    "GRID": 1275,
    "MIT": 888,
    "PRID": 1134,
    "SARC3D": 200,
    "TownCentre": 6967,
    "VIPeR": 1264,
    "i-LID": 477,
}
UNIDENTIFIED = ("CUHK", "MIT")  # no identities: every image is a person of its own
HELD_OUT = {"VIPeR": "viper"}  # a domain never trained on: its own split
SPLIT_FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}  # of each other subset's persons
SPLIT_SEED = 0  # the split is part of the benchmark: the caption seed does not move it
CAPTIONS_PER_IMAGE = 3


@dataclass
class SubsetScan:
    """One subset of a download: its labelled persons with their images, and what is wrong with it."""

    name: str
    labels: dict[str, list[str]] = field(default_factory=dict)  # person key -> attribute names
    images: dict[str, list[Path]] = field(default_factory=dict)  # person key -> its readable images
    files: int = 0  # images found, readable or not
    malformed: list[str] = field(default_factory=list)  # "Label.txt line N: why"
    unknown: Counter[str] = field(default_factory=Counter)  # attribute names PETA does not have
    unknown_lines: list[str] = field(default_factory=list)  # where they are
    unreadable: list[str] = field(default_factory=list)  # "path: why"
    missing: str | None = None  # why the subset could not be read at all

    @property
    def labels_without_images(self) -> list[str]:
        return sorted(set(self.labels) - set(self.images))

    @property
    def images_without_labels(self) -> list[Path]:
        return sorted(path for key in set(self.images) - set(self.labels) for path in self.images[key])

    @property
    def sound(self) -> bool:
        """As published: every image present, labelled and readable, every label line understood."""
        problems = (self.missing, self.malformed, self.unknown, self.unreadable, self.images_without_labels)
        return not any(problems) and self.files == SUBSETS[self.name]


def image_key(subset: str, filename: str) -> str:
    """The label line an image belongs to: its file name in CUHK's subset, else its name's prefix."""
    return filename if subset == "CUHK" else filename.split("_", 1)[0]


def scan(root: Path, workers: int = 8, progress: bool = True) -> list[SubsetScan]:
    """Read every subset's labels and list its images, decoding each (unreadable ones are named)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"PETA folder {root} does not exist")
    if not any((root / name).is_dir() for name in SUBSETS):
        raise FileNotFoundError(
            f"{root} holds none of PETA's subsets ({', '.join(SUBSETS)}): pass the folder that holds them, "
            "`PETA dataset/` in the download"
        )
    scans = [_scan_subset(root, name) for name in SUBSETS]
    paths = [path for subset in scans for files in subset.images.values() for path in files]
    problems = dict(zip(paths, image_problems(paths, workers, progress), strict=True))
    for subset in scans:
        subset.unreadable = [
            f"{path}: {problems[path]}"
            for files in subset.images.values()
            for path in files
            if problems[path]
        ]
        unreadable = {path for files in subset.images.values() for path in files if problems[path]}
        subset.images = {
            key: kept
            for key, files in subset.images.items()
            if (kept := [p for p in files if p not in unreadable])
        }
    return scans


def _scan_subset(root: Path, name: str) -> SubsetScan:
    subset = SubsetScan(name)
    folder = root / name / ARCHIVE
    labels = folder / LABELS
    if not folder.is_dir():
        subset.missing = f"subset folder {folder} is missing"
        return subset
    if not labels.is_file():
        subset.missing = f"{labels} is missing"
        return subset
    try:
        text = labels.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        subset.missing = f"{labels} is not text: {error}"
        return subset
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if not words:
            continue
        key, names = words[0], words[1:]
        where = f"{labels} line {number}"
        if not names:
            subset.malformed.append(f"{where}: person {key} has no attribute names")
        elif key in first_line:
            subset.malformed.append(
                f"{where}: person {key} is labelled again (first on line {first_line[key]})"
            )
        else:
            first_line[key] = number
            subset.labels[key] = names
            unknown = [word for word in names if word not in KNOWN]
            if unknown:
                subset.unknown.update(unknown)
                subset.unknown_lines.append(f"{where}: {', '.join(unknown)}")
    for path in sorted(folder.iterdir()):
        if path.name != LABELS and not path.name.startswith(".") and path.is_file():
            subset.images.setdefault(image_key(name, path.name), []).append(path)
            subset.files += 1
    return subset


def build_records(
    scans: Sequence[SubsetScan], seed: int = 0, captions_per_image: int = CAPTIONS_PER_IMAGE
) -> list[dict]:
    """CUHK-PEDES records of every labelled, readable image: persons split as the module says, each
    image described `captions_per_image` times from its person's labels, with seed (`seed`, image)."""
    if captions_per_image < 1:
        raise ValueError(f"captions_per_image must be at least 1, got {captions_per_image}")
    records: list[dict] = []
    next_id = 1
    for position, subset in enumerate(scans):
        keys = sorted(set(subset.labels) & set(subset.images))
        splits = _split_persons(subset.name, len(keys), position)
        for key, split in zip(keys, splits, strict=True):
            factors = factors_of(subset.labels[key])
            for path in subset.images[key]:
                rng = np.random.default_rng([seed, len(records)])
                captions = [describe(rng, factors) for _ in range(captions_per_image)]
                records.append(
                    {
                        "split": split,
                        "id": next_id,
                        "outfit": next_id,  # a person is labelled once: all their images share one outfit
                        "subset": subset.name,
                        "file_path": f"{subset.name}/{ARCHIVE}/{path.name}",
                        "captions": [caption.text for caption in captions],
                        "id_captions": [caption.identity for caption in captions],
                        "cloth_captions": [caption.clothing for caption in captions],
                        "factors": factors,
                        "stated": [
                            {"identity": caption.identity_stated, "clothing": caption.clothing_stated}
                            for caption in captions
                        ],
                    }
                )
                next_id += subset.name in UNIDENTIFIED
            next_id += subset.name not in UNIDENTIFIED
    return records


def _split_persons(subset: str, persons: int, position: int) -> list[str]:
    """The split of each of a subset's persons (in key order): a random share of each subset per split."""
    if subset in UNIDENTIFIED:
        return ["unidentified"] * persons
    if subset in HELD_OUT:
        return [HELD_OUT[subset]] * persons
    order = np.random.default_rng([SPLIT_SEED, position]).permutation(persons)
    test, val = round(persons * SPLIT_FRACTIONS["test"]), round(persons * SPLIT_FRACTIONS["val"])
    splits = np.array(["train"] * persons, dtype=object)
    splits[order[:test]] = "test"
    splits[order[test : test + val]] = "val"
    return list(splits)


def write_peta(root: Path, records: Sequence[dict], manifest: dict) -> Path:
    """Write the records and the manifest beside the subsets, each atomically."""
    root = Path(root)
    atomic_write_text(root / ANNOTATIONS, json.dumps(list(records), ensure_ascii=False) + "\n")
    atomic_write_text(root / MANIFEST, json.dumps({"version": VERSION, **manifest}, indent=2) + "\n")
    return root / ANNOTATIONS


def prepare_peta(
    root: Path, seed: int = 0, captions_per_image: int = CAPTIONS_PER_IMAGE, workers: int = 8
) -> tuple[list[SubsetScan], list[dict]]:
    """Scan a download, caption it and write the records: what `disreid prepare --dataset peta` does."""
    scans = scan(root, workers)
    records = build_records(scans, seed, captions_per_image)
    splits = Counter(record["split"] for record in records)
    manifest = {
        "seed": seed,
        "captions_per_image": captions_per_image,
        "images": {subset.name: subset.files for subset in scans},
        "splits": {split: splits[split] for split in sorted(splits)},
        "as_published": all(subset.sound for subset in scans),
    }
    write_peta(root, records, manifest)
    return scans, records


def read_peta(root: Path, split: str | None = None) -> list[ImageRecord]:
    """The records `disreid prepare --dataset peta` wrote into `root`, of one split or all."""
    root = Path(root)
    annotations, manifest = root / ANNOTATIONS, root / MANIFEST
    if not annotations.is_file() or not manifest.is_file():
        raise FileNotFoundError(
            f"{root} holds no captions of PETA: run `disreid prepare --dataset peta --root {root}` first"
        )
    made = json.loads(manifest.read_text(encoding="utf-8"))
    if made.get("version") != VERSION:
        raise ValueError(
            f"{annotations} was written by another version of disreid's PETA captions "
            f"({made.get('version')}, this one writes {VERSION}): run `disreid prepare --dataset peta "
            f"--root {root}` again"
        )
    return read_cuhk_pedes(annotations, root, split)
