"""`disreid quickstart`: SynthPedes, disreid and its baseline trained and compared, on a CPU, in minutes."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

from disreid.cli import add_overrides_argument

QUICKSTART_RUNS = {"disreid": "synth_tiny", "baseline": "synth_baseline"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "quickstart",
        help="make SynthPedes, train disreid and a baseline, compare them",
        description="The whole pipeline on the embedded SynthPedes data set: generate it, train disreid "
        "(configs/synth_tiny.yaml) and its baseline without disentanglement (configs/synth_baseline.yaml), "
        "evaluate both and print them side by side. An interrupted quickstart resumes where it stopped.",
    )
    parser.add_argument("--out", type=Path, default=Path("runs/quickstart"), help="output folder")
    add_overrides_argument(parser, "a field of both configs")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from disreid.config import load_config
    from disreid.data import load_records
    from disreid.evaluation import format_results
    from disreid.io import atomic_write_text
    from disreid.report import RESULTS_FILE, make_report
    from disreid.training import LAST, Trainer

    start = time.perf_counter()
    out: Path = args.out
    data_root = out / "synthpedes"
    results = {}
    for name, config_name in QUICKSTART_RUNS.items():
        config = load_config(config_name, [f"data.root={data_root}", *args.overrides])
        run_dir = out / name
        print(f"== training {name} ({config_name}) in {run_dir}")
        trainer = Trainer(config, run_dir, resume=(run_dir / LAST).exists())
        trainer.fit()
        print(f"== evaluating {name} on the SynthPedes test split")
        report = make_report(run_dir, device=trainer.device, progress=False)
        print(f"report: {report}")
        results[name] = json.loads((report.parent / RESULTS_FILE).read_text())

    print(format_results(results))
    summary = {**results, "seconds": round(time.perf_counter() - start, 1)}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    search_examples(out, config, load_records(config.data, "test"))
    print(f"quickstart finished in {summary['seconds']:.0f} s; summary in {out / 'summary.json'}")
    return 0


def search_examples(out: Path, config, records) -> None:  # noqa: ANN001
    """What a practitioner does next: index a folder of images (here the test gallery) with the trained
    model, then search it by description in each mode."""
    from disreid.model import DisReID
    from disreid.retrieval import MODES, GalleryIndex, search

    gallery = out / "gallery"
    if not gallery.exists():
        gallery.mkdir(parents=True)
        for record in records:
            link = gallery / f"{record.person_id:05d}_{record.path.name}"
            try:
                os.link(record.path, link)
            except OSError:
                shutil.copyfile(record.path, link)
    model_dir = out / "disreid" / "best" / "model"
    print(f"== indexing the test gallery ({len(records)} images) with {model_dir}")
    index = GalleryIndex.build(
        DisReID.from_pretrained(model_dir),
        gallery,
        mean=config.data.mean,
        std=config.data.std,
        model_source=str(model_dir),
    )
    index.save(out / "index")
    query = records[0].captions[0]
    print(
        f"== searching it (disreid search --index {out / 'index'} QUERY --mode MODE); the query, "
        f"a caption of person {records[0].person_id}:\n   {query}"
    )
    for mode in MODES:
        result = search(index, query, mode, k=5)
        print(f"-- {mode}: {result.text}")
        for hit in result.hits:
            mark = "*" if hit.path.startswith(f"{records[0].person_id:05d}_") else " "
            print(f"   {mark} {hit.score:.3f}  {hit.path}")
    print("   (* the query's person)")
