"""More inverted lists for IVF-PQ, tried outside the library: the index `structure.py` builds with
`nlist` lists (k-means through an HNSW index above 4,096, as flat k-means would take hours), on the
generated vectors of benchmarks/search.py (full mode), re-ranked in memory with the exact vectors.

    python benchmarks/search_lists.py --size 1000000 --nlist 16384 --nprobe 1024 2048 4096

Prints training and adding time and, per nprobe and re-ranking depth, p50 of one query (one thread)
and recall@10 against exact search.
"""

from __future__ import annotations

import argparse
import time

import faiss
import numpy as np

from disreid.retrieval import structure
from search import DIM, GeneratedGallery, K


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--nlist", type=int, default=16_384)
    parser.add_argument("--nprobe", type=int, nargs="+", default=[1024, 2048, 4096])
    args = parser.parse_args()
    gallery = GeneratedGallery(args.size)
    vectors = np.concatenate([chunk.vectors["full"] for chunk in gallery.read()])
    queries = gallery.queries(200, "full").astype(np.float32)
    exact = faiss.IndexFlatIP(DIM)
    exact.add(vectors)
    truth = exact.search(queries, K)[1]
    del exact
    spec = structure.choose(args.size, DIM, "ivfpq", args.nlist)
    index = structure.create(spec, DIM)
    if args.nlist > structure.MAX_NLIST:
        faiss.extract_index_ivf(index).clustering_index = faiss.IndexHNSWFlat(
            DIM, 32, faiss.METRIC_INNER_PRODUCT
        )
    sample = vectors[
        np.random.default_rng(0).choice(args.size, min(args.size, spec.train_size), replace=False)
    ]
    start = time.perf_counter()
    structure.train(index, sample)
    trained = time.perf_counter() - start
    index.add(vectors)
    print(
        f"{spec.factory}: trained in {trained:.0f} s, added in {time.perf_counter() - start - trained:.0f} s"
    )
    faiss.omp_set_num_threads(1)
    for nprobe in args.nprobe:
        parameters = structure.search_parameters(index, nprobe)
        for rerank in (100, 1000):
            times, hits = [], 0
            for query, best in zip(queries, truth, strict=True):
                start = time.perf_counter()
                candidates = index.search(query[None], rerank, params=parameters)[1][0]
                candidates = candidates[candidates >= 0]
                found = candidates[np.argsort(-(vectors[candidates] @ query))[:K]]
                times.append(time.perf_counter() - start)
                hits += len(set(found) & set(best))
            p50, recall = np.median(times) * 1e3, hits / len(queries) / K
            print(f"nprobe {nprobe} rerank {rerank}: p50 {p50:.1f} ms, recall@10 {recall:.3f}")


if __name__ == "__main__":
    main()
