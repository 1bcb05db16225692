"""`rank` against rankings worked out by hand and against a plain full-sort reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from disreid.evaluation.metrics import LazySimilarity, rank


def reference_rank(similarity, query_pids, gallery_pids, ks, query_groups=None, gallery_groups=None) -> dict:
    """SPEC §5 written as directly as possible: one stable sort of the whole row per query."""
    similarity, query_pids, gallery_pids = map(np.asarray, (similarity, query_pids, gallery_pids))
    first, average_precision, inverse_negative_penalty = [], [], []
    for query, pid in enumerate(query_pids):
        kept = np.ones(len(gallery_pids), dtype=bool)
        if query_groups is not None:
            kept = ~((gallery_pids == pid) & (np.asarray(gallery_groups) == query_groups[query]))
        order = np.argsort(-similarity[query][kept], kind="stable")
        positions = np.flatnonzero(gallery_pids[kept][order] == pid) + 1  # 1-based ranks of the positives
        if len(positions) == 0:
            continue
        first.append(positions[0])
        average_precision.append(np.mean(np.arange(1, len(positions) + 1) / positions))
        inverse_negative_penalty.append(len(positions) / positions[-1])
    first = np.array(first)
    return {
        **{f"R{k}": 100 * np.mean(first <= k) for k in ks},
        "mAP": 100 * np.mean(average_precision),
        "mINP": 100 * np.mean(inverse_negative_penalty),
        "num_queries": len(first),
        "dropped_queries": len(query_pids) - len(first),
    }


def test_hand_worked_ranking():
    gallery_pids = [1, 2, 1, 3, 2]
    query_pids = [1, 2, 3, 4]
    similarity = [
        # Ranked: g1 (.9), g4 (.7), g0 (.5), g2 (.5: tied with g0, after it by index), g3 (.1).
        # Positives g0, g2 at ranks 3 and 4: AP = (1/3 + 2/4) / 2 = 5/12; INP = 2/4.
        [0.5, 0.9, 0.5, 0.1, 0.7],
        # All tied, so ranked by index: positives g1, g4 at ranks 2 and 5.
        # AP = (1/2 + 2/5) / 2 = 9/20; INP = 2/5.
        [0.3, 0.3, 0.3, 0.3, 0.3],
        # g3 has the top score: rank 1, AP = INP = 1.
        [0.2, 0.1, 0.0, 0.8, -0.5],
        # Person 4 is not in the gallery: dropped.
        [0.1, 0.2, 0.3, 0.4, 0.5],
    ]
    result = rank(similarity, query_pids, gallery_pids, ks=(1, 2, 5))
    # Best positive ranks 3, 2, 1: within 1 for one query of three, within 2 for two, within 5 for all.
    assert result == pytest.approx(
        {
            "R1": 100 / 3,
            "R2": 200 / 3,
            "R5": 100.0,
            "mAP": 100 * (5 / 12 + 9 / 20 + 1) / 3,
            "mINP": 100 * (2 / 4 + 2 / 5 + 1) / 3,
            "num_queries": 3,
            "dropped_queries": 1,
        }
    )


def test_hand_worked_clothes_changing():
    gallery_pids, gallery_groups = [1, 1, 1, 2], [10, 10, 20, 30]
    query_pids, query_groups = [1, 1, 2], [10, 20, 30]
    similarity = [
        # Own outfit g0, g1 taken out; left g3 (.75), g2 (.7): the positive g2 is 2nd. AP = 1/2, INP = 1/2.
        [0.9, 0.8, 0.7, 0.75],
        # g2 (.9, own outfit) taken out; left g0 (.6), g3 (.4), g1 (.2): positives 1st and 3rd.
        # AP = (1/1 + 2/3) / 2 = 5/6; INP = 2/3.
        [0.6, 0.2, 0.9, 0.4],
        # Person 2's only image is in the query's own outfit: no positive left, dropped.
        [0.1, 0.2, 0.3, 0.4],
    ]
    groups = {"query_groups": query_groups, "gallery_groups": gallery_groups}
    result = rank(similarity, query_pids, gallery_pids, ks=(1, 2), **groups)
    assert result == pytest.approx(
        {
            "R1": 50.0,
            "R2": 100.0,
            "mAP": 100 * (1 / 2 + 5 / 6) / 2,
            "mINP": 100 * (1 / 2 + 2 / 3) / 2,
            "num_queries": 2,
            "dropped_queries": 1,
        }
    )


def _random_case(seed: int, ties: bool):
    rng = np.random.default_rng(seed)
    queries, gallery = rng.integers(1, 40, size=2)
    if ties:  # few distinct values, zeros of both signs among them
        similarity = (rng.integers(-3, 4, size=(queries, gallery)) * 0.25).astype(np.float32)
        similarity[rng.random(similarity.shape) < 0.3] = -0.0
    else:
        similarity = rng.standard_normal((queries, gallery)).astype(np.float32)
    query_pids, gallery_pids = rng.integers(0, 6, queries), rng.integers(0, 6, gallery)
    query_pids[0] = gallery_pids[0]  # at least one query has a positive
    return similarity, query_pids, gallery_pids, rng.integers(0, 3, queries), rng.integers(0, 3, gallery)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", range(15))
def test_matches_full_sort_reference(seed, ties):
    similarity, query_pids, gallery_pids, query_groups, gallery_groups = _random_case(seed, ties)
    ks = (1, 3, 50)  # 50 may exceed the gallery: every query with a positive counts
    expected = reference_rank(similarity, query_pids, gallery_pids, ks)
    assert rank(similarity, query_pids, gallery_pids, ks, chunk_size=4) == pytest.approx(expected, rel=1e-12)

    if ((gallery_pids[:, None] == query_pids) & (gallery_groups[:, None] != query_groups)).any():
        expected = reference_rank(similarity, query_pids, gallery_pids, ks, query_groups, gallery_groups)
        groups = {"query_groups": query_groups, "gallery_groups": gallery_groups}
        actual = rank(similarity, query_pids, gallery_pids, ks, chunk_size=4, **groups)
        assert actual == pytest.approx(expected, rel=1e-12)


def test_inputs_and_chunk_size_do_not_change_results():
    similarity, query_pids, gallery_pids, _, _ = _random_case(seed=3, ties=True)
    expected = rank(similarity, query_pids, gallery_pids, chunk_size=1)
    assert rank(similarity, query_pids, gallery_pids, chunk_size=7) == expected
    assert rank(similarity, query_pids, gallery_pids, chunk_size=10_000) == expected
    assert rank(*map(torch.from_numpy, (similarity, query_pids, gallery_pids))) == expected
    assert rank(similarity.astype(np.float64), query_pids.tolist(), gallery_pids.tolist()) == expected
    assert rank(torch.from_numpy(similarity).bfloat16(), query_pids, gallery_pids) == rank(
        torch.from_numpy(similarity).bfloat16().float(), query_pids, gallery_pids
    )


def test_lazy_similarity_ranks_as_the_whole_matrix():
    """Small-integer features make every product exact, so the chunked and the dense similarities are
    equal bit for bit, ties (which the gallery index breaks) included."""
    rng = np.random.default_rng(0)
    queries = torch.from_numpy(rng.integers(-2, 3, size=(53, 6)).astype(np.float32))
    gallery = torch.from_numpy(rng.integers(-2, 3, size=(41, 6)).astype(np.float32))
    query_pids, gallery_pids = rng.integers(0, 8, 53), rng.integers(0, 8, 41)
    query_groups, gallery_groups = rng.integers(0, 3, 53), rng.integers(0, 3, 41)
    lazy, dense = LazySimilarity(queries, gallery), queries @ gallery.t()
    assert rank(lazy, query_pids, gallery_pids, chunk_size=7) == rank(dense, query_pids, gallery_pids)
    groups = {"query_groups": query_groups, "gallery_groups": gallery_groups}
    assert rank(lazy, query_pids, gallery_pids, chunk_size=5, **groups) == rank(
        dense, query_pids, gallery_pids, **groups
    )
    with pytest.raises(ValueError, match="expected \\[queries, E\\] and \\[gallery, E\\]"):
        LazySimilarity(queries, gallery[:, :5])
    with pytest.raises(ValueError, match="shape"):
        rank(lazy, query_pids[:-1], gallery_pids)


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        rank(np.zeros((2, 3)), [1, 2], [1, 2])
    with pytest.raises(ValueError, match="NaN"):
        rank(np.array([[0.1, np.nan]]), [1], [1, 2])
    with pytest.raises(ValueError, match="no query has a positive"):
        rank(np.zeros((2, 2)), [1, 2], [3, 4])
