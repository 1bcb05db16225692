"""Everything `disreid evaluate` reports about one model on one split."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from PIL import Image

from disreid.config import DataConfig
from disreid.data import ImageRecord, build_transforms
from disreid.data.build import WITH_FACTORS, load_records
from disreid.evaluation.disentanglement import EmbeddedImages, disentanglement_report, probe_sample
from disreid.evaluation.metrics import SUMMARY_METRICS
from disreid.evaluation.oracle import captions_limit
from disreid.evaluation.protocols import (
    EmbeddedSplit,
    changes_clothes,
    clothes_changing_protocol,
    embed_images,
    embed_split,
    standard_protocol,
)
from disreid.model import DisReID

MIN_PERSONS = 20  # below this, chance alone scores R@1 over 5 %, and one person moves it by as much


def too_few_persons(records: Sequence[ImageRecord], split: str) -> str | None:
    """A warning where a split holds too few persons for its figures to mean anything (a 40-person set
    drawn 0.6/0.1/0.3 tests on 12; on 1, every model scores R@1 100), else None."""
    persons = len({record.person_id for record in records})
    if persons >= MIN_PERSONS:
        return None
    return (
        f"the {split} split has {persons} persons: R@1 by chance alone is {100 / max(1, persons):.0f} %, "
        f"and figures on fewer than {MIN_PERSONS} persons say little"
    )


def evaluate(
    model: DisReID,
    records: Sequence[ImageRecord],
    data: DataConfig,
    device: torch.device | str | None = None,
    probe_records: Sequence[ImageRecord] | None = None,
    progress: bool = True,
) -> dict:
    """`{"standard": {mode: rank dict}, "clothes_changing": {mode: rank dict}, "captions_limit": ...,
    "disentanglement": {...}, "gate": ...}`.

    The clothes-changing protocol needs persons labelled in several outfits and is left out (None) where
    the data has none; the captions' limit needs SynthPedes or PETA. Leakage probes are fit on
    `probe_records` (a few images of each training person, see `probe_records_of`), else on half of the
    evaluated persons.
    """
    transform = build_transforms(model.config.image_size, train=False, mean=data.mean, std=data.std)
    split = embed_split(model, records, transform, device=device, progress=progress)
    return evaluate_embedded(
        split, records, embed_probe_fit(model, probe_records, transform, device, progress)
    )


def embed_probe_fit(
    model: DisReID,
    probe_records: Sequence[ImageRecord] | None,
    transform: Callable[[Image.Image], torch.Tensor],
    device: torch.device | str | None = None,
    progress: bool = True,
) -> EmbeddedImages | None:
    """The embedded images that leakage probes are fit on; None without records that carry factors."""
    if not probe_records or probe_records[0].factors is None:
        return None
    embeddings, _ = embed_images(model, probe_records, transform, device=device, progress=progress)
    return EmbeddedImages(embeddings, probe_records)


def probe_records_of(data: DataConfig, per_person: int = 2) -> list[ImageRecord] | None:
    """The training images that leakage probes are fit on, where the data set has factors and a
    training split (SynthPedes, PETA); None elsewhere."""
    if data.dataset not in WITH_FACTORS:
        return None
    try:
        return probe_sample(load_records(data, "train"), per_person)
    except ValueError:  # no training split in this folder
        return None


def evaluate_embedded(
    split: EmbeddedSplit, records: Sequence[ImageRecord], probe_fit: EmbeddedImages | None = None
) -> dict:
    """`evaluate` on a split embedded already, for callers that also look at the embeddings."""
    return {
        "standard": standard_protocol(split),
        "clothes_changing": clothes_changing_protocol(split) if changes_clothes(split) else None,
        "captions_limit": captions_limit(records),
        "disentanglement": disentanglement_report(EmbeddedImages(split.images, records), probe_fit),
        "gate": None
        if split.gate is None
        else {"mean": float(split.gate.mean()), "std": float(split.gate.std())},
    }


def format_results(results: dict[str, dict]) -> str:
    """A plain-text table with one column per evaluated model (name -> `evaluate` output). Where the data
    knows what its captions state, R@1 and mAP show their share of the captions' limit, which has a column
    of its own."""
    names = list(results)
    first = next(iter(results.values()))
    limit = first.get("captions_limit")
    rows: list[tuple[str, list[str]]] = []
    for protocol in ("standard", "clothes_changing"):
        if first.get(protocol) is None:
            continue
        for mode in first[protocol]:
            for metric in SUMMARY_METRICS:
                bound = ((limit or {}).get(protocol) or {}).get(mode, {}).get(metric)
                cells = []
                for result in results.values():
                    value = result[protocol][mode][metric]
                    cells.append(f"{value:.2f}" + (f" ({value / bound:.0%})" if bound else ""))
                if limit:
                    cells.append("" if bound is None else f"{bound:.2f}")
                rows.append((f"{protocol} {mode} {metric}", cells))
    reports = [result["disentanglement"] for result in results.values()]
    rows.append(("CKA(identity, clothing)", [f"{report['cka']:.3f}" for report in reports]))
    rows.append(("HSIC(identity, clothing)", [f"{report['hsic']:.4f}" for report in reports]))
    if "probes" in reports[0]:
        for direction in reports[0]["probes"]["leakage"]:
            values = [report["probes"]["leakage"][direction]["leakage"] for report in reports]
            rows.append((f"leakage {direction}", ["-" if v is None else f"{v:.2f}" for v in values]))
        for direction in reports[0]["probes"]["leakage"]:
            values = [report["probes"]["leakage"][direction].get("floor") for report in reports]
            rows.append((f"leakage floor {direction}", ["-" if v is None else f"{v:.2f}" for v in values]))
        for factor, row in reports[0]["probes"]["factors"].items():
            cells = [report["probes"]["factors"][factor] for report in reports]
            label = f"probe {factor} leak/own/full/floor (1/k {row['chance']:.0f})"
            rows.append(
                (label, [f"{c['leak']:.0f}/{c['own']:.0f}/{c['full']:.0f}/{c['floor']:.0f}" for c in cells])
            )
    header = names + (["captions' limit"] if limit else [])
    width = max(len(label) for label, _ in rows)
    column = max(14, *(len(name) for name in header))
    lines = [" " * width + "".join(f"  {name:>{column}}" for name in header)]
    lines += [f"{label:<{width}}" + "".join(f"  {cell:>{column}}" for cell in cells) for label, cells in rows]
    if "probes" in reports[0]:
        lines.append(
            f"(probes fit on {reports[0]['probes']['fit_on']}; balanced accuracy, %; floor: the factor read "
            "from the other kind's true labels, the leak that ties in the data alone allow)"
        )
    return "\n".join(lines)
