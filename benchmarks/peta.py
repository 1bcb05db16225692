"""disreid on PETA's real photos: `configs/peta.yaml`, its baseline (`peta_baseline.yaml`) and the same
recipe started from the quickstart's SynthPedes model, over seeds, each evaluated on the test split and on
VIPeR (a domain never trained on). Every figure comes from the commands a user runs, run here one after
another: `disreid train --config ... --set data.root=DIR --set train.seed=S` and `disreid evaluate --run
RUN --split SPLIT --json`. A run already trained in --runs is evaluated, not trained again.

    disreid prepare --dataset peta --root "DIR/PETA dataset"
    disreid quickstart                      # for the variant from_synth: runs/quickstart/disreid
    python benchmarks/peta.py --data "DIR/PETA dataset" --seeds 0 1 2
    python benchmarks/peta.py --data ... --split val --name tune_lr --set train.lr=2e-3   # tuning
    python benchmarks/peta.py --data ... --gallery runs/peta_test_crops    # the test crops, to index

Training time is the wall time of `disreid train`, alone on the machine only with --jobs 1 (the default).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import _runs as runs  # noqa: E402
from _timing import save  # noqa: E402

MODES = ("full", "identity", "clothing")
CONFIGS = {"disreid": "peta", "baseline": "peta_baseline", "from_synth": "peta"}  # from_synth: init_from


def train(variant: str, seed: int, args: argparse.Namespace, threads: int) -> dict:
    """Train one run (unless --runs holds it already) and return its command and wall time."""
    sets = [f"data.root={args.data}", f"train.seed={seed}", *args.set]
    if variant == "from_synth":
        sets.append(f"train.init_from={args.synth_model}")
    if variant == "baseline":  # loss weights are disreid's alone (the quickstart's rule)
        sets = [value for value in sets if not value.startswith("loss.")]
    return runs.train(args.runs / f"{variant}_seed{seed}", CONFIGS[variant], sets, threads)


def summary(result: dict) -> dict:
    """The figures the README reports of one evaluation."""
    limit = result["captions_limit"]["standard"]
    figures = {}
    for mode in MODES:
        scores = result["standard"][mode]
        figures[mode] = {
            "R1": scores["R1"],
            "mAP": scores["mAP"],
            "limit_R1": limit[mode]["R1"],
            "limit_mAP": limit[mode]["mAP"],
            "share_R1": scores["R1"] / limit[mode]["R1"],
        }
    probes = result["disentanglement"].get("probes", {})
    figures["leakage"] = {direction: row["leakage"] for direction, row in probes.get("leakage", {}).items()}
    figures["probes"] = probes.get("factors", {})
    return figures


def export_gallery(data: Path, split: str, out: Path) -> None:
    """Link (or copy) the images of one split into `out`, a folder for `disreid index` and the demo."""
    from disreid.data.peta import read_peta

    records = read_peta(data, split)
    for record in records:
        target = out / record.path.relative_to(data.resolve() if record.path.is_absolute() else data)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            try:
                os.link(record.path, target)
            except OSError:  # another file system
                shutil.copy2(record.path, target)
    print(f"{len(records)} {split} images in {out}: disreid index --model RUN --images {out} --out INDEX")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, required=True, help="the PETA folder `disreid prepare` wrote into"
    )
    parser.add_argument("--runs", type=Path, default=Path("runs/peta_benchmark"), help="where runs go")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--synth-model", type=Path, default=Path("runs/quickstart/disreid"),
                        help="the SynthPedes run (or model) the variant from_synth starts from")  # fmt: skip
    parser.add_argument("--split", nargs="+", default=["test", "viper"], help="splits evaluated")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="an override of every run's config (loss.* not the baseline's)")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=1, help="runs trained side by side (threads shared)")
    parser.add_argument("--name", default="peta", help="results file: benchmarks/results/NAME.json")
    parser.add_argument("--gallery", type=Path, help="only put the first --split's images into this folder")
    args = parser.parse_args()
    if args.gallery:
        export_gallery(args.data, args.split[0], args.gallery)
        return
    args.runs.mkdir(parents=True, exist_ok=True)
    jobs = [(variant, seed) for seed in args.seeds for variant in args.variants]
    trained = runs.side_by_side(lambda job, threads: train(*job, args, threads), jobs, args.jobs)
    for (variant, seed), run in zip(jobs, trained, strict=True):
        run.update(variant=variant, seed=seed)
        run["splits"] = {split: summary(runs.evaluate(run["run"], split)) for split in args.split}
        print(f"{variant} seed {seed} ({run['seconds'] / 60:.1f} min, {run['threads']} threads)")
        for split, figures in run["splits"].items():
            cells = [f"{m} {figures[m]['R1']:.2f} ({figures[m]['share_R1']:.0%})" for m in MODES]
            leak = ", ".join(
                f"{d} {v:.2f}" if v is not None else f"{d} -" for d, v in figures["leakage"].items()
            )
            print(f"  {split:<6} R@1 {', '.join(cells)}; leakage {leak}")
    means = {}
    for variant in args.variants:
        for split in args.split:
            rows = [run["splits"][split] for run in trained if run["variant"] == variant]
            means[f"{variant}/{split}"] = {
                mode: {key: statistics.mean(row[mode][key] for row in rows) for key in rows[0][mode]}
                for mode in MODES
            }
    path = save(args.name, {"data": str(args.data), "overrides": args.set, "runs": trained, "means": means})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
