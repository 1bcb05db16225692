"""The instruments of disentanglement: leakage probes with their controls, and the captions' limit."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from disreid.data import ImageRecord
from disreid.evaluation.disentanglement import EmbeddedImages, leakage_probes, probe, probe_sample, summarise
from disreid.evaluation.oracle import captions_limit, expected_metrics, match_counts

HAIR = ("black", "brown", "blond", "red")
UPPER = ("red", "blue", "green", "white")


def population(persons: int, seed: int) -> list[ImageRecord]:
    """`persons` persons in two outfits, three images each, with a hair colour and an upper colour."""
    rng = np.random.default_rng(seed)
    records = []
    for person in range(persons):
        hair = HAIR[int(rng.integers(4))]
        for outfit in range(2):
            upper = UPPER[int(rng.integers(4))]
            for shot in range(3):
                records.append(
                    ImageRecord(
                        path=Path(f"{person}_{outfit}_{shot}.png"),
                        person_id=person + 1,
                        split="x",
                        captions=("c",),
                        outfit_id=2 * person + outfit,
                        factors={"identity": {"hair_colour": hair}, "clothing": {"upper_colour": upper}},
                    )
                )
    return records


def embed(records, leak: float, seed: int) -> EmbeddedImages:  # noqa: ANN001
    """Identity holds hair colour and clothing holds upper colour, each one-hot plus noise; `leak` of the
    upper colour is planted in the identity part too. A fourth dimension block is pure noise."""
    rng = np.random.default_rng(seed)
    hair = np.eye(4)[[HAIR.index(r.factors["identity"]["hair_colour"]) for r in records]]
    upper = np.eye(4)[[UPPER.index(r.factors["clothing"]["upper_colour"]) for r in records]]
    noise = lambda: rng.normal(0, 0.2, size=(len(records), 4))  # noqa: E731
    identity = np.hstack([hair + noise(), leak * upper + noise()])
    clothing = np.hstack([upper + noise(), noise()])
    full = np.hstack([identity, clothing])
    as_tensor = lambda x: torch.tensor(x, dtype=torch.float32)  # noqa: E731
    return EmbeddedImages(
        {"identity": as_tensor(identity), "clothing": as_tensor(clothing), "full": as_tensor(full)}, records
    )


@pytest.fixture(scope="module")
def fit_and_test():
    return population(80, seed=0), population(40, seed=1)


def test_a_factor_planted_in_the_wrong_part_reads_as_full_leakage(fit_and_test):
    fit, test = fit_and_test
    report = leakage_probes(embed(test, 1.0, 3), embed(probe_sample(fit, 2), 1.0, 2))
    upper = report["factors"]["upper_colour"]
    assert upper["own"] > 95 and upper["leak"] > 95 and upper["full"] > 95
    assert upper["chance"] == 25.0 and 25 <= upper["majority"] < 60
    assert report["leakage"]["clothing_in_identity"]["leakage"] > 0.9
    # Hair colour is in the identity part only: the clothing part does not hold it.
    assert report["leakage"]["identity_in_clothing"]["leakage"] < 0.15
    assert report["fit_on"] == "the training split (160 images of 80 persons)"


def test_independent_parts_read_as_no_leakage(fit_and_test):
    fit, test = fit_and_test
    report = leakage_probes(embed(test, 0.0, 3), embed(probe_sample(fit, 2), 0.0, 2))
    for direction in ("clothing_in_identity", "identity_in_clothing"):
        assert report["leakage"][direction]["leakage"] < 0.15
        assert report["leakage"][direction]["not_perceived"] == []


def test_the_floor_is_the_leak_that_ties_in_the_data_alone_allow(fit_and_test):
    """Independent factors: the other kind's labels read a factor at 1/k. Upper colour tied to hair colour:
    an identity part that holds hair colour alone (no planted leak) reads it fully, and so do the labels."""
    fit, test = fit_and_test
    report = leakage_probes(embed(test, 0.0, 3), embed(probe_sample(fit, 2), 0.0, 2))
    assert abs(report["factors"]["upper_colour"]["floor"] - 25) < 12
    assert report["leakage"]["clothing_in_identity"]["floor"] < 0.2

    def tied(records):  # noqa: ANN001, ANN202
        upper = dict(zip(HAIR, UPPER, strict=True))
        return [
            replace(
                r,
                factors={
                    **r.factors,
                    "clothing": {"upper_colour": upper[r.factors["identity"]["hair_colour"]]},
                },
            )
            for r in records
        ]

    test, fit = tied(test), tied(fit)
    report = leakage_probes(embed(test, 0.0, 3), embed(probe_sample(fit, 2), 0.0, 2))
    upper = report["factors"]["upper_colour"]
    assert upper["leak"] > 95 and upper["floor"] > 95  # held by identity, and tied to it in the data
    assert report["leakage"]["clothing_in_identity"]["floor"] > 0.9


def test_a_factor_in_neither_part_is_not_perceived(fit_and_test):
    fit, test = fit_and_test
    images, fit_images = embed(test, 0.0, 3), embed(probe_sample(fit, 2), 0.0, 2)
    for embedded in (images, fit_images):  # replace the upper colour by noise everywhere
        for mode in embedded.embeddings:
            embedded.embeddings[mode] = torch.randn_like(embedded.embeddings[mode])
    report = leakage_probes(images, fit_images)
    assert report["leakage"]["clothing_in_identity"] == {
        "leakage": None,
        "per_factor": {},
        "not_perceived": ["upper_colour"],
        "floor": None,
    }


def test_without_a_training_split_probes_fall_back_to_half_of_the_persons(fit_and_test):
    _, test = fit_and_test
    report = leakage_probes(embed(test, 1.0, 3), None)
    assert report["fit_on"] == "half of the evaluated persons (20; no training split at hand)"
    assert report["leakage"]["clothing_in_identity"]["leakage"] > 0.9


def test_leakage_is_the_clipped_share_of_the_own_part_above_chance():
    factors = {
        "a": {"kind": "clothing", "leak": 40.0, "own": 70.0, "chance": 10.0},  # (40-10)/(70-10) = 0.5
        "b": {"kind": "clothing", "leak": 5.0, "own": 60.0, "chance": 10.0},  # below chance: 0
        "c": {"kind": "clothing", "leak": 20.0, "own": 25.0, "chance": 10.0},  # own < 1/k + 20: not perceived
    }
    summary = summarise(factors)["clothing_in_identity"]
    assert summary == {
        "leakage": 0.25,
        "per_factor": {"a": 0.5, "b": 0.0},
        "not_perceived": ["c"],
        "floor": None,
    }


def test_probe_sample_takes_images_of_different_outfits():
    records = population(10, seed=4)
    sample = probe_sample(records, per_person=2)
    assert len(sample) == 20
    for person in range(1, 11):
        outfits = {r.outfit_id for r in sample if r.person_id == person}
        assert len(outfits) == 2


# ----------------------------------------------------------------------------------- captions' limit
def test_expected_r1_and_map_average_over_tied_orders():
    # One query, four gallery images: scores 2, 1, 1, 0; positives are images 1 and 3.
    # R@1: the top image is a negative: 0. AP over the two equally likely orders of the tie (1, 2):
    #   order (1, 2): positives at ranks 2 and 4 -> (1/2 + 2/4) / 2 = 0.5
    #   order (2, 1): positives at ranks 3 and 4 -> (1/3 + 2/4) / 2 = 0.41667
    scores = np.array([[2, 1, 1, 0]])
    result = expected_metrics(scores, np.array([7]), np.array([5, 7, 5, 7]))
    assert result["R1"] == 0.0
    assert result["mAP"] == pytest.approx(100 * (0.5 + 5 / 12) / 2)
    # A tie at the top between a positive and two negatives: R@1 = 1/3 in expectation.
    assert expected_metrics(np.array([[3, 3, 3, 0]]), np.array([7]), np.array([5, 7, 5, 9]))["R1"] == (
        pytest.approx(100 / 3)
    )


def test_expected_map_equals_the_mean_over_every_tie_order():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 3, size=(5, 7))
    gallery = rng.integers(0, 3, size=7)
    queries = np.array([0, 1, 2, 0, 1])
    exact = expected_metrics(scores, queries, gallery)
    sampled = []
    for _ in range(4000):  # random tie-breaking by a tiny random jitter
        jitter = scores + rng.random(scores.shape) * 1e-3
        sampled.append(expected_metrics(jitter, queries, gallery)["mAP"])
    assert exact["mAP"] == pytest.approx(np.mean(sampled), abs=0.3)


def record(person: int, outfit: int, identity: dict, clothing: dict, stated: dict) -> ImageRecord:
    return ImageRecord(
        path=Path(f"{person}_{outfit}.png"),
        person_id=person,
        split="test",
        captions=("caption",),
        identity_captions=("identity part",),
        clothing_captions=("clothing part",),
        outfit_id=outfit,
        factors={"identity": identity, "clothing": clothing},
        stated=(stated,),
    )


def test_the_captions_limit_of_a_hand_worked_gallery():
    # Person 1 (black hair) in a red outfit 10 and a blue outfit 11; person 2 (black hair too) in green.
    # Person 1's captions state hair and upper colour; person 2's state only the upper colour.
    says = lambda hair, upper: {"identity": hair, "clothing": upper}  # noqa: E731
    records = [
        record(1, 10, {"hair": "black"}, {"upper": "red"}, says({"hair": "black"}, {"upper": "red"})),
        record(1, 11, {"hair": "black"}, {"upper": "blue"}, says({"hair": "black"}, {"upper": "blue"})),
        record(2, 20, {"hair": "black"}, {"upper": "green"}, says({}, {"upper": "green"})),
    ]
    counts = match_counts([{"hair": "black", "upper": "red"}], records)
    assert counts.tolist() == [[2, 1, 1]]
    limit = captions_limit(records)
    # Full mode: each query matches its own image best (2, 2 and 1 stated values): R@1 100.
    assert limit["standard"]["full"]["R1"] == pytest.approx(100.0)
    # Identity mode: queries 1 and 2 state black hair, which all three images have: R@1 2/3 each; query 3's
    # identity part states nothing, so every image ties at 0: 1/3.
    assert limit["standard"]["identity"]["R1"] == pytest.approx(100 * (2 / 3 + 2 / 3 + 1 / 3) / 3)
    # Clothes changing, identity mode: query 1's own outfit leaves; images 2 (positive) and 3 tie: 1/2.
    # Query 3 is person 2's only outfit: no positive, left out.
    assert limit["clothes_changing"]["identity"]["R1"] == pytest.approx(50.0)
    assert captions_limit([ImageRecord(path=Path("x"), person_id=1, split="t", captions=("c",))]) is None


def test_one_embedding_under_three_names_reads_as_full_leakage(fit_and_test):
    # A model without the DisentangleModule (the baseline) gives the same embedding in every mode.
    fit, test = fit_and_test
    images, fit_images = embed(test, 0.0, 3), embed(probe_sample(fit, 2), 0.0, 2)
    for embedded in (images, fit_images):
        full = embedded.embeddings["full"]
        embedded.embeddings.update(identity=full.clone(), clothing=full.clone())
    report = leakage_probes(images, fit_images)
    for row in report["factors"].values():
        assert row["leak"] == row["own"] == row["full"] > 90
    assert {summary["leakage"] for summary in report["leakage"].values()} == {1.0}


def test_a_probe_scored_on_a_split_lacking_a_value_says_nothing(recwarn):
    """Balanced accuracy averages over the values the scored split has: a prediction of another value is
    a miss, not something to warn about in the middle of `evaluate`'s table (sklearn's UserWarning)."""
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 20)
    features = rng.normal(size=(60, 4)) + labels[:, None]
    groups = np.arange(60) // 2
    scored = features[labels < 2] + 1.5  # value 2 absent; shifted, so that some are predicted as it
    score = probe(features, labels, groups, scored, labels[labels < 2])
    assert 0 <= score <= 100
    assert not [w for w in recwarn if "y_pred contains classes" in str(w.message)]
