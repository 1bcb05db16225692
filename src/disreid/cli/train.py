"""`disreid train`: train one experiment from its YAML file."""

from __future__ import annotations

import argparse
from pathlib import Path

from disreid.cli import add_overrides_argument


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model from an experiment config",
        description="Train a model. The run folder receives the resolved config, checkpoints (last/, best/), "
        "metrics.csv, validation.csv and TensorBoard event files.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE_OR_NAME",
        help="an experiment YAML file, or the name of a config shipped with disreid, e.g. synth_tiny or "
        "cuhk_pedes (a name it does not know lists them; default: the built-in defaults)",
    )
    add_overrides_argument(parser)
    parser.add_argument("--out", type=Path, help="run folder (default: runs/<config name>)")
    parser.add_argument(
        "--resume", action="store_true", help="continue from the run folder's last checkpoint"
    )
    parser.add_argument(
        "--no-report",
        dest="report",
        action="store_false",
        help="skip the figures and report.html written at the end (see `disreid report`)",
    )
    parser.set_defaults(func=run, kept=kept)


def run_folder(args: argparse.Namespace) -> Path:
    return args.out or Path("runs") / (args.config.stem if args.config else "default")


def kept(args: argparse.Namespace) -> str:
    """After Ctrl-C: the last finished epoch's checkpoint, and how to go on from it."""
    from disreid.training.checkpoint import trainer_state

    last = run_folder(args) / "last"
    state = trainer_state(last)
    if state is None:
        return f"no epoch had finished: nothing to resume in {run_folder(args)}"
    return f"{last} holds epoch {state['epoch']}: run the same command with --resume to go on"


def run(args: argparse.Namespace) -> int:
    from disreid.config import load_config
    from disreid.training import Trainer, distributed
    from disreid.training.trainer import resolve_device

    config = load_config(args.config, args.overrides)
    out = run_folder(args)
    if args.resume and args.config is None and (out / "config.yaml").is_file():
        config = load_config(out / "config.yaml", args.overrides)
    with distributed.process_group(resolve_device(config.train.device)):  # under torchrun: one per device
        best = Trainer(config, out, resume=args.resume).fit()
        if distributed.rank() == 0:
            score = f"best validation {config.train.select_by} {best:.2f}" if best >= 0 else "not validated"
            print(f"{score}; model in {out / 'best' / 'model'}")
            if args.report:
                from disreid.report import make_report

                try:
                    print(f"report: {make_report(out, device=config.train.device, progress=False)}")
                except (ValueError, FileNotFoundError) as error:  # the model is saved: say why, go on
                    print(f"no report: {error}")
    return 0
