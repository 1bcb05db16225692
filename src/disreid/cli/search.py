"""`disreid search`: find the images of an index that best match a description."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from disreid.cli import add_index_argument

# disreid.retrieval.MODES, written out so that building the parser does not import faiss and torch
MODES = ("full", "identity", "clothing")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "search",
        help="find a person in an index by description",
        description="Rank the images of an index (made by `disreid index`) by how well they match a "
        "description: the whole of it (full), its identity part alone, which still finds the person "
        "in other clothes (identity), or its clothing part alone (clothing).",
    )
    parser.add_argument("query", help='a description, e.g. "a woman with long black hair in a red coat"')
    add_index_argument(parser)
    parser.add_argument("--mode", choices=MODES, default="full", help="what to compare (default: full)")
    parser.add_argument("-k", type=int, default=10, help="number of results (default 10)")
    parser.add_argument("--nprobe", type=int, help="IVF indexes: lists visited (default: the index's own)")
    parser.add_argument(
        "--rerank", type=int, help="IVF-PQ indexes: candidates re-ranked exactly (default: the index's own)"
    )
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--sheet", type=Path, metavar="PNG", help="also draw the results as a contact sheet")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from disreid.retrieval import GalleryIndex, contact_sheet, search

    index = GalleryIndex.load(args.index)
    result = search(index, args.query, args.mode, args.k, nprobe=args.nprobe, rerank=args.rerank)
    if args.sheet:
        args.sheet.parent.mkdir(parents=True, exist_ok=True)
        contact_sheet(result, index.root).save(args.sheet)
    paths = [str(index.root / hit.path) for hit in result.hits]
    if args.json:
        hits = [{"path": path, "score": hit.score} for path, hit in zip(paths, result.hits, strict=True)]
        output = {"query": result.query, "mode": result.mode, "text": result.text}
        print(
            json.dumps({**output, "unknown_words": result.unknown_words, "results": hits}, ensure_ascii=False)
        )
        return 0
    if result.unknown_words:
        print(f"not known to the model, left out: {', '.join(result.unknown_words)}", file=sys.stderr)
    if result.text != result.query:
        print(f"{result.mode} part of the query: {result.text}")
    for rank, (path, hit) in enumerate(zip(paths, result.hits, strict=True), 1):
        print(f"{rank:>3}  {hit.score:.4f}  {path}")
    return 0
