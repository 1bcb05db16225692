"""Embedding a folder of images: in one pass for a few (`embed_images`), or as a resumable job of
chunk files spread over the processes of `torchrun` for a gallery of millions (`EmbeddingJob`).

A job lives in a work folder beside the index. It holds the list of images (fixed when the job
starts, so that every process and every resumed run agrees on it) and one file of embeddings per
chunk of that list, written atomically: a build killed at any moment and run again embeds only the
chunks not yet written. Process `r` of `N` embeds chunks r, r+N, r+2N, ...
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from disreid.data import ImageReadError, load_image
from disreid.data.transforms import Transform
from disreid.io import read_json, reading
from disreid.model import DisReID
from disreid.training.distributed import barrier, main_rank_first, rank, world_size

MODES = ("full", "identity", "clothing")
CHUNK_SIZE = 8192  # images per chunk file: 25 MB of float16 at 512 dimensions, a few minutes of work
JOB_FILE = "job.json"


def embed_images(
    model: DisReID,
    root: Path,
    paths: Sequence[str],
    transform: Transform,
    batch_size: int,
    progress: bool | tqdm,
) -> tuple[list[str], dict[str, np.ndarray], dict[str, str]]:
    """(paths read, embeddings `[N, E]` per mode, {path: why} of the files that could not be read).

    Images are decoded by a thread pool (PIL releases the GIL) while the model embeds batch by batch.
    `progress`: a bar of its own, none, or a bar of the caller's to advance.
    """
    read: list[str] = []
    skipped: dict[str, str] = {}
    chunks: dict[str, list[np.ndarray]] = {mode: [] for mode in MODES}
    load = partial(_load, root=root, transform=transform)
    own = not isinstance(progress, tqdm)
    bar = tqdm(total=len(paths), unit="img", desc="embedding", disable=not progress) if own else progress
    with ThreadPoolExecutor() as pool:
        for start in range(0, len(paths), batch_size):
            batch = paths[start : start + batch_size]
            pixels = []
            for path, loaded in zip(batch, pool.map(load, batch), strict=True):
                if isinstance(loaded, str):
                    skipped[path] = loaded
                else:
                    read.append(path)
                    pixels.append(loaded)
            if pixels:
                with torch.inference_mode():
                    embeddings = model.encode_image(torch.stack(pixels))
                for mode in MODES:
                    chunks[mode].append(getattr(embeddings, mode).float().cpu().numpy())
            bar.update(len(batch))
    if own:
        bar.close()
    dim = model.config.embed_dim
    vectors = {
        mode: np.concatenate(parts) if parts else np.empty((0, dim), np.float32)
        for mode, parts in chunks.items()
    }
    return read, vectors, skipped


def _load(path: str, root: Path, transform: Transform) -> torch.Tensor | str:
    """The pixels of an image, or why it cannot be read (PIL raises more than OSError on bad files)."""
    try:
        return transform(load_image(root / path))
    except (ImageReadError, Image.DecompressionBombError, SyntaxError, ValueError) as error:
        return str(error) or type(error).__name__


def fingerprint(model: DisReID) -> str:
    """A digest of the model's weights: a job is resumed only with the model that began it."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Chunk:
    """The embedded part of one chunk: `rows` index the job's paths; float16 vectors per mode."""

    rows: np.ndarray
    vectors: dict[str, np.ndarray]
    skipped: dict[str, str]


class EmbeddingJob:
    """The chunk files of one build (see the module's docstring). Start or resume one with `open`."""

    def __init__(self, folder: Path, paths: list[str], unreachable: dict[str, str], chunk_size: int) -> None:
        self.folder, self.paths, self.unreachable, self.chunk_size = folder, paths, unreachable, chunk_size

    @classmethod
    def open(
        cls,
        folder: Path,
        key: dict,
        find_images: Callable[[], tuple[list[str], dict[str, str]]],
        chunk_size: int = CHUNK_SIZE,
    ) -> EmbeddingJob:
        """The job in `folder` if it was begun with the same `key` (images root, model, normalisation),
        else a new one over the images `find_images()` gives (paths, {unreachable: why}). The first
        process decides; the others read its decision."""
        with main_rank_first():
            file = folder / JOB_FILE
            job = read_json(file) if file.is_file() else None
            if rank() == 0 and (job is None or job["key"] != key or job["chunk_size"] != chunk_size):
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir(parents=True)
                paths, unreachable = find_images()
                job = {"key": key, "chunk_size": chunk_size, "paths": paths, "unreachable": unreachable}
                _write_atomically(file, lambda handle: handle.write(json.dumps(job).encode()))
        return cls(folder, job["paths"], job["unreachable"], chunk_size)

    @property
    def chunks(self) -> range:
        return range(math.ceil(len(self.paths) / self.chunk_size))

    def file(self, chunk: int) -> Path:
        return self.folder / f"chunk-{chunk:06d}.npz"

    def missing(self) -> list[int]:
        return [chunk for chunk in self.chunks if not self.file(chunk).is_file()]

    def run(self, model: DisReID, root: Path, transform: Transform, batch_size: int, progress: bool) -> None:
        """Embed this process's chunks that are not on disk yet, then wait for the other processes."""
        mine = [chunk for chunk in self.missing() if chunk % world_size() == rank()]
        done = len(self.paths) - sum(len(self._slice(chunk)) for chunk in self.missing())
        share = done + sum(len(self._slice(chunk)) for chunk in mine)  # what this process sees done
        show = progress and rank() == 0
        with tqdm(total=share, initial=done, unit="img", desc="embedding", disable=not show) as bar:
            for chunk in mine:
                paths = self._slice(chunk)
                read, vectors, skipped = embed_images(model, root, paths, transform, batch_size, bar)
                row = {path: chunk * self.chunk_size + i for i, path in enumerate(paths)}
                rows = np.array([row[path] for path in read], dtype=np.int64)
                arrays = {mode: vectors[mode].astype(np.float16) for mode in MODES}
                arrays["skipped"] = np.array(json.dumps(skipped))
                _write_atomically(self.file(chunk), partial(np.savez, rows=rows, **arrays))
        barrier()

    def counts(self) -> np.ndarray:
        """The number of images read in each chunk."""
        return np.array([len(self._load(chunk, "rows")[0]) for chunk in self.chunks], dtype=np.int64)

    def read(self) -> Iterator[Chunk]:
        """Every chunk, in order."""
        for chunk in self.chunks:
            rows, skipped, *vectors = self._load(chunk, "rows", "skipped", *MODES)
            yield Chunk(rows, dict(zip(MODES, vectors, strict=True)), json.loads(str(skipped)))

    def _load(self, chunk: int, *names: str) -> list[np.ndarray]:
        file = self.file(chunk)
        if not file.is_file():
            raise FileNotFoundError(f"{file} is missing: run the build again to embed it")
        with reading(file), np.load(file) as data:
            return [data[name] for name in names]

    def _slice(self, chunk: int) -> list[str]:
        return self.paths[chunk * self.chunk_size : (chunk + 1) * self.chunk_size]


def _write_atomically(file: Path, write) -> None:
    temporary = file.with_name(file.name + ".tmp")
    with temporary.open("wb") as handle:
        write(handle)
    os.replace(temporary, file)
