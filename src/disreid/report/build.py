"""`make_report`: a run folder in, `RUN/report/report.html` and its figures out."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import torch
from matplotlib.figure import Figure

from disreid.data import build_transforms, load_records
from disreid.evaluation import evaluate_embedded, probe_records_of
from disreid.evaluation.evaluate import embed_probe_fit
from disreid.evaluation.metrics import SUMMARY_METRICS
from disreid.evaluation.protocols import embed_split
from disreid.io import atomic_directory
from disreid.model import DisReID
from disreid.report import figures
from disreid.report.html import Section, Table, write_html
from disreid.training.checkpoint import BEST, CONFIG_FILE, trained_model_dir
from disreid.training.run import run_config
from disreid.training.trainer import resolve_device

REPORT_DIR, REPORT_FILE = "report", "report.html"
RESULTS_FILE = "results.json"  # beside the page: its numbers as `disreid evaluate --json` writes them
# What to look for in each figure, shown above it.
GUIDES = {
    "Training curves": "Each loss term that trains (non-zero weight), the learning rate and, where the "
    "run validated, the validation metrics, against the training step.",
    "Gate": "The gate splits every feature between identity (g near 1) and clothing (g near 0): values "
    "spread away from 0.5 mean that the model uses the split.",
    "Embeddings": "Identity should gather a person's images across outfits; clothing should gather an "
    "outfit's images across persons.",
    "Leakage": "Linear probes fit on training persons and scored on the evaluated ones (balanced accuracy): "
    "each factor read from the embedding that should not hold it (the leak), beside the part meant to hold "
    "it and the full embedding (the controls: they show the probe can read the factor at all) and 1/k. "
    "Leakage is the leak's share of the own part's reading above 1/k, averaged over perceived factors. The "
    "floor (diamonds) reads each factor from the other kind's true labels: the leakage that ties in the data "
    "alone allow (women and skirts), near 1/k where the factors are independent (SynthPedes).",
    "Retrieval examples": "Test queries drawn at random, half where full mode ranks a correct image first "
    "and half where it does not, each in full and in identity mode.",
    "Clothes-changing examples": "The images of the query's own (person, outfit) are removed from the "
    "gallery: identity mode must find the person in other clothes. Queries drawn as above, by identity mode.",
}


def make_report(
    run_dir: str | Path,
    split: str = "test",
    *,
    data_root: str | Path | None = None,
    device: torch.device | str = "auto",
    examples: int = 4,
    progress: bool = True,
) -> Path:
    """Evaluate the run's best model (else its last) on `split` and write `RUN/report/`: `report.html`
    with the metrics, the config and one PNG per figure, and the metrics in `results.json`. Figures that
    need what the run or the data lacks (validation, a gate, outfit labels) are left out with a note.
    Returns the page's path."""
    run_dir = Path(run_dir)
    model_dir, config = trained_model_dir(run_dir), run_config(run_dir, data_root)
    device = resolve_device(device) if isinstance(device, str) else device

    model = DisReID.from_pretrained(model_dir).to(device)
    records = load_records(config.data, split)
    transform = build_transforms(
        model.config.image_size, train=False, mean=config.data.mean, std=config.data.std
    )
    embedded = embed_split(model, records, transform, device=device, progress=progress)
    probe_fit = embed_probe_fit(model, probe_records_of(config.data), transform, device, progress)
    results = evaluate_embedded(embedded, records, probe_fit)
    training, validation = _read_csv(run_dir / "metrics.csv"), _read_csv(run_dir / "validation.csv")
    queries = figures.pick_queries(embedded, examples)
    changing = (
        figures.pick_queries(embedded, examples, "identity", clothes_changing=True)
        if results["clothes_changing"]
        else []
    )
    with atomic_directory(run_dir / REPORT_DIR) as out:

        def save(title: str, figure: Figure, remark: str = "") -> Section:
            name = title.lower().replace(" ", "_").replace("-", "_") + ".png"
            figure.savefig(out / name, dpi=100)
            return Section(title, GUIDES[title] + remark, name)

        sections = [
            save(
                "Training curves",
                figures.training_curves(training, validation, asdict(config.loss)),
                "" if validation else " The run folder has no validation.csv: no validation curves.",
            )
            if training
            else Section("Training curves", "the run folder has no metrics.csv."),
            save("Gate", figures.gate_figure(embedded.gate))
            if embedded.gate is not None
            else Section("Gate", "this model has no DisentangleModule, hence no gate."),
            save("Embeddings", figures.embedding_maps(embedded)),
            save("Leakage", figures.leakage_figure(results["disentanglement"]))
            if results["disentanglement"].get("probes")
            else Section("Leakage", f"the probes need ground-truth factors; {config.data.dataset} has none."),
            save("Retrieval examples", figures.retrieval_examples(embedded, records, queries)),
            save(
                "Clothes-changing examples",
                figures.retrieval_examples(embedded, records, changing, clothes_changing=True),
            )
            if changing
            else Section(
                "Clothes-changing examples",
                f"no {split} person of {config.data.dataset} is labelled in several outfits.",
            ),
        ]
        meta = (
            f"model {model_dir.relative_to(run_dir)}, {config.data.dataset} {split} split ({len(records)} "
            f"images, {len(embedded.query_pids)} queries), written {datetime.now():%Y-%m-%d %H:%M}"
        )
        config_text = (run_dir / CONFIG_FILE).read_text(encoding="utf-8")
        title = f"disreid report: {run_dir.resolve().name}"
        write_html(out / REPORT_FILE, title, meta, _tables(results, run_dir, split), sections, config_text)
        (out / RESULTS_FILE).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return run_dir / REPORT_DIR / REPORT_FILE


