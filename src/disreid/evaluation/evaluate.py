"""Everything `disreid evaluate` reports about one model on one split."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from disreid.config import DataConfig
from disreid.data import ImageRecord, build_transforms
from disreid.evaluation.disentanglement import disentanglement_report
from disreid.evaluation.metrics import SUMMARY_METRICS
from disreid.evaluation.protocols import (
    EmbeddedSplit,
    clothes_changing_protocol,
    embed_split,
    standard_protocol,
)
from disreid.model import DisReID


def evaluate(
    model: DisReID, records: Sequence[ImageRecord], data: DataConfig, device: torch.device | str | None = None
) -> dict:
    """`{"standard": {mode: rank dict}, "clothes_changing": {mode: rank dict}, "disentanglement": {...}}`.

    The clothes-changing protocol needs outfit labels and is left out (None) where the data has none.
    """
    transform = build_transforms(model.config.image_size, train=False, mean=data.mean, std=data.std)
    return evaluate_embedded(embed_split(model, records, transform, device=device), records)


def evaluate_embedded(split: EmbeddedSplit, records: Sequence[ImageRecord]) -> dict:
    """`evaluate` on a split embedded already, for callers that also look at the embeddings."""
    has_outfits = bool((split.gallery_outfits >= 0).all())
    return {
        "standard": standard_protocol(split),
        "clothes_changing": clothes_changing_protocol(split) if has_outfits else None,
        "disentanglement": disentanglement_report(
            split.images["identity"], split.images["clothing"], records
        ),
        "gate": None
        if split.gate is None
        else {"mean": float(split.gate.mean()), "std": float(split.gate.std())},
    }


def format_results(results: dict[str, dict]) -> str:
    """A plain-text table with one column per evaluated model (name -> `evaluate` output)."""
    names = list(results)
    rows: list[tuple[str, list[str]]] = []

    def add(label: str, values: list[float | None], fmt: str = "{:.2f}") -> None:
        rows.append((label, ["-" if value is None else fmt.format(value) for value in values]))

    first = next(iter(results.values()))
    for protocol in ("standard", "clothes_changing"):
        if first.get(protocol) is None:
            continue
        for mode in first[protocol]:
            for metric in SUMMARY_METRICS:
                add(f"{protocol} {mode} {metric}", [r[protocol][mode][metric] for r in results.values()])
    report = first["disentanglement"]
    add("CKA(identity, clothing)", [r["disentanglement"]["cka"] for r in results.values()], "{:.3f}")
    add("HSIC(identity, clothing)", [r["disentanglement"]["hsic"] for r in results.values()], "{:.4f}")
    for probe_name in ("clothing_from_identity", "identity_from_clothing"):
        for factor in report.get(probe_name, {}):
            cells = [r["disentanglement"][probe_name][factor] for r in results.values()]
            rows.append(
                (
                    f"probe {probe_name} {factor} (chance)",
                    [f"{c['accuracy']:.1f} ({c['chance']:.1f})" for c in cells],
                )
            )
    width = max(len(label) for label, _ in rows)
    column = max(12, *(len(name) for name in names))
    lines = [" " * width + "".join(f"  {name:>{column}}" for name in names)]
    lines += [f"{label:<{width}}" + "".join(f"  {cell:>{column}}" for cell in cells) for label, cells in rows]
    return "\n".join(lines)
