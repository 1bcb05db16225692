"""GalleryIndex: the full, identity and clothing embeddings of a folder of images, searchable with faiss.

An index folder is self-contained: the faiss files, the image paths (relative to the images root, so
the folder of images can move) and a copy of the model that embedded them, since a query is only
comparable with embeddings of the same model.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import faiss
import numpy as np
import torch
from tqdm import tqdm

from disreid.data import CLIP_MEAN, CLIP_STD, build_transforms
from disreid.data.transforms import Transform
from disreid.io import atomic_directory, current, read_json, writing
from disreid.model import DisReID
from disreid.retrieval import structure
from disreid.retrieval.embedding import CHUNK_SIZE, MODES, EmbeddingJob, embed_images, fingerprint
from disreid.retrieval.paths import PathTable
from disreid.retrieval.structure import IndexSpec
from disreid.training.distributed import rank

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})  # PETA's crops are bmp too
FORMAT_VERSION = 2  # 1: paths.json and positions as ids, before updates in place
META_FILE, PATHS_FILE, MODEL_DIR = "meta.json", "paths.sqlite", "model"


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
    """Embeddings of the images under `root` in the index folder `folder`: one faiss index per search
    mode, whose vector ids are the ids of `paths`.

    Build one with `GalleryIndex.build(model, images, out)`, open it with `GalleryIndex.load(out)` and
    keep it current with `update()`; each writes the folder atomically.
    """

    model: DisReID
    root: Path
    folder: Path
    paths: PathTable
    indexes: ModeIndexes
    spec: IndexSpec
    next_id: int  # the id of the next image added
    mean: tuple[float, ...] = CLIP_MEAN
    std: tuple[float, ...] = CLIP_STD
    skipped: dict[str, str] = field(default_factory=dict)
    model_source: str | None = None

    def __post_init__(self) -> None:
        self._exact = {  # the exact vectors kept to re-rank, read by row (not mapped: they may be huge)
            mode: os.open(current(self.folder) / VECTORS_FILE.format(mode=mode), os.O_RDONLY)
            for mode in MODES
            if self.spec.rerank
        }

    @classmethod
    def build(
        cls,
        model: DisReID,
        root: str | Path,
        out: str | Path,
        *,
        mean: Sequence[float] = CLIP_MEAN,
        std: Sequence[float] = CLIP_STD,
        batch_size: int = 64,
        index_type: str | None = None,
        nlist: int | None = None,
        nprobe: int | None = None,
        rerank: int | None = None,
        chunk_size: int = CHUNK_SIZE,
        progress: bool = True,
        model_source: str | None = None,
    ) -> GalleryIndex | None:
        """Embed every image under `root` into the index folder `out` and open it; unreadable files are
        left out and listed in `skipped`. The structure is chosen by size (`structure.choose`) unless
        `index_type`, `nlist`, `nprobe` or `rerank` say otherwise.

        Under `torchrun` every process embeds its share of the images; the first one writes the index
        and returns it, the others return None. A build that was killed resumes where it stopped.
        """
        root, out = Path(root).resolve(), Path(out)
        # settings that cannot work fail now, not after the embedding (the gallery's size is checked then)
        least = max(nlist or 1, structure.PQ_CENTROIDS)
        structure.choose(least, model.config.embed_dim, index_type, nlist, nprobe, rerank)
        key = {"images": str(root), "model": fingerprint(model), "mean": list(mean), "std": list(std)}
        work = out.with_name(f".{out.name}.embedding")
        job = EmbeddingJob.open(work, key, partial(find_images, root), chunk_size)
        if not job.paths:
            raise ValueError(f"no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) under {root}")
        job.run(model, root, _transform(model, mean, std), batch_size, progress)
        if rank() != 0:
            return None
        if not job.counts().any():
            raise ValueError(f"none of the {len(job.paths)} images under {root} could be read")
        settings = (index_type, nlist, nprobe, rerank)
        write_index(out, job, model, root, mean, std, settings, model_source, progress)
        shutil.rmtree(work)
        return cls.load(out)

    @classmethod
    def load(cls, directory: str | Path, mmap: bool = True) -> GalleryIndex:
        """Open an index written by `build` (or the copy an interrupted save left aside), with its model;
        each mode's faiss index is read when first searched. With `mmap` IVF-Flat's inverted lists stay
        on disk (see `structure.read`)."""
        folder, directory = Path(directory), current(directory)
        if not (directory / META_FILE).is_file():
            raise FileNotFoundError(
                f"{directory} is not a disreid index (no {META_FILE}); make one with `disreid index`"
            )
        meta = read_json(directory / META_FILE)
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(
                f"{directory}: index format {meta.get('format')} is not {FORMAT_VERSION}; rebuild it"
            )
        spec = IndexSpec(**meta["index"])
        paths = PathTable(directory / PATHS_FILE, meta["count"])
        return cls(
            DisReID.from_pretrained(directory / MODEL_DIR),
            Path(meta["images_root"]),
            folder,
            paths,
            ModeIndexes(directory, spec, len(paths), mmap),
            spec,
            meta["next_id"],
            tuple(meta["mean"]),
            tuple(meta["std"]),
            meta["skipped"],
            meta["model_source"],
        )

    def update(self, batch_size: int = 64, progress: bool = True) -> UpdateReport:
        """Embed the images added under `root` since the index was built, drop those deleted since,
        and write the result over the index's folder, without touching the others' vectors.

        Files are matched by relative path: a file changed in place keeps its old embedding. Files that
        were skipped before are tried again. The structure is kept (its lists are not retrained).
        """
        present, unreachable = find_images(self.root)
        on_disk = set(present)
        gone = [(id, path) for id, path in self.paths.items() if path not in on_disk]
        new = [path for path in present if path not in self.paths]
        transform = _transform(self.model, self.mean, self.std)
        added, vectors, unreadable = embed_images(self.model, self.root, new, transform, batch_size, progress)
        count = len(self.paths) - len(gone) + len(added)
        if not count:
            raise ValueError(f"no readable images left under {self.root}")
        ids = np.arange(self.next_id, self.next_id + len(added), dtype=np.int64)
        gone_ids = np.array([id for id, _ in gone], dtype=np.int64)
        skipped = {**unreachable, **unreadable}
        with atomic_directory(self.folder) as staging, writing(self.folder):
            source = current(self.folder)  # where an interrupted save may have left it, put back now
            for mode in MODES:
                index = structure.read(source / f"{mode}.faiss", self.spec, mmap=False)
                index.add_with_ids(vectors[mode], ids)  # first: faiss 1.15 loses what fast-scan
                index.remove_ids(gone_ids)  # lists take in after a removal (tests/test_retrieval.py)
                faiss.write_index(index, str(staging / f"{mode}.faiss"))
                if self.spec.rerank:
                    _append_exact(source, staging, mode, self.next_id, vectors[mode])
            shutil.copyfile(source / PATHS_FILE, staging / PATHS_FILE)
            PathTable.remove(staging / PATHS_FILE, gone_ids)
            PathTable.write(staging / PATHS_FILE, zip(ids.tolist(), added, strict=True))
            shutil.copytree(source / MODEL_DIR, staging / MODEL_DIR, copy_function=os.link)
            next_id = self.next_id + len(added)
            meta = _meta(
                self.root,
                self.spec,
                count,
                next_id,
                self.model,
                self.mean,
                self.std,
                skipped,
                self.model_source,
            )
            (staging / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        self.close()
        vars(self).update(vars(GalleryIndex.load(self.folder)))
        return UpdateReport(added, [path for _, path in gone], skipped)

    def search(
        self,
        query: np.ndarray | torch.Tensor,
        mode: str = "full",
        k: int = 10,
        *,
        nprobe: int | None = None,
        rerank: int | None = None,
    ) -> list[Hit]:
        """The `k` images closest to a normalised query embedding `[E]`, best first. `nprobe` (lists
        visited) and `rerank` (candidates re-ranked with exact vectors) override the index's defaults."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if nprobe is not None and (self.spec.nlist is None or nprobe < 1):
            raise ValueError(f"nprobe needs an IVF index and must be at least 1 ({self.spec.type}, {nprobe})")
        rerank = self.spec.rerank if rerank is None else rerank
        if rerank and not self.spec.rerank:
            raise ValueError(f"this {self.spec.type} index keeps no vectors to re-rank with")
        if isinstance(query, torch.Tensor):
            query = query.detach().float().cpu().numpy()
        query = np.asarray(query, dtype=np.float32).reshape(1, -1)
        index = self.indexes[mode]
        k = min(k, len(self.paths))  # faiss allocates k rows whatever the index holds
        parameters = structure.search_parameters(index, nprobe) if nprobe is not None else None
        scores, ids = index.search(query, min(max(k, rerank), len(self.paths)), params=parameters)
        found = ids[0] >= 0
        scores, ids = scores[0][found], ids[0][found]
        if rerank:
            scores = self._exact_vectors(mode, ids) @ query[0]
            best = np.argsort(-scores, kind="stable")[:k]
            scores, ids = scores[best], ids[best]
        return [Hit(self.paths[id], float(score)) for score, id in zip(scores[:k], ids[:k], strict=True)]

    def resolve(self, path: str) -> Path:
        """The file of an indexed image; anything else (another file, `..`, a link leading out of the
        images root) is refused, so that a server built on this never hands out other files."""
        if path not in self.paths:
            raise PermissionError(f"{path!r} is not an image of this index")
        file = (self.root / path).resolve()
        if not file.is_relative_to(self.root.resolve()):
            raise PermissionError(f"{path!r} leads outside the images folder {self.root}")
        return file

    def vectors(self, mode: str) -> np.ndarray:
        """The stored embeddings `[N, E]` of `mode` in id order: read back out of faiss, or for IVF-PQ
        from the exact vectors it keeps (faiss 1.15 crashes decoding fast-scan codes read from a file)."""
        ids = np.fromiter((id for id, _ in self.paths.items()), np.int64, len(self.paths))
        if self.spec.rerank:
            return self._exact_vectors(mode, ids)
        if self.spec.type == "ivfpq":
            raise ValueError("this IVF-PQ index keeps no exact vectors (built with rerank 0)")
        index = self.indexes[mode]
        if self.spec.nlist is not None:  # ids are not 0..n-1 once images were removed: a hash table
            faiss.extract_index_ivf(index).set_direct_map_type(faiss.DirectMap.Hashtable)
        return index.reconstruct_batch(ids)

    def close(self) -> None:
        self.indexes.close()
        for handle in self._exact.values():
            os.close(handle)
        self._exact = {}
        self.paths.close()

    def _exact_vectors(self, mode: str, ids: np.ndarray) -> np.ndarray:
        """The exact vectors of `ids`, read row by row from the float16 file kept for re-ranking."""
        dim = self.indexes[mode].d
        size = dim * np.dtype(np.float16).itemsize
        rows = b"".join(os.pread(self._exact[mode], size, int(id) * size) for id in ids)
        return np.frombuffer(rows, np.float16).reshape(len(ids), dim).astype(np.float32)