def _read_csv(path: Path) -> list[dict[str, float]]:
    """The rows of a training log as numbers; none where the run did not write it."""
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return [{key: float(value) for key, value in row.items()} for row in csv.DictReader(handle)]


def _tables(results: dict, run_dir: Path, split: str) -> list[Table]:
    tables = []
    name = split.capitalize()
    for protocol, title in (
        ("standard", f"{name} retrieval (%)"),
        ("clothes_changing", f"{name}, clothes changing (%)"),
    ):
        if results[protocol] is None:
            continue
        rows = [
            [mode, *(f"{scores[m]:.2f}" for m in SUMMARY_METRICS)]
            for mode, scores in results[protocol].items()
        ]
        columns = ["mode", *SUMMARY_METRICS]
        if results["captions_limit"]:  # the oracle's R@1 and mAP, and the share of them reached
            limit = results["captions_limit"][protocol]
            columns += ["limit R1 / mAP", "share R1 / mAP"]
            for row, (mode, scores) in zip(rows, results[protocol].items(), strict=True):
                bound = limit[mode]
                row += [
                    f"{bound['R1']:.2f} / {bound['mAP']:.2f}",
                    f"{scores['R1'] / bound['R1']:.0%} / {scores['mAP'] / bound['mAP']:.0%}",
                ]
        tables.append(Table(title, columns, rows))
    best = run_dir / BEST / "metrics.json"
    if best.is_file():
        row = json.loads(best.read_text(encoding="utf-8"))
        tables.append(
            Table(
                "Best validation (full mode, %)",
                ["epoch", "step", *SUMMARY_METRICS],
                [[str(row["epoch"]), str(row["step"]), *(f"{row[m]:.2f}" for m in SUMMARY_METRICS)]],
            )
        )
    report, gate = results["disentanglement"], results["gate"]
    rows = [
        ["CKA(identity, clothing)", f"{report['cka']:.3f}"],
        ["HSIC(identity, clothing)", f"{report['hsic']:.4f}"],
    ]
    if gate is not None:
        rows.append(["gate mean ± std", f"{gate['mean']:.3f} ± {gate['std']:.3f}"])
    for direction, summary in report.get("probes", {}).get("leakage", {}).items():
        value = "-" if summary["leakage"] is None else f"{summary['leakage']:.2f}"
        if summary.get("floor") is not None:
            value += f" (floor {summary['floor']:.2f})"
        unseen = ", ".join(summary["not_perceived"]) or "none"
        rows.append(
            [f"leakage {direction.replace('_', ' ')} (0 none, 1 full)", f"{value}; not perceived: {unseen}"]
        )
    tables.append(Table("Disentanglement (lower dependence is better)", ["measure", "value"], rows))
    return tables
