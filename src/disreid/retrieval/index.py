"""GalleryIndex: the full, identity and clothing embeddings of a folder of images, searchable with faiss.

An index folder is self-contained: the faiss files, the image paths (relative to the images root, so
the folder of images can move) and a copy of the model that embedded them, since a query is only
comparable with embeddings of the same model.
"""

from __future__ import annotations

import errno
import json
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import faiss
import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from disreid.data import CLIP_MEAN, CLIP_STD, ImageReadError, build_transforms, load_image
from disreid.data.transforms import Transform
from disreid.io import atomic_directory, current, read_json, reading, writing
from disreid.model import DisReID

MODES = ("full", "identity", "clothing")
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})  # PETA's crops are bmp too
FORMAT_VERSION = 1
META_FILE, PATHS_FILE, MODEL_DIR = "meta.json", "paths.json", "model"


@dataclass(frozen=True)
class Hit:
    """One search result: a path relative to the images root and its cosine similarity."""

    path: str
    score: float


@dataclass(frozen=True)
class UpdateReport:
    added: list[str]
    removed: list[str]
    skipped: dict[str, str]  # path -> why it could not be read


def find_images(root: str | Path) -> tuple[list[str], dict[str, str]]:
    """Sorted paths, relative to `root` and with forward slashes, of every image file under it (links
    followed), and {path: why} of what could not be looked into: unreadable folders, links that lead
    nowhere or in a loop."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"images folder {root} does not exist")
    found: list[str] = []
    skipped: dict[str, str] = {}

    def relative(path: str) -> str:
        return Path(path).relative_to(root).as_posix()

    def unreadable(error: OSError) -> None:
        skipped[relative(error.filename)] = error.strerror or str(error)

    walked = {os.path.realpath(root)}  # real folders already walked: a link back to one would loop
    for folder, subfolders, files in os.walk(root, onerror=unreadable, followlinks=True):
        for name in list(subfolders):
            path = os.path.join(folder, name)
            real = os.path.realpath(path)
            if os.path.islink(path) and real in walked:
                subfolders.remove(name)
                here = os.path.realpath(folder)
                loop = here == real or here.startswith(real + os.sep)
                skipped[relative(path)] = "symlink loop" if loop else f"a second way into {real}"
            walked.add(real)
        for name in files:
            path = os.path.join(folder, name)
            if Path(name).suffix.lower() in IMAGE_EXTENSIONS and os.path.isfile(path):
                found.append(relative(path))
            elif os.path.islink(path) and not os.path.exists(path):
                skipped[relative(path)] = _broken_link(path)
    return sorted(found), skipped


def _broken_link(path: str) -> str:
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "symlink loop"
    return f"dangling link (to {os.readlink(path)})"


def resolve_model(path: str | Path) -> tuple[Path, tuple[float, ...], tuple[float, ...]]:
    """The model folder and normalisation (mean, std) of a `disreid train` run, or of a model folder
    written by `save_pretrained` (normalised like CLIP, the default of training)."""
    path = Path(path)
    if (path / "config.yaml").is_file():
        from disreid.config import load_config
        from disreid.training import trained_model_dir

        data = load_config(path / "config.yaml").data
        return trained_model_dir(path), tuple(data.mean), tuple(data.std)
    if (path / "config.json").is_file():
        return path, CLIP_MEAN, CLIP_STD
    raise FileNotFoundError(f"{path} is neither a run folder of `disreid train` nor a saved model folder")


@dataclass
class GalleryIndex:
    """Embeddings of the images under `root`, one faiss index per search mode, row i being `paths[i]`.

    Build one with `GalleryIndex.build(model, folder)`, keep it current with `update()`, write it with
    `save(dir)` and read it back with `GalleryIndex.load(dir)`.
    """

    model: DisReID
    root: Path
    paths: list[str]
    indexes: dict[str, faiss.Index]
    mean: tuple[float, ...] = CLIP_MEAN
    std: tuple[float, ...] = CLIP_STD
    nlist: int | None = None  # IVF lists; None: exact search
    nprobe: int | None = None  # IVF lists visited per query
    skipped: dict[str, str] = field(default_factory=dict)
    model_source: str | None = None

    def __post_init__(self) -> None:
        self._path_set = frozenset(self.paths)  # for `resolve`, which a server calls per result

    @classmethod
    def build(
        cls,
        model: DisReID,
        root: str | Path,
        *,
        mean: Sequence[float] = CLIP_MEAN,
        std: Sequence[float] = CLIP_STD,
        batch_size: int = 64,
        nlist: int | None = None,
        nprobe: int | None = None,
        progress: bool = True,
        model_source: str | None = None,
    ) -> GalleryIndex:
        """Embed every image under `root`; unreadable files are left out and listed in `skipped`.

        `nlist` builds an inverted-file index (approximate, for galleries of a million images) instead
        of exact search; `nprobe` defaults to `default_nprobe(nlist)`.
        """
        if (nlist is not None and nlist < 1) or (nprobe is not None and nprobe < 1):
            raise ValueError(f"nlist and nprobe must be at least 1, got {nlist} and {nprobe}")
        root = Path(root).resolve()
        paths, unreachable = find_images(root)
        if not paths:
            raise ValueError(f"no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) under {root}")
        kept, vectors, unreadable = embed_images(
            model, root, paths, _transform(model, mean, std), batch_size, progress
        )
        skipped = {**unreachable, **unreadable}
        if not kept:
            raise ValueError(f"none of the {len(paths)} images under {root} could be read")
        if nlist is not None and nprobe is None:
            nprobe = default_nprobe(nlist)
        index = cls(model, root, [], {}, tuple(mean), tuple(std), nlist, nprobe, skipped, model_source)
        index._store(kept, vectors)
        return index

    def update(self, batch_size: int = 64, progress: bool = True) -> UpdateReport:
        """Embed the images added under `root` since the index was built and drop those deleted since.

        Files are matched by relative path: a file changed in place keeps its old embedding. Files that
        were skipped before are tried again.
        """
        present, unreachable = find_images(self.root)
        on_disk, known = set(present), set(self.paths)
        keep = [row for row, path in enumerate(self.paths) if path in on_disk]
        removed = [path for path in self.paths if path not in on_disk]
        new = [path for path in present if path not in known]
        transform = _transform(self.model, self.mean, self.std)
        added, vectors, unreadable = embed_images(self.model, self.root, new, transform, batch_size, progress)
        if not keep and not added:
            raise ValueError(f"no readable images left under {self.root}")
        old = self.vectors()
        paths = [self.paths[row] for row in keep] + added
        self._store(paths, {mode: np.concatenate([old[mode][keep], vectors[mode]]) for mode in MODES})
        self.skipped = {**unreachable, **unreadable}
        return UpdateReport(added, removed, self.skipped)

    def search(self, query: np.ndarray | torch.Tensor, mode: str = "full", k: int = 10) -> list[Hit]:
        """The `k` images closest to a normalised query embedding `[E]`, best first."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if isinstance(query, torch.Tensor):
            query = query.detach().float().cpu().numpy()
        k = min(k, len(self.paths))  # faiss allocates k rows whatever the index holds
        scores, rows = self.indexes[mode].search(np.asarray(query, dtype=np.float32).reshape(1, -1), k)
        return [
            Hit(self.paths[row], float(score))
            for score, row in zip(scores[0], rows[0], strict=True)
            if row >= 0
        ]

    def resolve(self, path: str) -> Path:
        """The file of an indexed image; anything else (another file, `..`, a link leading out of the
        images root) is refused, so that a server built on this never hands out other files."""
        if path not in self._path_set:
            raise PermissionError(f"{path!r} is not an image of this index")
        file = (self.root / path).resolve()
        if not file.is_relative_to(self.root.resolve()):
            raise PermissionError(f"{path!r} leads outside the images folder {self.root}")
        return file

    def vectors(self) -> dict[str, np.ndarray]:
        """The stored embeddings `[N, E]` of each mode, read back out of faiss."""
        stored = {}
        for mode, index in self.indexes.items():
            if self.nlist is not None:
                faiss.extract_index_ivf(index).make_direct_map()
            stored[mode] = index.reconstruct_n(0, index.ntotal)
        return stored

    def _store(self, paths: list[str], vectors: dict[str, np.ndarray]) -> None:
        """Replace the contents with `paths` and their embeddings, row for row."""
        if self.nlist is not None and len(paths) < self.nlist:
            raise ValueError(
                f"an IVF index of {self.nlist} lists needs at least {self.nlist} images, got {len(paths)}: "
                "use fewer lists, or exact search for a gallery this small"
            )
        self.indexes = {mode: self._faiss_index(vectors[mode]) for mode in MODES}
        self.paths, self._path_set = paths, frozenset(paths)

    def _faiss_index(self, vectors: np.ndarray) -> faiss.Index:
        """Exact inner product (cosine on normalised vectors) or its inverted-file approximation."""
        description = "Flat" if self.nlist is None else f"IVF{self.nlist},Flat"
        index = faiss.index_factory(vectors.shape[1], description, faiss.METRIC_INNER_PRODUCT)
        if self.nlist is not None:
            index.train(vectors)
            faiss.extract_index_ivf(index).nprobe = self.nprobe
        index.add(vectors)
        return index

    # ------------------------------------------------------------------------------------ save/load
    def save(self, directory: str | Path) -> None:
        """Write the index atomically: until it is complete, the index already at `directory` stays."""
        with writing(directory), atomic_directory(directory) as staging:
            for mode, index in self.indexes.items():
                faiss.write_index(index, str(staging / f"{mode}.faiss"))
            (staging / PATHS_FILE).write_text(json.dumps(self.paths, indent=0) + "\n")
            (staging / META_FILE).write_text(json.dumps(self._meta(), indent=2) + "\n")
            self.model.save_pretrained(staging / MODEL_DIR)

    def _meta(self) -> dict:
        return {
            "format": FORMAT_VERSION,
            "images_root": str(self.root),
            "count": len(self.paths),
            "embed_dim": self.indexes["full"].d,
            "index": {
                "type": "flat" if self.nlist is None else "ivf",
                "nlist": self.nlist,
                "nprobe": self.nprobe,
            },
            "image_size": list(self.model.config.image_size),
            "mean": list(self.mean),
            "std": list(self.std),
            "model_source": self.model_source,
            "skipped": self.skipped,
            "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    @classmethod
    def load(cls, directory: str | Path) -> GalleryIndex:
        """Read an index written by `save` (or the copy an interrupted save left aside), with its model."""
        directory = current(directory)
        if not (directory / META_FILE).is_file():
            raise FileNotFoundError(
                f"{directory} is not a disreid index (no {META_FILE}); make one with `disreid index`"
            )
        meta = read_json(directory / META_FILE)
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(
                f"{directory}: index format {meta.get('format')} is not {FORMAT_VERSION}; rebuild it"
            )
        paths = read_json(directory / PATHS_FILE)
        indexes = {mode: _read_faiss(directory / f"{mode}.faiss") for mode in MODES}
        if any(index.ntotal != len(paths) for index in indexes.values()):
            raise ValueError(
                f"{directory}: the faiss files and {PATHS_FILE} disagree on the number of images"
            )
        settings = meta["index"]
        if settings["nprobe"] is not None:  # faiss does not store it
            for index in indexes.values():
                faiss.extract_index_ivf(index).nprobe = settings["nprobe"]
        return cls(
            DisReID.from_pretrained(directory / MODEL_DIR),
            Path(meta["images_root"]),
            paths,
            indexes,
            tuple(meta["mean"]),
            tuple(meta["std"]),
            settings["nlist"],
            settings["nprobe"],
            meta["skipped"],
            meta["model_source"],
        )
        return index


def _read_faiss(path: Path) -> faiss.Index:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: rebuild the index with `disreid index`")
    with reading(path):
        return faiss.read_index(str(path))


def default_nprobe(nlist: int) -> int:
    """Lists visited per query: a quarter of them. With about 4 sqrt(n) lists this kept recall@10 at
    0.95 or more on gallery-like vectors from 10k to 1M (0.96 in 16 ms a query at 1M, where exact
    search takes 40 ms; benchmarks/search.py). Fewer lists lose recall faster."""
    return max(1, nlist // 4)


def embed_images(
    model: DisReID, root: Path, paths: Sequence[str], transform: Transform, batch_size: int, progress: bool
) -> tuple[list[str], dict[str, np.ndarray], dict[str, str]]:
    """(paths read, embeddings `[N, E]` per mode, {path: why} of the files that could not be read).

    Images are decoded by a thread pool (PIL releases the GIL) while the model embeds batch by batch.
    """
    read: list[str] = []
    skipped: dict[str, str] = {}
    chunks: dict[str, list[np.ndarray]] = {mode: [] for mode in MODES}
    load = partial(_load, root=root, transform=transform)
    with (
        ThreadPoolExecutor() as pool,
        tqdm(total=len(paths), unit="img", desc="embedding", disable=not progress) as bar,
    ):
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


def _transform(model: DisReID, mean: Sequence[float], std: Sequence[float]) -> Transform:
    return build_transforms(model.config.image_size, train=False, mean=mean, std=std)
