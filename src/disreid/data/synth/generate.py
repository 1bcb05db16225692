"""Writing a SynthPedes data set: the images, `annotations.json` and `synthpedes.json`.

The same seed gives the same bytes whatever the number of workers: the population comes from one
stream of the master seed and each image from its own stream, keyed by its index.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from disreid.data.synth.captions import Caption, describe
from disreid.data.synth.factors import Factors
from disreid.data.synth.population import SPLITS, Person, sample_population
from disreid.data.synth.scene import SUPERSAMPLE, render, sample_scene
from disreid.io import atomic_directory

VERSION = 10  # bump whenever the same seed would give different files
ANNOTATIONS = "annotations.json"
MANIFEST = "synthpedes.json"
CAPTIONS_PER_IMAGE = 2
PNG_COMPRESSION = 1  # fixed so files are byte-identical; level 6 is 10% smaller and twice as slow
POPULATION_STREAM, IMAGE_STREAM = 0, 1


@dataclass(frozen=True)
class SynthSummary:
    out_dir: Path
    images: int
    persons: dict[str, int]  # per split
    outfits: int
    shared_outfits: int  # outfits worn by two persons
    seconds: float


@dataclass(frozen=True)
class _Job:
    """Everything a worker needs to draw, save and describe one image."""

    index: int
    seed: int
    root: Path
    file_path: str
    person: Person
    outfit: int
    clothing: Factors
    height: int
    width: int


def generate_synthpedes(
    out_dir: str | Path,
    persons: int = 200,
    outfits: int = 3,
    images_per_outfit: int = 4,
    height: int = 128,
    width: int = 64,
    seed: int = 0,
    workers: int | None = None,
    shared_outfits: float = 0.2,
    lookalikes: float = 0.25,
    split_fractions: tuple[float, float, float] = (0.6, 0.1, 0.3),
    progress: bool = True,
) -> SynthSummary:
    """Draw `persons` x `outfits` x `images_per_outfit` images into `out_dir`, replacing a set already there.

    `workers` defaults to every core the process may use; 1 draws in this process.
    """
    if images_per_outfit < 1 or height < 8 or width < 4:
        raise ValueError("need at least one image per outfit and an image of at least 8 x 4 pixels")
    out_dir = Path(out_dir)
    _refuse_foreign(out_dir)
    start = time.perf_counter()
    population = sample_population(
        np.random.default_rng([seed, POPULATION_STREAM]),
        persons,
        outfits,
        shared_outfits,
        lookalikes,
        split_fractions,
    )
    manifest = {
        "generator": "disreid.data.synth",
        "version": VERSION,
        "seed": seed,
        "persons": persons,
        "outfits": outfits,
        "images_per_outfit": images_per_outfit,
        "height": height,
        "width": width,
        "shared_outfits": shared_outfits,
        "lookalikes": lookalikes,
        "split_fractions": list(split_fractions),
        "supersample": SUPERSAMPLE,
    }
    with atomic_directory(out_dir) as staging:
        jobs = []
        for person in population.persons:
            (staging / "imgs" / f"{person.id:05d}").mkdir(parents=True)
            for outfit in person.outfits:
                for shot in range(images_per_outfit):
                    file_path = f"imgs/{person.id:05d}/{outfit:05d}_{shot}.png"
                    clothing = population.outfits[outfit]
                    jobs.append(
                        _Job(len(jobs), seed, staging, file_path, person, outfit, clothing, height, width)
                    )
        records = _run(jobs, workers, progress)
        (staging / ANNOTATIONS).write_text(
            json.dumps(records, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return SynthSummary(
        out_dir=out_dir,
        images=len(records),
        persons={split: sum(person.split == split for person in population.persons) for split in SPLITS},
        outfits=len(population.outfits),
        shared_outfits=population.shared_outfits(),
        seconds=time.perf_counter() - start,
    )


def _refuse_foreign(out_dir: Path) -> None:
    """The set replaces `out_dir` as a whole, so only an empty directory or an earlier set may be there."""
    empty = not out_dir.exists() or (out_dir.is_dir() and not any(out_dir.iterdir()))
    if not empty and not (out_dir / MANIFEST).is_file():
        raise ValueError(f"{out_dir} exists and holds no SynthPedes set; choose an empty or new directory")


def _run(jobs: list[_Job], workers: int | None, progress: bool) -> list[dict]:
    """The records of all jobs, in job order, drawn on `workers` processes."""
    workers = workers or len(os.sched_getaffinity(0))
    chunk = max(1, min(64, len(jobs) // (8 * workers)))
    pool = multiprocessing.Pool(workers) if workers > 1 else nullcontext()
    with tqdm(total=len(jobs), desc="SynthPedes", unit="img", disable=not progress) as bar, pool:
        records = []
        for record in pool.imap(_make, jobs, chunksize=chunk) if workers > 1 else map(_make, jobs):
            records.append(record)
            bar.update()
    return records


def _make(job: _Job) -> dict:
    """Draw, save and describe one image; return its annotation record."""
    rng = np.random.default_rng([job.seed, IMAGE_STREAM, job.index])
    scene = sample_scene(rng)
    identity = job.person.identity
    shot = render(identity, job.clothing, scene, job.height, job.width)
    shot.image.save(job.root / job.file_path, format="PNG", compress_level=PNG_COMPRESSION)
    captions: list[Caption] = []
    while len(captions) < CAPTIONS_PER_IMAGE:
        caption = describe(rng, identity, job.clothing, shot.hidden)
        if caption not in captions:
            captions.append(caption)
    return {
        "split": job.person.split,
        "captions": [caption.text for caption in captions],
        "file_path": job.file_path,
        "id": job.person.id,
        "outfit": job.outfit,
        "id_captions": [caption.identity for caption in captions],
        "cloth_captions": [caption.clothing for caption in captions],
        "stated": [{"identity": c.identity_stated, "clothing": c.clothing_stated} for c in captions],
        "factors": {"identity": identity, "clothing": job.clothing},
        "view": scene.pose.view,
        "hidden": sorted(shot.hidden),
    }
