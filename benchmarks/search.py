"""Gallery scale: what each index structure costs and gives from a million to ten million crops, on
this machine, through the library's own build (`write_index`) and search (`GalleryIndex`).

    python benchmarks/search.py [--sizes 1000000 3000000 10000000] [--types flat ivf ivfpq]
    python benchmarks/search.py --real-images GALLERY --model RUN --sizes 100000

For every size and index type: build time from the vectors (three modes, training included, the
vectors' own generation excluded), bytes per crop on disk for the three modes (faiss files and path
table; the exact vectors kept to re-rank are reported apart), the time `GalleryIndex.load` takes to
open it, the resident memory of a fresh process that opened it and ran every search, and for each
nprobe and re-ranking depth: p50 and p99 latency of one query (one thread, as a server gives each
user), of a batch of 64 queries, and recall@10 against exact search.

Generated vectors are gallery-shaped at CLIP's 512 dimensions: ten images per person at a cosine of
about 0.8 to each other, queries drawn around a person like a caption of them (about 0.7), variance
of the i-th direction falling as 1/i (an effective dimension of about 28). Each mode draws its own.
With `--real-images`, the vectors are the model's embeddings of the images under GALLERY.
Prints a table and writes benchmarks/results/search.json (or search_real.json). Resumable: a size
and type already measured in --work is not measured again.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _timing import save  # noqa: E402
from disreid.model import DisReIDConfig, build_model  # noqa: E402
from disreid.retrieval import MODES, GalleryIndex, query_text  # noqa: E402
from disreid.retrieval.embedding import Chunk  # noqa: E402
from disreid.retrieval.index import write_index  # noqa: E402

DIM, K, IMAGES_PER_PERSON, CHUNK = 512, 10, 10, 100_000
SPECTRUM = np.arange(1, DIM + 1, dtype=np.float32) ** -0.5  # scale of each direction
IMAGE_NOISE, QUERY_NOISE = 0.5, 0.8  # spread of a person's images and of queries about them
BATCH = 64
TARGET = {"p50_ms": 20.0, "recall_at_10": 0.9, "resident_gib": 4.0, "build_min": 30.0, "open_s": 5.0}


def normalised(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class Names:
    """The path of every generated crop, made when asked for: ten million strings need not be held."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, row: int) -> str:
        return f"{row:09d}.jpg"


class GeneratedGallery:
    """`count` gallery-shaped vectors per mode, drawn chunk by chunk (the same on every pass), with the
    interface `write_index` reads (an EmbeddingJob's `paths`, `unreachable`, `counts()`, `read()`)."""

    def __init__(self, count: int, seed: int = 0) -> None:
        self.count, self.seed = count, seed
        self.paths, self.unreachable = Names(count), {}
        self.seconds = 0.0  # spent drawing vectors, to leave out of build times

    def counts(self) -> np.ndarray:
        sizes = [min(CHUNK, self.count - start) for start in range(0, self.count, CHUNK)]
        return np.array(sizes, dtype=np.int64)

    def _persons(self, mode: int, chunk: int) -> tuple[np.random.Generator, np.ndarray]:
        rng = np.random.default_rng((self.seed, mode, chunk))
        size = int(self.counts()[chunk])
        return rng, rng.standard_normal((size // IMAGES_PER_PERSON, DIM), dtype=np.float32)

    def read(self) -> Iterator[Chunk]:
        for chunk, size in enumerate(self.counts()):
            start = time.perf_counter()
            vectors = {}
            for mode_number, mode in enumerate(MODES):
                rng, persons = self._persons(mode_number, chunk)
                images = np.repeat(persons, IMAGES_PER_PERSON, axis=0)
                images += IMAGE_NOISE * rng.standard_normal(images.shape, dtype=np.float32)
                vectors[mode] = normalised(images * SPECTRUM)
            rows = np.arange(chunk * CHUNK, chunk * CHUNK + size)
            self.seconds += time.perf_counter() - start
            yield Chunk(rows, vectors, {})

    def queries(self, count: int, mode: str) -> np.ndarray:
        """Queries about persons drawn from every chunk."""
        rng = np.random.default_rng((self.seed, 99))
        chunks = rng.integers(0, len(self.counts()), count)
        asked = np.stack([self._persons(MODES.index(mode), c)[1][rng.integers(0, 100)] for c in chunks])
        return normalised(
            (asked + QUERY_NOISE * rng.standard_normal(asked.shape, dtype=np.float32)) * SPECTRUM
        )


class EmbeddedGallery:
    """The embeddings of a real gallery, read out of an exact index made by `disreid index`, with the
    same interface; queries are the index model's embeddings of captions of the gallery's persons."""

    def __init__(self, index: GalleryIndex, annotations: Path) -> None:
        self.vectors = {mode: index.vectors(mode) for mode in MODES}
        self.count = len(index.paths)
        self.paths, self.unreachable, self.seconds = Names(self.count), {}, 0.0
        self.model, self.annotations = index.model, annotations

    def counts(self) -> np.ndarray:
        return np.array([min(CHUNK, self.count - start) for start in range(0, self.count, CHUNK)])

    def read(self) -> Iterator[Chunk]:
        for start in range(0, self.count, CHUNK):
            end = min(self.count, start + CHUNK)
            yield Chunk(np.arange(start, end), {mode: v[start:end] for mode, v in self.vectors.items()}, {})

    def queries(self, count: int, mode: str) -> np.ndarray:
        records = json.loads(self.annotations.read_text())
        rng = np.random.default_rng(0)
        captions = [records[i]["captions"][0] for i in rng.choice(len(records), count, replace=False)]
        with torch.inference_mode():
            return self.model.encode_text([query_text(caption, mode) for caption in captions]).numpy()


def exact_top(source, queries: np.ndarray, mode: str) -> np.ndarray:  # noqa: ANN001
    """The ids of the K best vectors of `mode` for every query, by a pass over all of them."""
    best_scores = np.full((len(queries), K), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), K), dtype=np.int64)
    for chunk in source.read():
        scores = queries @ chunk.vectors[mode].T
        top = np.argpartition(-scores, K, axis=1)[:, :K]
        scores = np.concatenate([best_scores, np.take_along_axis(scores, top, 1)], axis=1)
        ids = np.concatenate([best_ids, chunk.rows[top]], axis=1)
        keep = np.argsort(-scores, axis=1)[:, :K]
        best_scores, best_ids = np.take_along_axis(scores, keep, 1), np.take_along_axis(ids, keep, 1)
    return best_ids


