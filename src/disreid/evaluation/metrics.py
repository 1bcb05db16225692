"""Retrieval metrics of the standard text-to-person protocol (SPEC §5)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
from torch import Tensor

ArrayLike = Tensor | np.ndarray | Sequence
SUMMARY_METRICS = ("R1", "R5", "R10", "mAP", "mINP")  # what `rank` reports with its default ks


@dataclass(frozen=True)
class LazySimilarity:
    """The similarity matrix `queries @ gallery.T` of two sets of features, formed block by block as `rank`
    reads its rows, on the features' device. Ranking from it never holds the whole matrix: ICFG-PEDES's
    19,848 × 19,848 test set needs 80 MB per 1,024 queries instead of 1.6 GB at once."""

    queries: Tensor  # [Q, E]
    gallery: Tensor  # [G, E]

    def __post_init__(self) -> None:
        queries, gallery = tuple(self.queries.shape), tuple(self.gallery.shape)
        if len(queries) != 2 or len(gallery) != 2 or queries[1] != gallery[1]:
            raise ValueError(
                f"features of shapes {queries} and {gallery}: expected [queries, E] and [gallery, E]"
            )

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.queries), len(self.gallery)

    def __getitem__(self, rows: Tensor) -> Tensor:
        return self.queries[rows.to(self.queries.device)].detach() @ self.gallery.detach().t()


def rank(
    similarity: ArrayLike | LazySimilarity,
    query_pids: ArrayLike,
    gallery_pids: ArrayLike,
    ks: Sequence[int] = (1, 5, 10),
    chunk_size: int = 1024,
    query_groups: ArrayLike | None = None,
    gallery_groups: ArrayLike | None = None,
) -> dict[str, float | int]:
    """R@K, mAP and mINP (×100) of a query × gallery similarity matrix, given whole or as the
    `LazySimilarity` of two sets of features.

    Gallery images are ranked by descending similarity, ties going to the lower gallery index. The
    metrics need only the ranks of the positives, which need no argsort of the rows (see
    `_positive_ranks`); queries are taken ``chunk_size`` at a time, on the CPU, so that memory stays
    bounded whatever the gallery size. Queries without a positive in the gallery are left out and
    counted in ``dropped_queries``; ``num_queries`` is the number the metrics average over.

    With groups (outfit ids: the clothes-changing protocol), the images of the query's own person
    and group are taken out of its gallery, so the positives are the person's images in other groups.
    """
    if not isinstance(similarity, LazySimilarity):
        similarity = torch.as_tensor(similarity).detach()
    query_pids, gallery_pids = _labels(query_pids), _labels(gallery_pids)
    if tuple(similarity.shape) != (len(query_pids), len(gallery_pids)) or 0 in similarity.shape:
        raise ValueError(
            f"similarity has shape {tuple(similarity.shape)}, expected a non-empty "
            f"({len(query_pids)}, {len(gallery_pids)}) = (queries, gallery) matrix"
        )
    if min(ks) < 1:
        raise ValueError(f"ks must be positive, got {tuple(ks)}")
    if (query_groups is None) != (gallery_groups is None):
        raise ValueError("give both query_groups and gallery_groups, or neither")

    candidates, num_candidates = _same_person(query_pids, gallery_pids)
    positive = torch.arange(candidates.shape[1]) < num_candidates[:, None]
    excluded = None
    if query_groups is not None:
        same_group = _labels(gallery_groups)[candidates] == _labels(query_groups)[:, None]
        positive, excluded = positive & ~same_group, positive & same_group
    num_positives = positive.sum(1)
    queries = num_positives.nonzero().squeeze(1)
    if len(queries) == 0:
        raise ValueError("no query has a positive in the gallery")

    best, average_precision, inverse_negative_penalty = [], [], []
    for chunk in queries.split(chunk_size):
        scores = similarity[chunk].cpu()
        if scores.dtype not in (torch.float32, torch.float64):
            scores = scores.float()
        width = int(num_candidates[chunk].max())
        ranks = _positive_ranks(
            scores,
            candidates[chunk, :width],
            positive[chunk, :width],
            None if excluded is None else excluded[chunk, :width],
        )
        counts = num_positives[chunk]
        best.append(ranks[:, 0])
        average_precision.append((torch.arange(1, width + 1) / ranks).sum(1) / counts)
        inverse_negative_penalty.append(counts / ranks.gather(1, counts[:, None] - 1).squeeze(1))
    best = torch.cat(best)

    return {
        **{f"R{k}": 100 * (best <= k).double().mean().item() for k in ks},
        "mAP": 100 * torch.cat(average_precision).mean().item(),
        "mINP": 100 * torch.cat(inverse_negative_penalty).mean().item(),
        "num_queries": len(queries),
        "dropped_queries": len(query_pids) - len(queries),
    }


def _labels(labels: ArrayLike) -> Tensor:
    return torch.as_tensor(labels, dtype=torch.int64).cpu()


def _same_person(query_pids: Tensor, gallery_pids: Tensor) -> tuple[Tensor, Tensor]:
    """Gallery indices of each query's person's images, [Q, most images] (padded arbitrarily), and how many.

    Looked up in the gallery grouped by person, so no query × gallery mask is ever built.
    """
    order = torch.argsort(gallery_pids, stable=True)
    pids, counts = torch.unique_consecutive(gallery_pids[order], return_counts=True)
    slot = torch.searchsorted(pids, query_pids).clamp_(max=len(pids) - 1)
    num_images = torch.where(pids[slot] == query_pids, counts[slot], 0)
    starts = (counts.cumsum(0) - counts)[slot]
    index = (starts[:, None] + torch.arange(int(num_images.max()))).clamp_(max=len(order) - 1)
    return order[index], num_images


def _positive_ranks(scores: Tensor, candidates: Tensor, positive: Tensor, excluded: Tensor | None) -> Tensor:
    """1-based ranks of each query's positives, best first, as float64 padded with inf.

    A positive's rank is one plus the number of higher scores, found by binary search in the row's
    scores sorted by value alone, which is several times faster than a stable argsort. That is exact
    unless another item has exactly the positive's score, where the gallery index decides: only
    such rows are ranked again by a stable argsort.
    """
    values = scores.gather(1, candidates)
    ordered = _sorted_rows(scores)
    if ordered[:, -1].isnan().any():  # numpy sorts NaN last
        raise ValueError("similarity contains NaN")
    lower = torch.searchsorted(ordered, values)
    upper = torch.searchsorted(ordered, values, right=True)
    ranks = (scores.shape[1] - upper + 1).double()
    tied = ((upper - lower > 1) & positive).any(1)
    if tied.any():
        ranks[tied] = _ranks_by_sorting(scores[tied], candidates[tied])
    if excluded is not None:
        ranks -= _excluded_above(values, candidates, excluded)
    return ranks.masked_fill_(~positive, torch.inf).sort(1).values


def _sorted_rows(scores: Tensor) -> Tensor:
    """Each row sorted ascending by numpy's SIMD-vectorised quicksort, faster than torch's sorts.
    Rows are shared out over torch's threads, as numpy releases the GIL while it sorts."""
    ordered = scores.clone()
    blocks = np.array_split(ordered.numpy(), torch.get_num_threads())
    with ThreadPoolExecutor(len(blocks)) as pool:
        list(pool.map(partial(np.ndarray.sort, axis=1), blocks))
    return ordered


def _ranks_by_sorting(scores: Tensor, candidates: Tensor) -> Tensor:
    """Ranks of the candidates read off a stable sort of each row: slower, but exact whatever the ties."""
    order = torch.argsort(scores, dim=1, descending=True, stable=True)
    position = torch.empty_like(order).scatter_(1, order, torch.arange(scores.shape[1]).expand_as(order))
    return (position.gather(1, candidates) + 1).double()


def _excluded_above(values: Tensor, candidates: Tensor, excluded: Tensor) -> Tensor:
    """How many excluded candidates (scores `values`) rank above each candidate: they are not in this
    query's gallery."""
    higher, lower = values[:, :, None], values[:, None, :]
    above = (higher > lower) | ((higher == lower) & (candidates[:, :, None] < candidates[:, None, :]))
    return (above & excluded[:, :, None]).sum(1)
