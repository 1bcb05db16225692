"""`disreid demo`: a web page to search an index by description."""

from __future__ import annotations

import argparse
import signal
import socket

from disreid.cli import add_index_argument


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="search an index from a web page",
        description="Serve a web page (Gradio) with a query box, the search mode and a grid of the best "
        "matching images of an index. Only the images of the index are served. Needs the `demo` extra: "
        "pip install 'disreid[demo]'.",
    )
    add_index_argument(parser)
    parser.add_argument("--port", type=int, default=7860, help="port to listen on (default: 7860)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every network, with no login)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        from disreid.demo import launch
    except ModuleNotFoundError as error:
        if error.name != "gradio":
            raise
        raise ValueError("the demo needs Gradio: pip install 'disreid[demo]'") from error
    from disreid.retrieval import GalleryIndex

    index = GalleryIndex.load(args.index)
    try:
        with socket.create_server((args.host, args.port)):  # free? (Gradio's own message names its code)
            pass
    except OSError as error:
        reason = error.strerror or error
        raise ValueError(
            f"cannot listen on {args.host} port {args.port} ({reason}): pass another --port"
        ) from None
    # A stop by a service manager (SIGTERM) ends the page as Ctrl-C does: Gradio closes its server and the
    # folder of served images is removed, not left in /tmp
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    launch(index, host=args.host, port=args.port)
    return 0