def placeholder_model(dim: int):  # noqa: ANN201
    """The smallest model embedding into `dim`: an index folder holds one, and `load` reads it."""
    config = DisReIDConfig(backbone="tiny", image_size=(32, 16), embed_dim=dim, num_heads=4, num_classes=0)
    return build_model(config, ["a person"])


def settings_for(spec: dict) -> list[dict]:
    """The search settings measured: nprobe from 1/64 to 1/4 of the lists, re-ranking 0, 100, 1000."""
    if spec["nlist"] is None:
        return [{}]
    nprobes = sorted({max(1, spec["nlist"] // d) for d in (64, 32, 16, 8, 4)})
    reranks = (0, 100, 1000) if spec["rerank"] else (None,)
    return [{"nprobe": n, "rerank": r} for n in nprobes for r in reranks]


def serve(folder: Path, queries_file: Path) -> None:
    """In a fresh process: open the index, run every setting, print one JSON line of measurements."""
    import faiss

    from disreid.retrieval import structure

    faiss.omp_set_num_threads(1)
    start = time.perf_counter()
    index = GalleryIndex.load(folder)
    opened = time.perf_counter() - start
    memory = {"after_open": _memory()}
    queries = np.load(queries_file)
    start = time.perf_counter()
    index.search(queries[0], k=K)  # the first search of a mode reads its faiss file
    first_search = time.perf_counter() - start
    runs = []
    for setting in settings_for(index.spec.to_dict()):
        index.search(queries[0], k=K, **setting)  # warm up
        times, found = [], []
        for query in queries:
            start = time.perf_counter()
            hits = index.search(query, k=K, **setting)
            times.append((time.perf_counter() - start) * 1000)
            found.append([int(Path(hit.path).stem) for hit in hits])
        faiss_index = index.indexes["full"]
        parameters = {}
        if setting.get("nprobe"):
            parameters["params"] = structure.search_parameters(faiss_index, setting["nprobe"])
        batches = []
        for first in range(0, len(queries) - BATCH + 1, BATCH):
            start = time.perf_counter()
            faiss_index.search(
                queries[first : first + BATCH], max(K, setting.get("rerank") or 0), **parameters
            )
            batches.append((time.perf_counter() - start) * 1000)
        p50, p99 = np.percentile(times, [50, 99])
        runs.append(
            {**setting, "p50_ms": p50, "p99_ms": p99, "batch64_ms": float(np.median(batches)), "found": found}
        )
    memory["after_search"] = _memory()
    print(json.dumps({"open_s": opened, "first_search_s": first_search, "memory": memory, "runs": runs}))


def _memory() -> dict[str, float]:
    """Resident memory of this process in GiB: all, anonymous (the heap) and file pages (mapped)."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {key: int(status[key].split()[0]) / 2**20 for key in ("VmRSS", "RssAnon", "RssFile", "VmHWM")}


def measure(source, dim: int, size: int, index_type: str, work: Path, queries: int) -> list[dict]:  # noqa: ANN001
    """Build `index_type` over `source`, then search it from a fresh process: a row per setting."""
    folder = work / f"{index_type}-{size}"
    done = folder.with_suffix(".json")
    if done.is_file():
        return json.loads(done.read_text())
    source.seconds = 0.0
    start = time.perf_counter()
    settings = (index_type, None, None, None)
    model, generated = placeholder_model(dim), Path("/generated")
    write_index(folder, source, model, generated, (0.5,) * 3, (0.5,) * 3, settings, None, True)
    build_s = time.perf_counter() - start - source.seconds
    spec = json.loads((folder / "meta.json").read_text())["index"]
    files = {file.name: file.stat().st_size for file in folder.iterdir() if file.is_file()}
    kept = sum(bytes for name, bytes in files.items() if name.endswith(".vectors"))
    stored = sum(files[f"{mode}.faiss"] for mode in MODES) + files["paths.sqlite"]
    asked = source.queries(queries, "full")
    np.save(work / "queries.npy", asked)
    truth = exact_top(source, asked, "full")
    command = [sys.executable, __file__, "--serve", str(folder), "--queries-file", str(work / "queries.npy")]
    served = json.loads(
        subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1]
    )
    rows = []
    for run in served["runs"]:
        found = run.pop("found")
        recall = float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)]))
        rows.append(
            {
                "vectors": size,
                "index": index_type,
                "factory": spec["factory"],
                **run,
                "recall_at_10": recall,
                "build_min": build_s / 60,
                "bytes_per_crop": stored / size,
                "rerank_bytes_per_crop": kept / size,
                "open_s": served["open_s"],
                "first_search_s": served["first_search_s"],
                "resident_gib": served["memory"]["after_search"]["VmHWM"],
                "memory": served["memory"],
            }
        )
    done.write_text(json.dumps(rows))
    return rows


COLUMNS = (
    "vectors",
    "index",
    "nprobe",
    "rerank",
    "p50_ms",
    "p99_ms",
    "batch64_ms",
    "recall_at_10",
    "build_min",
    "bytes_per_crop",
    "rerank_bytes_per_crop",
    "open_s",
    "resident_gib",
)


def cell(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "-" if value is None else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000], help="vectors"
    )
    parser.add_argument("--types", nargs="+", default=["flat", "ivf", "ivfpq"])
    parser.add_argument(
        "--max-in-memory",
        type=int,
        default=1_000_000,
        help="largest size for flat and ivf, which hold every float32 vector while built",
    )
    parser.add_argument("--queries", type=int, default=200, help="queries timed per setting")
    parser.add_argument(
        "--work", type=Path, default=Path("runs/search-bench"), help="indexes and partial results"
    )
    parser.add_argument("--real-index", type=Path, help="an exact index of a real gallery (`disreid index`)")
    parser.add_argument("--annotations", type=Path, help="with --real-index: captions of its persons")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--queries-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.queries_file)

    args.work.mkdir(parents=True, exist_ok=True)
    if args.real_index:
        real = EmbeddedGallery(GalleryIndex.load(args.real_index), args.annotations)
        galleries = [(real, real.count, real.vectors["full"].shape[1])]
    else:
        galleries = ((GeneratedGallery(size), size, DIM) for size in args.sizes)
    rows = []
    for source, size, dim in galleries:
        for index_type in args.types:
            if index_type != "ivfpq" and size > args.max_in_memory:
                continue
            rows += measure(source, dim, size, index_type, args.work, args.queries)
            print(" ".join(f"{name:>12}" for name in COLUMNS))
            for row in rows:
                print(" ".join(f"{cell(row.get(name)):>12}" for name in COLUMNS), flush=True)
    name = "search_real" if args.real_index else "search"
    print(f"wrote {save(name, {'dim': DIM, 'k': K, 'batch': BATCH, 'target': TARGET, 'rows': rows})}")
    print(f"wrote {plot(rows, name)}")


def plot(rows: list[dict], name: str) -> Path:
    """Recall@10 against p50 latency, a curve (over nprobe) per size, index and re-ranking depth."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axes = figure.add_subplot()
    curves: dict[str, list[dict]] = {}
    for row in rows:
        rerank = f", re-rank {row['rerank']}" if row.get("rerank") is not None else ""
        curves.setdefault(f"{row['vectors']:,} {row['index']}{rerank}", []).append(row)
    for label, points in curves.items():
        points = sorted(points, key=lambda row: row.get("nprobe") or 0)
        style = "o" if len(points) == 1 else ".-"
        axes.plot([r["p50_ms"] for r in points], [r["recall_at_10"] for r in points], style, label=label)
    axes.axvline(TARGET["p50_ms"], color="grey", linestyle=":")
    axes.axhline(TARGET["recall_at_10"], color="grey", linestyle=":")
    axes.set(xscale="log", xlabel="p50 of one query, ms (one thread)", ylabel="recall@10 against exact")
    axes.legend(fontsize=6, ncol=2)
    path = Path(__file__).parent / "results" / f"{name}.png"
    figure.savefig(path, dpi=120)
    return path


if __name__ == "__main__":
    main()
