"""`disreid train`: train one experiment from its YAML file."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train a model from an experiment config",
        description="Train a model. The run folder receives the resolved config, checkpoints (last/, best/), "
        "metrics.csv, validation.csv and TensorBoard event files.",
    )
    parser.add_argument("--config", type=Path, help="experiment YAML file, e.g. configs/synth_tiny.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field, e.g. --set train.epochs=5 (repeatable)")
    parser.add_argument("--out", type=Path, help="run folder (default: runs/<config name>)")
    parser.add_argument("--resume", action="store_true", help="continue from the run folder's last checkpoint")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from disreid.training import distributed

    with distributed.process_group():  # under torchrun: one process per GPU, see training/distributed.py
        return _train(args)


def _train(args: argparse.Namespace) -> int:
    from disreid.training import Trainer, distributed

    config = load_config(args.config, args.overrides)
    out = args.out or Path("runs") / (args.config.stem if args.config else "default")
    if args.resume:
        config_path = out / "config.yaml"
        if args.config is None and config_path.is_file():
            config = load_config(config_path, args.overrides)
    elif (out / "last").exists():
        raise ValueError(f"{out} already holds a run: pass --resume to continue it or --out for a new one")
    best = Trainer(config, out, resume=args.resume).fit()
    if distributed.rank() == 0:
        print(f"best validation R@1 {best:.2f}; model in {out / 'best' / 'model'}")
    return 0
