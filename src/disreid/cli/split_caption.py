"""`disreid split-caption`: show the identity text and clothing text the splitter makes of a caption."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "split-caption",
        help="split captions into identity text and clothing text",
        description="Split each caption, clause by clause, into the identity text (gender, age, build, hair, "
        "face, glasses, posture) and the clothing text (garments, footwear, bags, accessories, carried "
        "objects) that training and identity-only search use. Either part is empty when the caption names "
        "none of it.",
    )
    parser.add_argument(
        "captions",
        nargs="+",
        metavar="CAPTION",
        help="a caption, or - to read one caption per line from stdin",
    )
    parser.add_argument(
        "--json", action="store_true", help='print one {"identity": ..., "clothing": ...} object per line'
    )
    parser.set_defaults(func=run)


def _captions(arguments: list[str]) -> Iterator[str]:
    for argument in arguments:
        if argument == "-":
            yield from (line.strip() for line in sys.stdin if line.strip())
        else:
            yield argument


def run(args: argparse.Namespace) -> int:
    from disreid.text import split_caption

    for index, caption in enumerate(_captions(args.captions)):
        identity, clothing = split_caption(caption)
        if args.json:
            print(json.dumps({"identity": identity, "clothing": clothing}, ensure_ascii=False))
            continue
        if index:
            print()  # a blank line between captions
        print(f"identity: {identity}\nclothing: {clothing}")
    return 0
