"""Time and peak memory of `disreid.evaluation.metrics.rank` against a plain full-argsort metric, on
random similarities of the CUHK-PEDES and ICFG-PEDES test-set sizes (target: at least 2x faster).

    python benchmarks/rank.py [--cases cuhk-pedes icfg-pedes] [--chunk-size 1024]

Each (case, implementation) runs in its own process, which measures its peak resident memory (torch's
allocations included) from the moment the similarity matrix exists, and how much of it is the matrix.
Prints a table and writes benchmarks/results/rank.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _timing import memory_kib, reset_peak_memory, save  # noqa: E402
from disreid.evaluation.metrics import rank  # noqa: E402

# Test sets: (queries, gallery images, persons, captions per image, Dirichlet concentration of the
# images per person: CUHK-PEDES has a few images of everyone, ICFG-PEDES from a handful to ~100).
CASES = {
    "cuhk-pedes": (6156, 3074, 1000, 2, 50.0),
    "icfg-pedes": (19848, 19848, 1000, 1, 2.0),
}
KS = (1, 5, 10)
TARGET_SPEEDUP = 2.0


def make_labels(name: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Person ids of the queries and of the gallery: a gallery sorted by person and the captions of its
    images in order, as the data sets come."""
    queries, images, persons, captions_per_image, concentration = CASES[name]
    per_person = 1 + rng.multinomial(images - persons, rng.dirichlet(np.full(persons, concentration)))
    gallery_pids = np.repeat(np.arange(1, persons + 1), per_person)
    captions = np.full(images, captions_per_image)
    captions[rng.choice(images, queries - captions.sum(), replace=False)] += 1
    return np.repeat(gallery_pids, captions), gallery_pids


def make_case(name: str, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Similarities of the case's size: Gaussian noise, three units higher for the query's own person:
    metrics of a middling model."""
    rng = np.random.default_rng(seed)
    query_pids, gallery_pids = make_labels(name, rng)
    similarity = rng.standard_normal((len(query_pids), len(gallery_pids)), dtype=np.float32)
    for pid in np.unique(gallery_pids):
        rows, columns = np.flatnonzero(query_pids == pid), np.flatnonzero(gallery_pids == pid)
        similarity[rows[:, None], columns] += 3.0
    return torch.from_numpy(similarity), torch.from_numpy(query_pids), torch.from_numpy(gallery_pids)


def argsort_rank(similarity, query_pids, gallery_pids, ks=KS, chunk_size=1024) -> dict:
    """IRRA's metric, made stable and chunked: a full stable argsort of every row."""
    first, average_precision, inverse_negative_penalty = [], [], []
    positions = torch.arange(1, similarity.shape[1] + 1, dtype=torch.float64)
    for start in range(0, len(query_pids), chunk_size):
        order = torch.argsort(similarity[start : start + chunk_size], dim=1, descending=True, stable=True)
        matches = gallery_pids[order] == query_pids[start : start + chunk_size, None]
        matches = matches[matches.any(1)]
        hits = matches.cumsum(1)
        first.append(matches.byte().argmax(1) + 1)
        average_precision.append((hits / positions * matches).sum(1) / hits[:, -1])
        last = matches.shape[1] - matches.flip(1).byte().argmax(1)
        inverse_negative_penalty.append(hits[:, -1].double() / last)
    first = torch.cat(first)
    return {
        **{f"R{k}": 100 * (first <= k).double().mean().item() for k in ks},
        "mAP": 100 * torch.cat(average_precision).mean().item(),
        "mINP": 100 * torch.cat(inverse_negative_penalty).mean().item(),
        "num_queries": len(first),
        "dropped_queries": len(query_pids) - len(first),
    }


IMPLEMENTATIONS = {"disreid": rank, "argsort": argsort_rank}


def worker(case: str, implementation: str, chunk_size: int) -> None:
    """Runs in a fresh process; prints its measurements as JSON."""
    similarity, query_pids, gallery_pids = make_case(case)
    before = memory_kib("VmRSS:")
    reset_peak_memory()
    start = time.perf_counter()
    metrics = IMPLEMENTATIONS[implementation](similarity, query_pids, gallery_pids, KS, chunk_size=chunk_size)
    seconds = time.perf_counter() - start
    peak = memory_kib("VmHWM:")
    measured = {"seconds": seconds, "peak_gib": peak / 2**20, "extra_gib": (peak - before) / 2**20}
    print(json.dumps({**measured, "metrics": metrics}))


def run(case: str, implementation: str, chunk_size: int) -> dict:
    command = [sys.executable, __file__, "--worker", case, implementation, "--chunk-size", str(chunk_size)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def same_metrics(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(abs(a[key] - b[key]) <= 1e-9 * max(1.0, abs(b[key])) for key in a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument(
        "--chunk-size", type=int, default=1024, help="queries per chunk, both implementations"
    )
    parser.add_argument("--worker", nargs=2, metavar=("CASE", "IMPLEMENTATION"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker, args.chunk_size)
        return

    results = []
    print(
        f"{'case':<11} {'Q x G':>13} {'implementation':>14} {'seconds':>8} {'peak GiB':>9} "
        f"{'extra GiB':>9} {'R1':>6} {'mAP':>6} {'mINP':>6}"
    )
    for case in args.cases:
        queries, images = CASES[case][:2]
        runs = {name: run(case, name, args.chunk_size) for name in IMPLEMENTATIONS}
        for name, measured in runs.items():
            metrics = measured["metrics"]
            print(
                f"{case:<11} {f'{queries} x {images}':>13} {name:>14} {measured['seconds']:>8.2f} "
                f"{measured['peak_gib']:>9.2f} {measured['extra_gib']:>9.2f} {metrics['R1']:>6.2f} "
                f"{metrics['mAP']:>6.2f} {metrics['mINP']:>6.2f}"
            )
        speedup = runs["argsort"]["seconds"] / runs["disreid"]["seconds"]
        equal = same_metrics(runs["disreid"]["metrics"], runs["argsort"]["metrics"])
        print(
            f"{case}: {speedup:.1f}x as fast as the argsort (target {TARGET_SPEEDUP}x); same metrics: {equal}"
        )
        results.append(
            {
                "case": case,
                "queries": queries,
                "gallery": images,
                "runs": runs,
                "speedup": speedup,
                "same_metrics": equal,
            }
        )
    path = save("rank", {"chunk_size": args.chunk_size, "target_speedup": TARGET_SPEEDUP, "cases": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
