"""The `disreid` command: one sub-command per module in this package."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from disreid import __version__

# Each module defines `add_parser(subparsers)`, which registers its sub-command and sets `func` (and `kept`,
# what a Ctrl-C leaves on disk, where it writes something worth resuming).
COMMANDS = [
    "synth",
    "split_caption",
    "prepare",
    "index",
    "search",
    "demo",
    "train",
    "evaluate",
    "quickstart",
    "report",
]


def add_overrides_argument(parser: argparse.ArgumentParser, target: str = "a config field") -> None:
    """`--set KEY=VALUE`, repeatable: how every command that reads an experiment config overrides it."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"override {target}, e.g. --set train.epochs=5 (repeatable)",
    )


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    """`--device`: where every command that runs a model runs it."""
    parser.add_argument(
        "--device", default="auto", help="auto (CUDA when available, the default), cpu or cuda"
    )


def add_index_argument(parser: argparse.ArgumentParser) -> None:
    """`--index`: the index folder that searching commands read."""
    parser.add_argument(
        "--index",
        type=Path,
        required=True,
        metavar="INDEX_DIR",
        help="an index folder made by `disreid index`",
    )


def add_split_argument(parser: argparse.ArgumentParser) -> None:
    """`--split`: which split of the data set a command evaluates."""
    parser.add_argument(
        "--split", default="test", help="the data split to evaluate: test (default), val or train"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="disreid", description="Text-to-person retrieval with identity/clothing disentanglement."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"disreid.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError) as error:  # bad input or settings, a missing, damaged or read-only file
        print(f"disreid {args.command}: error: {describe(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: what is on disk, not where the code was
        kept = args.kept(args) if hasattr(args, "kept") else "every file already saved is whole"
        print(f"\ndisreid {args.command}: interrupted; {kept}", file=sys.stderr)
        return 130


def describe(error: Exception) -> str:
    """One line for the user: the library's own message, or the file and the system's reason."""
    if isinstance(error, OSError) and error.filename and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return " ".join(str(error).splitlines()) or type(error).__name__
