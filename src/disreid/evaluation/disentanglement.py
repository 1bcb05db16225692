"""How well are identity and clothing kept apart? Dependence measures and leakage probes (SPEC §5)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from disreid.data import ImageRecord
from disreid.losses import hsic


def linear_cka(x: torch.Tensor, y: torch.Tensor) -> float:
    """Linear centred kernel alignment (Kornblith et al., 2019): 1 for features that are linear
    transforms of each other, near 0 for unrelated ones."""
    x, y = x - x.mean(0), y - y.mean(0)
    cross = (y.t() @ x).norm() ** 2
    return float(cross / ((x.t() @ x).norm() * (y.t() @ y).norm()).clamp_min(1e-12))


def probe(features: np.ndarray, labels: Sequence[str], train: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Accuracy (%) of a linear classifier fit on the `train` rows and scored on the others, beside the
    chance rate (% of the most frequent label among the scored rows)."""
    from sklearn.linear_model import LogisticRegression

    labels = np.asarray(labels)
    test = ~train
    classifier = LogisticRegression(max_iter=2000, random_state=seed).fit(features[train], labels[train])
    accuracy = float((classifier.predict(features[test]) == labels[test]).mean())
    _, counts = np.unique(labels[test], return_counts=True)
    return {"accuracy": 100 * accuracy, "chance": 100 * float(counts.max() / test.sum())}


def disentanglement_report(
    identity: torch.Tensor, clothing: torch.Tensor, records: Sequence[ImageRecord], seed: int = 0
) -> dict:
    """CKA and HSIC between the identity and clothing embeddings of the gallery images; where the data
    carries factors (SynthPedes), linear probes for each clothing factor from the identity embedding and
    each identity factor from the clothing embedding. Probes fit on half of the persons and are scored on
    the other half, so that a probe cannot succeed by recognising a person it was fit on."""
    report: dict = {"cka": linear_cka(identity, clothing), "hsic": float(hsic(identity, clothing))}
    if not records or records[0].factors is None:
        return report
    persons = np.array(sorted({record.person_id for record in records}))
    fit_persons = np.random.default_rng(seed).permutation(persons)[: len(persons) // 2]
    train = np.isin([record.person_id for record in records], fit_persons)
    sources = {
        "clothing_from_identity": ("clothing", identity),
        "identity_from_clothing": ("identity", clothing),
    }
    for name, (kind, features) in sources.items():
        labels = {
            factor: np.array([str(r.factors[kind][factor]) for r in records])
            for factor in sorted(records[0].factors[kind])
        }
        report[name] = {  # a probe needs two values among the persons it is fit on
            factor: probe(features.numpy(), values, train, seed)
            for factor, values in labels.items()
            if len(np.unique(values[train])) > 1
        }
    return report
