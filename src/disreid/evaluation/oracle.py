"""The captions' limit (SPEC §5): how well any model could rank a gallery from what each query states.

The oracle knows every gallery image's factors and which factor values each query states (SynthPedes
and PETA's captions record both when they are written), and scores an image by the number of stated
values it matches. Many images tie, so its figures are the exact expectation over a random order within
each tie: a model's R@1 read as a share of the oracle's says how much of what the words allow the model
finds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from disreid.data import ImageRecord
from disreid.data.grammar import Value


def stated_by_queries(records: Sequence[ImageRecord]) -> dict[str, list[dict[str, Value]]]:
    """Per mode, the factor values each caption query states, in `CaptionQueries` order. A caption's
    full text states what its two parts state; an empty part is queried as the whole caption."""
    stated: dict[str, list[dict[str, Value]]] = {"full": [], "identity": [], "clothing": []}
    for record in records:
        for index, parts in enumerate(record.stated):
            full = {**parts["identity"], **parts["clothing"]}
            stated["full"].append(full)
            for mode, texts in (
                ("identity", record.identity_captions),
                ("clothing", record.clothing_captions),
            ):
                stated[mode].append(parts[mode] if texts and texts[index] else full)
    return stated


def match_counts(stated: Sequence[dict[str, Value]], records: Sequence[ImageRecord]) -> np.ndarray:
    """`[Q, G]`: how many of query q's stated values gallery image g has. A factor may hold several
    values (PETA's black and white top), and a query may state several ("a black and white top"): each
    stated value the image has counts once."""
    names = sorted({name for values in stated for name in values})
    gallery = [{**record.factors["identity"], **record.factors["clothing"]} for record in records]
    counts = np.zeros((len(stated), len(records)), dtype=np.int64)
    for name in names:
        has = [_as_set(factors.get(name)) for factors in gallery]
        wanted = [_as_set(query.get(name)) for query in stated]
        for value in set().union(*wanted):
            asked = np.array([value in values for values in wanted])
            shown = np.array([value in values for values in has])
            counts += asked[:, None] & shown[None, :]
    return counts


def _as_set(value: Value | None) -> frozenset[str]:
    return frozenset() if value is None else frozenset([value] if isinstance(value, str) else value)


def expected_metrics(
    scores: np.ndarray,
    query_pids: np.ndarray,
    gallery_pids: np.ndarray,
    query_groups: np.ndarray | None = None,
    gallery_groups: np.ndarray | None = None,
) -> dict[str, float]:
    """R@1 and mAP (×100) of ranking each row of `scores` descending, in expectation over a uniformly
    random order among tied scores. With groups, the query's own (person, group) images leave its gallery,
    as in the clothes-changing protocol. Queries without a positive are left out, as in `rank`."""
    first, average_precision = [], []
    for q in range(len(scores)):
        keep = np.ones(len(gallery_pids), dtype=bool)
        if query_groups is not None:
            keep = ~((gallery_pids == query_pids[q]) & (gallery_groups == query_groups[q]))
        relevant = gallery_pids[keep] == query_pids[q]
        if not relevant.any():
            continue
        # Groups of tied scores, best first: size t, positives r, and the items and positives ranked above.
        _, group, size = np.unique(-scores[q][keep], return_inverse=True, return_counts=True)
        hits = np.bincount(group, weights=relevant, minlength=len(size))
        items_above, hits_above = np.cumsum(size) - size, np.cumsum(hits) - hits
        first.append(hits[0] / size[0])
        # Position N + j of a group of t holding r positives is a positive with probability r / t, and then
        # the group's j - 1 earlier positions hold (j - 1)(r - 1)/(t - 1) positives on average (McSherry &
        # Najork, 2008): precision is linear in that count, so its expectation is exact.
        rank = np.arange(1, len(group) + 1)
        g = np.repeat(np.arange(len(size)), size)
        j = rank - items_above[g]
        precision = (hits_above[g] + 1 + (j - 1) * (hits[g] - 1) / np.maximum(size[g] - 1, 1)) / rank
        average_precision.append(float((hits[g] / size[g] * precision).sum() / relevant.sum()))
    return {"R1": 100 * float(np.mean(first)), "mAP": 100 * float(np.mean(average_precision))}


def captions_limit(records: Sequence[ImageRecord]) -> dict[str, dict[str, dict[str, float]] | None] | None:
    """The oracle's R@1 and mAP per protocol and mode, laid out like `evaluate`'s results (the
    clothes-changing protocol None where no person is labelled in two outfits); None where the records
    do not say what their captions state (data sets other than SynthPedes and PETA)."""
    if not records or any(record.stated is None or record.factors is None for record in records):
        return None
    stated = stated_by_queries(records)
    query_pids = np.array([r.person_id for r in records for _ in r.captions])
    gallery_pids = np.array([r.person_id for r in records])
    counts = {mode: match_counts(stated[mode], records) for mode in stated}
    limit = {
        "standard": {mode: expected_metrics(counts[mode], query_pids, gallery_pids) for mode in counts},
        "clothes_changing": None,
    }
    worn = {(record.person_id, record.outfit_id) for record in records}
    if all(record.outfit_id is not None for record in records) and len(worn) > len({p for p, _ in worn}):
        query_outfits = np.array([r.outfit_id for r in records for _ in r.captions])
        gallery_outfits = np.array([r.outfit_id for r in records])
        limit["clothes_changing"] = {
            mode: expected_metrics(counts[mode], query_pids, gallery_pids, query_outfits, gallery_outfits)
            for mode in ("full", "identity")
        }
    return limit
