"""The faiss structure of an index, chosen by the gallery's size: exact search for small galleries,
inverted lists (IVF) for medium ones, and inverted lists of product-quantised codes (IVF-PQ, with an
OPQ rotation) for large ones, whose exact vectors stay on disk to re-rank the best candidates.

The thresholds and parameters are those measured by benchmarks/search.py on this project's 2-core
machine (benchmarks/README.md, "Gallery scale"); every one can be set by hand, and the one used is
recorded in the index's metadata.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from disreid.io import reading

INDEX_TYPES = ("flat", "ivf", "ivfpq")
EXACT_UP_TO = 100_000  # exact search stays under 10 ms a query up to here (512 dims, one thread)
IVF_UP_TO = 1_000_000  # above, IVF-Flat's 6 kB a crop (three modes of 512 float32) outgrows memory
TRAIN_PER_LIST = 64  # k-means sample per list (faiss asks for 39 at least and uses 256 at most)
MAX_NLIST = 4096  # training more lists outgrows the build time: k-means costs sample x lists x dim
KMEANS_ITERATIONS = 10  # faiss's default is 25; the lists' centroids need not be exact
PQ_PARTS = 128  # 4-bit codes of 4 dimensions each at 512: 64 bytes and an 8-byte id a vector per mode
PQ_CENTROIDS = 16  # of a 4-bit code
RERANK = 1000  # candidates re-ranked with their exact vectors: recall@10 0.909 at 10M, 0.831 with 100
HNSW_BREADTH = 2  # the centroids' graph is searched for HNSW_BREADTH x nprobe candidates
OPQ_ITERATIONS, OPQ_TRAIN = 10, 32_768  # faiss's 50 on 65,536: 149 s a mode at 512 dims; these 25 s


@dataclass(frozen=True)
class IndexSpec:
    """What faiss builds (`factory`, its index_factory string) and how it is searched by default."""

    type: str  # one of INDEX_TYPES
    factory: str
    nlist: int | None = None
    nprobe: int | None = None  # lists visited per query
    rerank: int = 0  # candidates re-ranked with exact vectors kept on disk; 0: none kept
    chosen_by: str = "size"  # or "hand": --index-type or --nlist given

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def train_size(self) -> int:
        """Vectors drawn to train the lists (and the codes): none for exact search."""
        return 0 if self.nlist is None else TRAIN_PER_LIST * self.nlist


def default_nlist(count: int) -> int:
    """About 4 sqrt(n) lists, a power of two, with the 39 vectors a list that faiss asks to train it,
    and at most MAX_NLIST."""
    return max(1, min(2 ** round(math.log2(4 * math.sqrt(count))), count // 39, MAX_NLIST))


def default_nprobe(nlist: int) -> int:
    """Lists visited per query: a quarter of them. With about 4 sqrt(n) lists this kept recall@10 at
    0.95 or more on gallery-like vectors from 10k to 1M (benchmarks/search.py)."""
    return max(1, nlist // 4)


def choose(
    count: int,
    dim: int,
    index_type: str | None = None,
    nlist: int | None = None,
    nprobe: int | None = None,
    rerank: int | None = None,
) -> IndexSpec:
    """The structure for a gallery of `count` vectors of `dim` dimensions: by size unless `index_type`
    (or `nlist`, which asks for inverted lists) says which."""
    if index_type is not None and index_type not in INDEX_TYPES:
        raise ValueError(f"index type must be one of {', '.join(INDEX_TYPES)}, got {index_type!r}")
    for name, value in (("nlist", nlist), ("nprobe", nprobe)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if rerank is not None and rerank < 0:
        raise ValueError(f"rerank must be 0 (none) or more, got {rerank}")
    chosen_by = "size" if index_type is None and nlist is None else "hand"
    if index_type is None:
        index_type = (
            "flat" if count <= EXACT_UP_TO and nlist is None else "ivf" if count <= IVF_UP_TO else "ivfpq"
        )
    if index_type == "flat":
        if nlist is not None or nprobe is not None or rerank:
            raise ValueError("exact search (flat) has no lists to set and nothing to re-rank")
        return IndexSpec("flat", "IDMap2,Flat", chosen_by=chosen_by)
    nlist = nlist or default_nlist(count)
    if count < nlist:
        raise ValueError(
            f"an IVF index of {nlist} lists needs at least {nlist} images, got {count}: "
            "use fewer lists, or exact search for a gallery this small"
        )
    nprobe = min(nprobe or default_nprobe(nlist), nlist)
    if index_type == "ivf":
        if rerank:
            raise ValueError("an IVF-Flat index keeps exact vectors already: nothing to re-rank")
        return IndexSpec("ivf", f"IVF{nlist},Flat", nlist, nprobe, chosen_by=chosen_by)
    if count < PQ_CENTROIDS:
        raise ValueError(
            f"IVF-PQ trains {PQ_CENTROIDS} centroids a part: it needs as many images, not {count}"
        )
    factory = _ivfpq_factory(dim, nlist, min(count, TRAIN_PER_LIST * nlist))
    return IndexSpec("ivfpq", factory, nlist, nprobe, RERANK if rerank is None else rerank, chosen_by)


def _ivfpq_factory(dim: int, nlist: int, train_size: int) -> str:
    """IVF-PQ of PQ_PARTS 4-bit codes (fewer where the dimension asks: the parts must divide it), which
    faiss scans many at a time in SIMD registers ("fast scan": at 10M six times faster than one-byte
    codes of the same size, for 1.2 points less recall, benchmarks/README.md), and the OPQ rotation,
    which spreads the variance evenly over the parts, where the sample trains it (its own one-byte
    codebooks need 39 x 256 points).
    The lists are found through an HNSW graph of their centroids: a gallery of millions is added in
    minutes instead of the hour of comparing each vector with every centroid."""
    parts = math.gcd(dim, PQ_PARTS)
    rotation = f"OPQ{parts}," if train_size >= 39 * 256 else ""
    return f"{rotation}IVF{nlist}_HNSW32,PQ{parts}x4fs"


def create(spec: IndexSpec, dim: int) -> faiss.Index:
    """An empty index, cosine on normalised vectors as inner product, taking ids given by the caller."""
    index = faiss.index_factory(dim, spec.factory, faiss.METRIC_INNER_PRODUCT)
    if spec.nlist is not None:  # vectors are added with faiss's HNSW breadth (16): `read` sets nprobe's
        faiss.extract_index_ivf(index).cp.niter = KMEANS_ITERATIONS
    if isinstance(index, faiss.IndexPreTransform):  # the OPQ rotation
        rotation = faiss.downcast_VectorTransform(index.chain.at(0))
        rotation.niter, rotation.max_train_points = OPQ_ITERATIONS, OPQ_TRAIN
    return index


def set_nprobe(index: faiss.Index, nprobe: int) -> None:
    """Visit `nprobe` lists per query, found in the HNSW graph of the centroids (where there is one)
    with a search as wide as HNSW_BREADTH x nprobe: at faiss's own 16 the graph hands back lists far
    from the best, and recall stopped at 0.70 whatever nprobe (benchmarks/README.md)."""
    ivf = faiss.extract_index_ivf(index)
    ivf.nprobe = nprobe
    quantizer = faiss.downcast_index(ivf.quantizer)
    if isinstance(quantizer, faiss.IndexHNSW):
        quantizer.hnsw.efSearch = HNSW_BREADTH * nprobe


def search_parameters(index: faiss.Index, nprobe: int) -> faiss.SearchParameters:
    """Per-call parameters visiting `nprobe` lists (thread-safe, unlike setting the index's own)."""
    parameters = faiss.SearchParametersIVF(nprobe=nprobe)
    if isinstance(faiss.downcast_index(faiss.extract_index_ivf(index).quantizer), faiss.IndexHNSW):
        parameters.quantizer_params = faiss.SearchParametersHNSW(efSearch=HNSW_BREADTH * nprobe)
    if isinstance(index, faiss.IndexPreTransform):
        return faiss.SearchParametersPreTransform(index_params=parameters)
    return parameters


def read(path: Path, spec: IndexSpec, mmap: bool, name: Path | None = None) -> faiss.Index:
    """An index file; with `mmap` IVF-Flat's inverted lists stay on disk and are paged in as searches
    touch them, so that a file of any size opens at once and takes only the memory its searches use.
    IVF-PQ's lists of fast-scan codes are read into memory (faiss cannot map their blocks): 72 bytes a
    vector at 512 dimensions, while the exact vectors, 1,024 bytes in float16, stay on disk.
    `name`: the file's name in errors, where `path` is a descriptor held open (/dev/fd/N)."""
    if not path.exists():
        raise FileNotFoundError(f"{name or path} is missing: rebuild the index with `disreid index`")
    flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap and spec.nlist is not None else 0
    with reading(name or path):
        index = faiss.read_index(str(path), flags)
    if spec.nprobe is not None:  # faiss does not store it
        set_nprobe(index, spec.nprobe)
        lists = faiss.downcast_InvertedLists(faiss.extract_index_ivf(index).invlists)
        if isinstance(lists, faiss.OnDiskInvertedLists):  # the pages come in as they are read: faiss's
            lists.prefetch_nthread = 0  # 32 threads started to fetch them added 3.5 ms to every search
    return index


def train(index: faiss.Index, sample: np.ndarray) -> None:
    if not index.is_trained:
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