class ModeIndexes(dict):
    """The faiss index of each mode, read when first searched: IVF-PQ's codes are read into memory
    (`structure.read`), so that an index of ten million images opens at once and holds only the modes
    searched. The files are held open from the start, so that a mode read later is the one opened
    even after an update replaced the folder."""

    def __init__(self, folder: Path, spec: IndexSpec, count: int, mmap: bool) -> None:
        super().__init__()
        self.folder, self.spec, self.count, self.mmap = folder, spec, count, mmap
        for mode in MODES:
            if not (folder / f"{mode}.faiss").is_file():
                raise FileNotFoundError(f"{folder / mode}.faiss is missing: rebuild the index")
        self.files = {mode: os.open(folder / f"{mode}.faiss", os.O_RDONLY) for mode in MODES}

    def __missing__(self, mode: str) -> faiss.Index:
        if mode not in MODES:
            raise KeyError(mode)
        held, name = Path(f"/dev/fd/{self.files[mode]}"), self.folder / f"{mode}.faiss"
        index = structure.read(held, self.spec, self.mmap, name)
        if index.ntotal != self.count:
            raise ValueError(f"{self.folder}: {mode}.faiss and {PATHS_FILE} disagree on the number of images")
        self[mode] = index
        return index

    def close(self) -> None:
        for handle in self.files.values():
            os.close(handle)
        self.files = {}


