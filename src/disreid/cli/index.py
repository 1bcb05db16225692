"""`disreid index`: embed a folder of pedestrian images into a searchable index."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from disreid.cli import add_device_argument


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "index",
        usage="%(prog)s --model MODEL --images IMAGES --out INDEX_DIR [options]\n"
        "       %(prog)s --update --out INDEX_DIR [--images IMAGES] [options]",
        help="embed a folder of images into a searchable index",
        description="Embed every image under a folder (jpg, jpeg, png, webp, bmp, recursively) into full, "
        "identity and clothing embeddings, stored with faiss in OUT together with the image paths and a "
        "copy of the model. Unreadable files are skipped and listed. The index is replaced only once the "
        "new one is complete.",
    )
    parser.add_argument(
        "--model",
        type=Path,
        help="a run folder of `disreid train` or a saved model folder (required, except with --update)",
    )
    parser.add_argument(
        "--images",
        type=Path,
        help="the folder of images (required, except with --update, where it names the folder's new place)",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="INDEX_DIR", help="the index folder")
    parser.add_argument("--batch", type=int, default=64, help="images per forward pass (default 64)")
    parser.add_argument(
        "--ivf",
        type=int,
        metavar="NLIST",
        help="approximate search over NLIST inverted lists, for galleries of a million images "
        "(about 4*sqrt(images) lists; default: exact search)",
    )
    parser.add_argument("--nprobe", type=int, help="lists visited per query with --ivf (default NLIST/4)")
    parser.add_argument(
        "--update",
        action="store_true",
        help="embed only the images added since the index was built and drop those deleted since, with the "
        "index's own model and structure (--images: the folder's new place, if it moved); to change the "
        "structure, rebuild with --model INDEX_DIR/model",
    )
    add_device_argument(parser)
    parser.set_defaults(func=run, kept=kept)


def kept(args: argparse.Namespace) -> str:
    """After Ctrl-C: an index is replaced only once the new one is complete."""
    from disreid.io import current
    from disreid.retrieval.index import META_FILE

    if (current(args.out) / META_FILE).is_file():
        return f"the index in {args.out} is as it was before"
    return f"no index was written to {args.out}"


def run(args: argparse.Namespace) -> int:
    from disreid.io import exclusive

    with exclusive(args.out):  # two builds or updates of one index at once: the second is refused
        return build_or_update(args)


def build_or_update(args: argparse.Namespace) -> int:
    from disreid.model import DisReID
    from disreid.retrieval import GalleryIndex, resolve_model
    from disreid.retrieval.index import MODEL_DIR
    from disreid.training.trainer import resolve_device

    if args.batch < 1:
        raise ValueError("--batch must be at least 1")
    device = resolve_device(args.device)
    start = time.perf_counter()
    if args.update:
        if args.model or args.ivf is not None or args.nprobe is not None:
            raise ValueError(
                "--update keeps the index's model and structure: leave out --model, --ivf and --nprobe, or "
                f"rebuild with --model {args.out / MODEL_DIR}"
            )
        index = GalleryIndex.load(args.out)
        index.model.to(device)
        if args.images:
            index.root = args.images.resolve()
        report = index.update(args.batch)
        print(f"added {len(report.added)} images, removed {len(report.removed)}")
    else:
        if not (args.model and args.images):
            raise ValueError("--model and --images are required to build an index (or pass --update)")
        model_dir, mean, std = resolve_model(args.model)
        model = DisReID.from_pretrained(model_dir).to(device)
        index = GalleryIndex.build(
            model,
            args.images,
            mean=mean,
            std=std,
            batch_size=args.batch,
            nlist=args.ivf,
            nprobe=args.nprobe,
            model_source=str(model_dir.resolve()),
        )
    index.model.cpu()
    index.save(args.out)
    kind = "exact" if index.nlist is None else f"IVF, {index.nlist} lists, nprobe {index.nprobe}"
    seconds = time.perf_counter() - start
    print(f"indexed {len(index.paths)} images of {index.root} into {args.out} ({kind}) in {seconds:.1f} s")
    if index.skipped:
        print(f"skipped {len(index.skipped)} file(s) or folder(s) that could not be read:")
        for path, reason in index.skipped.items():
            print(f"  {path}: {reason}")
    return 0
