"""`disreid report`: the figures of what a trained run learned and where it fails, on one HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path

from disreid.cli import add_device_argument, add_split_argument


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="write figures and an HTML report of a trained run",
        description="Evaluate a run of `disreid train` on a split and write RUN/report/report.html with its "
        "figures: training curves, the gate, t-SNE maps of the identity and clothing embeddings, leakage "
        "probes and retrieval examples (including a clothes-changing case).",
    )  # fmt: skip
    parser.add_argument("run", type=Path, help="a run folder of `disreid train`")
    add_split_argument(parser)
    parser.add_argument("--data", type=Path, help="data set folder (default: the run's)")
    parser.add_argument("--examples", type=int, default=4, help="retrieval example queries per figure")
    add_device_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from disreid.report import make_report

    path = make_report(args.run, args.split, data_root=args.data, device=args.device, examples=args.examples)
    print(f"report written to {path}")
    return 0
