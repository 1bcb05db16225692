"""How well are identity and clothing kept apart? Dependence measures and leakage probes (SPEC §5).

A leakage probe reads a factor from the embedding that should not hold it (garment colour from the
identity embedding). It only means something beside its controls: the same probe reading the factor from
the part meant to hold it and from the full embedding shows that the probe can read the factor at all.
Probes are fit on the training persons' images and scored on the evaluated persons, with balanced
accuracy, so that neither a frequent value nor a person seen at fitting time can make a probe look good.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from disreid.data import ImageRecord
from disreid.data.synth.factors import shown
from disreid.losses import hsic

PROBE_CS = (0.01, 0.1, 1.0, 10.0)  # inverse regularisation strengths tried by cross-validation
PERCEIVED_MARGIN = 20.0  # a factor is perceived when its own part reads it 20 points above 1/k
# A value is probed where the probe can learn it from two images and the evaluated images show it: PETA's
# green hair (one image in all) is not.
MIN_FIT_IMAGES, MIN_SCORED_IMAGES = 2, 1
# Which embedding should hold each kind of factor, and which should not (the leak).
PARTS = {"identity": ("identity", "clothing"), "clothing": ("clothing", "identity")}
LEAKAGE_NAMES = {"clothing": "clothing_in_identity", "identity": "identity_in_clothing"}


@dataclass
class EmbeddedImages:
    """Normalised image embeddings per mode (`full`, `identity`, `clothing`) `[N, E]` and their records."""

    embeddings: dict[str, torch.Tensor]
    records: Sequence[ImageRecord]


def linear_cka(x: torch.Tensor, y: torch.Tensor) -> float:
    """Linear centred kernel alignment (Kornblith et al., 2019): 1 for features that are linear
    transforms of each other, near 0 for unrelated ones."""
    x, y = x - x.mean(0), y - y.mean(0)
    cross = (y.t() @ x).norm() ** 2
    return float(cross / ((x.t() @ x).norm() * (y.t() @ y).norm()).clamp_min(1e-12))


def probe(
    fit: np.ndarray, fit_labels: np.ndarray, groups: np.ndarray, scored: np.ndarray, labels: np.ndarray
) -> float:
    """Balanced accuracy (%) on `scored` of a class-balanced logistic regression fit on standardised `fit`
    features, its C chosen by cross-validation over folds that never split a person (`groups`)."""
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(fit)
    fit, scored = scaler.transform(fit), scaler.transform(scored)
    # Integer classes: LogisticRegressionCV's balanced class weights fail on string labels (sklearn 1.9).
    _, classes = np.unique(np.concatenate([fit_labels, labels]), return_inverse=True)
    fit_labels, labels = classes[: len(fit_labels)], classes[len(fit_labels) :]
    persons = np.unique(groups).size
    folds = list(GroupKFold(min(3, persons)).split(fit, fit_labels, groups)) if persons >= 2 else []
    options = {"class_weight": "balanced", "max_iter": 300, "tol": 1e-3}
    if folds and all(np.unique(fit_labels[train]).size > 1 for train, _ in folds):
        classifier = LogisticRegressionCV(Cs=list(PROBE_CS), cv=folds, scoring="balanced_accuracy", **options)
    else:  # too few persons to cross-validate: the middle strength
        classifier = LogisticRegression(C=1.0, **options)
    # One BLAS thread: these matrices are small, and threads cost more than they save (5x on 2 cores).
    with warnings.catch_warnings(), threadpool_limits(1):  # a fold may lack a rare value: the score stands
        warnings.simplefilter("ignore")
        classifier.fit(fit, fit_labels)
    predicted = classifier.predict(scored)
    with warnings.catch_warnings():  # a value the scored images lack, predicted: a miss, no news
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        return 100 * float(balanced_accuracy_score(labels, predicted))


def probe_sample(records: Sequence[ImageRecord], per_person: int = 2, seed: int = 0) -> list[ImageRecord]:
    """A few images of each person to fit probes on, from different outfits where there are several: a
    probe fit on one outfit per person could read garment colour as the person."""
    rng = np.random.default_rng(seed)
    by_person: dict[int, dict[int | None, list[ImageRecord]]] = {}
    for record in records:
        by_person.setdefault(record.person_id, {}).setdefault(record.outfit_id, []).append(record)
    sample = []
    for outfits in by_person.values():
        groups = list(outfits.values())
        for group in groups:
            rng.shuffle(group)
        rng.shuffle(groups)
        # One image of each outfit first, then a second of each, and so on.
        longest = max(map(len, groups))
        sample += [group[i] for i in range(longest) for group in groups if i < len(group)][:per_person]
    return sample


def leakage_probes(evaluated: EmbeddedImages, fit: EmbeddedImages | None, seed: int = 0) -> dict:
    """For every factor: the leak probe, the controls from its own part and from the full embedding, 1/k
    and the majority rate, all in %; and per direction, **leakage** = the mean over perceived factors of
    (leak − 1/k) / (own − 1/k), clipped to [0, 1]. A factor is perceived when its own part reads it at
    least 20 points above 1/k; the others are listed, not averaged.

    Probes are fit on `fit` (images of the training persons); without it they are fit on half of the
    evaluated persons and scored on the other half, and the report says so.
    """
    if fit is None:
        persons = np.array(sorted({record.person_id for record in evaluated.records}))
        fit_persons = set(np.random.default_rng(seed).permutation(persons)[: len(persons) // 2].tolist())
        rows = np.array([record.person_id in fit_persons for record in evaluated.records])
        fit = _subset(evaluated, rows)
        evaluated = _subset(evaluated, ~rows)
        fit_on = f"half of the evaluated persons ({len(fit_persons)}; no training split at hand)"
    else:
        persons = len({record.person_id for record in fit.records})
        fit_on = f"the training split ({len(fit.records)} images of {persons} persons)"
    # A model without the DisentangleModule has one embedding under three names: probe it once.
    alias: dict[str, str] = {}
    for mode in evaluated.embeddings:
        same = (
            m
            for m in alias
            if all(torch.equal(e.embeddings[m], e.embeddings[mode]) for e in (evaluated, fit))
        )
        alias[mode] = next(same, mode)
    factors = {
        name: row
        for kind in PARTS
        for name in sorted({name for record in evaluated.records for name in record.factors[kind]})
        if (row := _probe_factor(kind, name, fit, evaluated, alias)) is not None
    }
    return {"fit_on": fit_on, "factors": factors, "leakage": summarise(factors)}


def _probe_factor(
    kind: str, name: str, fit: EmbeddedImages, evaluated: EmbeddedImages, alias: dict[str, str]
) -> dict | None:
    """One factor read from each embedding, on the images that show one value of it, of the values with
    images enough to fit and to score a probe; None where fewer than two values are left. `alias` maps
    each mode to the first mode with the same embeddings, whose reading it shares."""
    own, other = PARTS[kind]
    fit_labels, labels = _labels(fit.records, kind, name), _labels(evaluated.records, kind, name)
    values, fit_counts = np.unique(fit_labels[fit_labels != ""], return_counts=True)
    scored_counts = np.array([(labels == value).sum() for value in values])
    kept = values[(fit_counts >= MIN_FIT_IMAGES) & (scored_counts >= MIN_SCORED_IMAGES)]
    if kept.size < 2:
        return None
    fit_rows, rows = np.isin(fit_labels, kept), np.isin(labels, kept)
    fit_labels, labels = fit_labels[fit_rows], labels[rows]
    groups = np.array([r.person_id for r in fit.records])[fit_rows]
    read = {
        mode: probe(
            fit.embeddings[mode].numpy()[fit_rows],
            fit_labels,
            groups,
            evaluated.embeddings[mode].numpy()[rows],
            labels,
        )
        for mode in {alias[own], alias[other], alias["full"]}
    }
    read = {mode: read[alias[mode]] for mode in (own, other, "full")}
    other_kind = "clothing" if kind == "identity" else "identity"
    fit_records = [r for r, keep in zip(fit.records, fit_rows, strict=True) if keep]
    records = [r for r, keep in zip(evaluated.records, rows, strict=True) if keep]
    fit_labelled, labelled = _one_hot(fit_records, records, other_kind)
    _, counts = np.unique(labels, return_counts=True)
    return {
        "kind": kind,
        "leak": read[other],
        "own": read[own],
        "full": read["full"],
        # The other kind's true labels, read by the same probe: what a part that held its own factors
        # exactly, and nothing else, would still leak where the data ties the two kinds together
        # (PETA's skirts and women); at 1/k where they are independent (SynthPedes).
        "floor": probe(fit_labelled, fit_labels, groups, labelled, labels),
        "chance": 100 / len(counts),
        "majority": 100 * float(counts.max() / counts.sum()),
        "images": int(rows.sum()),
    }


def summarise(factors: dict[str, dict]) -> dict[str, dict]:
    """Per direction, the leakage over the perceived factors and the factors that are not perceived."""
    summary = {}
    for kind, name in LEAKAGE_NAMES.items():
        rows = {factor: row for factor, row in factors.items() if row["kind"] == kind}
        perceived = {f: r for f, r in rows.items() if r["own"] >= r["chance"] + PERCEIVED_MARGIN}
        shares = {
            f: float(np.clip((r["leak"] - r["chance"]) / (r["own"] - r["chance"]), 0.0, 1.0))
            for f, r in perceived.items()
        }
        floors = [
            float(np.clip((r["floor"] - r["chance"]) / (r["own"] - r["chance"]), 0.0, 1.0))
            for r in perceived.values()
            if "floor" in r
        ]
        summary[name] = {
            "leakage": float(np.mean(list(shares.values()))) if shares else None,
            "per_factor": shares,
            "not_perceived": sorted(set(rows) - set(perceived)),
            # The leakage of parts that held exactly their own factors: the data's share of the figure.
            "floor": float(np.mean(floors)) if floors else None,
        }
    return summary


def disentanglement_report(
    evaluated: EmbeddedImages, fit: EmbeddedImages | None = None, seed: int = 0
) -> dict:
    """CKA and HSIC between the identity and clothing embeddings of the evaluated images; where the data
    carries factors (SynthPedes), the leakage probes and their controls (`leakage_probes`)."""
    identity, clothing = evaluated.embeddings["identity"], evaluated.embeddings["clothing"]
    report: dict = {"cka": linear_cka(identity, clothing), "hsic": float(hsic(identity, clothing))}
    if evaluated.records and evaluated.records[0].factors is not None:
        report["probes"] = leakage_probes(evaluated, fit, seed)
    return report


def _labels(records: Sequence[ImageRecord], kind: str, name: str) -> np.ndarray:
    """Each record's value of a factor, "" where the image does not show exactly one (not labelled,
    hidden, or several values such as a black and white top)."""
    return np.array(
        [
            value
            if isinstance(value := record.factors[kind].get(name), str)
            and shown(name, record.factors, record.hidden or ())
            else ""
            for record in records
        ]
    )


def _one_hot(
    fit: Sequence[ImageRecord], scored: Sequence[ImageRecord], kind: str
) -> tuple[np.ndarray, np.ndarray]:
    """One-hot features of the `kind` factors' single values, columns by the values seen in `fit`."""
    names = sorted({name for record in fit for name in record.factors[kind]})
    columns = sorted({(name, value) for name in names for value in _labels(fit, kind, name) if value})
    index = {column: i for i, column in enumerate(columns)}

    def features(records: Sequence[ImageRecord]) -> np.ndarray:
        table = np.zeros((len(records), max(1, len(columns))), dtype=np.float32)
        for name in names:
            for row, value in enumerate(_labels(records, kind, name)):
                if (name, value) in index:
                    table[row, index[name, value]] = 1.0
        return table

    return features(fit), features(scored)


def _subset(images: EmbeddedImages, rows: np.ndarray) -> EmbeddedImages:
    index = torch.from_numpy(np.flatnonzero(rows))
    return EmbeddedImages(
        {mode: tensor[index] for mode, tensor in images.embeddings.items()},
        [images.records[i] for i in index.tolist()],
    )