VECTORS_FILE = "{mode}.vectors"  # float16 [ids, E], row = id: the exact vectors kept to re-rank


def write_index(
    out: Path,
    job: EmbeddingJob,
    model: DisReID,
    root: Path,
    mean: Sequence[float],
    std: Sequence[float],
    settings: tuple[str | None, int | None, int | None, int | None],
    model_source: str | None,
    progress: bool,
) -> None:
    """Write the index folder `out` (atomically) from the embeddings of `job`: its faiss index per mode,
    path table and exact vectors kept to re-rank, then the model and the metadata. `job` may be anything
    with an EmbeddingJob's `paths`, `unreachable`, `counts()` and `read()` (benchmarks/search.py gives
    generated vectors). `settings`: (index type, nlist, nprobe, rerank), None where chosen by size."""
    with atomic_directory(out) as staging:
        spec, skipped, count = _write_structure(staging, out, job, model.config.embed_dim, settings, progress)
        with writing(out):
            model.save_pretrained(staging / MODEL_DIR)
        meta = _meta(root, spec, count, count, model, mean, std, skipped, model_source)
        (staging / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")


def _write_structure(
    staging: Path, out: Path, job: EmbeddingJob, dim: int, settings: tuple, progress: bool
) -> tuple[IndexSpec, dict[str, str], int]:
    """Fill `staging` with the faiss index of each mode, the path table and the exact vectors kept to
    re-rank from the chunks of `job`, one chunk in memory at a time. The lists (and codes) are trained
    on a sample first. Returns the structure, the files skipped and the number of images indexed."""
    counts = job.counts()
    count = int(counts.sum())
    spec = structure.choose(count, dim, *settings)
    indexes = {mode: structure.create(spec, dim) for mode in MODES}
    if spec.train_size:
        chosen = np.sort(np.random.default_rng(0).choice(count, min(count, spec.train_size), replace=False))
        sample = {mode: [] for mode in MODES}
        offset = 0
        for chunk in tqdm(job.read(), total=len(counts), desc="sampling", disable=not progress):
            picked = chosen[(chosen >= offset) & (chosen < offset + len(chunk.rows))] - offset
            offset += len(chunk.rows)
            for mode in MODES:
                sample[mode].append(chunk.vectors[mode][picked])
        for mode in tqdm(MODES, desc="training", disable=not progress):
            structure.train(indexes[mode], np.concatenate(sample[mode]))
        del sample
    skipped = dict(job.unreachable)
    next_id = 0
    with writing(out), ExitStack() as files:
        exact = {
            mode: files.enter_context((staging / VECTORS_FILE.format(mode=mode)).open("wb"))
            for mode in MODES
            if spec.rerank
        }
        for chunk in tqdm(job.read(), total=len(counts), desc="indexing", disable=not progress):
            ids = np.arange(next_id, next_id + len(chunk.rows), dtype=np.int64)
            next_id += len(ids)
            for mode in MODES:
                indexes[mode].add_with_ids(chunk.vectors[mode].astype(np.float32), ids)
                if mode in exact:
                    exact[mode].write(chunk.vectors[mode].astype(np.float16).tobytes())
            paths = [job.paths[row] for row in chunk.rows]
            PathTable.write(staging / PATHS_FILE, zip(ids.tolist(), paths, strict=True))
            skipped.update(chunk.skipped)
        for mode, index in indexes.items():
            faiss.write_index(index, str(staging / f"{mode}.faiss"))
    return spec, skipped, count


def _append_exact(source: Path, staging: Path, mode: str, rows: int, vectors: np.ndarray) -> None:
    """The exact vectors of `source` and then `vectors`, in `staging` without copying the old ones: the
    file is linked and appended to, as the old index reads only its first `rows` rows (the rest of the
    file, cut first, is what an interrupted update may have appended)."""
    name = VECTORS_FILE.format(mode=mode)
    os.link(source / name, staging / name)
    with (staging / name).open("r+b") as file:
        file.truncate(rows * vectors.shape[1] * np.dtype(np.float16).itemsize)
        file.seek(0, os.SEEK_END)
        file.write(vectors.astype(np.float16).tobytes())


def _meta(
    root: Path,
    spec: IndexSpec,
    count: int,
    next_id: int,
    model: DisReID,
    mean: Sequence[float],
    std: Sequence[float],
    skipped: dict[str, str],
    model_source: str | None,
) -> dict:
    return {
        "format": FORMAT_VERSION,
        "images_root": str(root),
        "count": count,
        "next_id": next_id,
        "embed_dim": model.config.embed_dim,
        "index": spec.to_dict(),
        "image_size": list(model.config.image_size),
        "mean": list(mean),
        "std": list(std),
        "model_source": model_source,
        "skipped": skipped,
        "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _transform(model: DisReID, mean: Sequence[float], std: Sequence[float]) -> Transform:
    return build_transforms(model.config.image_size, train=False, mean=mean, std=std)
