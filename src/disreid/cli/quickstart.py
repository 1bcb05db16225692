"""`disreid quickstart`: SynthPedes, disreid and its baseline trained and compared, on a CPU, in minutes."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from disreid.cli import add_overrides_argument

if TYPE_CHECKING:
    from disreid.config import ExperimentConfig

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
    parser.add_argument(
        "--jobs",
        type=int,
        choices=(1, 2),
        help="runs trained at once (default: 2 on a CPU of at least 2 cores, each with half of them; "
        "small models use two cores better as two runs than as one)",
    )
    add_overrides_argument(
        parser, "a field of both configs; loss.* fields of disreid's alone (the baseline keeps its losses)"
    )
    parser.set_defaults(func=run)


def overrides_for(run: str, overrides: list[str]) -> list[str]:
    """The overrides that apply to `run`: all of them to disreid; to the baseline all but the loss weights.
    The baseline has no identity or clothing part, so a part's term would act on its one embedding (a
    weighed `text_decorrelation` would hold it uncorrelated with the captions it must match)."""
    if run == "disreid":
        return list(overrides)
    return [override for override in overrides if not override.strip().startswith("loss.")]


def run(args: argparse.Namespace) -> int:
    from disreid.config import load_config
    from disreid.data import load_records
    from disreid.evaluation import format_results
    from disreid.io import atomic_write_text
    from disreid.training.trainer import resolve_device

    start = time.perf_counter()
    out: Path = args.out
    configs = {
        name: load_config(
            config_name, [f"data.root={out / 'synthpedes'}", *overrides_for(name, args.overrides)]
        )
        for name, config_name in QUICKSTART_RUNS.items()
    }
    config = configs["disreid"]
    test_records = load_records(config.data, "test")  # generates SynthPedes, once, before the runs start
    cores = os.cpu_count() or 1
    jobs = args.jobs or (2 if resolve_device(config.train.device).type == "cpu" and cores >= 2 else 1)
    if jobs == 1:
        results = {name: train_and_report(out / name, run_config) for name, run_config in configs.items()}
    else:
        threads = cores // 2
        print(f"== training {' and '.join(configs)} side by side, {threads} CPU thread(s) each")
        spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited torch threads
        with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
            futures = {
                name: pool.submit(train_and_report, out / name, run_config, threads, position)
                for position, (name, run_config) in enumerate(configs.items())
            }
            results = {name: future.result() for name, future in futures.items()}

    print(format_results(results))
    summary = {**results, "seconds": round(time.perf_counter() - start, 1)}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    search_examples(out, config, test_records)
    print(f"quickstart finished in {summary['seconds']:.0f} s; summary in {out / 'summary.json'}")
    return 0


def train_and_report(
    run_dir: Path, config: ExperimentConfig, threads: int | None = None, bar_position: int = 0
) -> dict:
    """Train one run (resuming it if it was interrupted), write its report and return its results,
    as `disreid evaluate` gives them. With `threads`, in a process of its own beside the other run."""
    import torch

    from disreid.report import RESULTS_FILE, make_report
    from disreid.training import LAST, Trainer
    from disreid.training.checkpoint import has_checkpoint

    if threads:
        torch.set_num_threads(threads)
        os.environ["TQDM_POSITION"] = str(bar_position)  # the two runs' progress bars on separate lines
    print(f"== training {run_dir.name} in {run_dir}", flush=True)
    resume = has_checkpoint(run_dir / LAST)
    if not resume and run_dir.exists():  # the quickstart's own run, stopped before its first checkpoint
        shutil.rmtree(run_dir)
    trainer = Trainer(config, run_dir, resume=resume)
    trainer.fit()
    report = make_report(run_dir, device=trainer.device, progress=False)
    print(f"== {run_dir.name} evaluated on the SynthPedes test split; report: {report}", flush=True)
    return json.loads((report.parent / RESULTS_FILE).read_text())


def search_examples(out: Path, config: ExperimentConfig, records) -> None:  # noqa: ANN001
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
        out / "index",
        mean=config.data.mean,
        std=config.data.std,
        model_source=str(model_dir),
    )
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
