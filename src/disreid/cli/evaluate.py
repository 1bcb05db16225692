"""`disreid evaluate`: the standard and clothes-changing protocols and the disentanglement report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from disreid.cli import add_device_argument, add_split_argument


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a trained model on a data split",
        description="Evaluate a model: standard protocol (full, identity, clothing), clothes-changing "
        "protocol (where outfits are labelled) and the disentanglement report.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", type=Path, help="a run folder of `disreid train` (its best model)")
    source.add_argument("--model", type=Path, help="a model folder written by save_pretrained")
    parser.add_argument(
        "--data", type=Path, help="data set folder (default: the run's; with --model: data/synthpedes)"
    )
    parser.add_argument("--dataset", help="data set name (default: the run's, else synthpedes)")
    add_split_argument(parser)
    add_device_argument(parser)
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from disreid.config import DataConfig
    from disreid.data import load_records
    from disreid.data.build import as_found
    from disreid.evaluation import evaluate, format_results, probe_records_of, too_few_persons
    from disreid.model import DisReID
    from disreid.training import trained_model_dir
    from disreid.training.run import run_config
    from disreid.training.trainer import resolve_device

    if args.run:
        model_dir, data = trained_model_dir(args.run), run_config(args.run, args.data).data
    else:
        model_dir, data = args.model, DataConfig()
        if args.data:
            data.root = str(args.data)
    if args.dataset:
        data.dataset = args.dataset
    if not args.run:  # a model alone asks for no particular data set: read the one at --data as it is
        data = as_found(data)
    device = resolve_device(args.device)
    model = DisReID.from_pretrained(model_dir).to(device)
    records = load_records(data, args.split)
    if warning := too_few_persons(records, args.split):
        print(f"warning: {warning}", file=sys.stderr)
    results = evaluate(model, records, data, device, probe_records_of(data))
    print(format_results({str(model_dir): results}))
    if args.json:
        from disreid.io import atomic_write_text

        atomic_write_text(args.json, json.dumps(results, indent=2) + "\n")
    return 0
