"""`disreid index`: embed a folder of pedestrian images into a searchable index."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from disreid.cli import add_device_argument

# disreid.retrieval.INDEX_TYPES, written out so that building the parser does not import faiss and torch
INDEX_TYPES = ("flat", "ivf", "ivfpq")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "index",
        usage="%(prog)s --model MODEL --images IMAGES --out INDEX_DIR [options]\n"
        "       %(prog)s --update --out INDEX_DIR [--images IMAGES] [options]\n"
        "       torchrun --nproc_per_node=N -m disreid.cli index --model MODEL --images IMAGES --out DIR",
        help="embed a folder of images into a searchable index",
        description="Embed every image under a folder (jpg, jpeg, png, webp, bmp, recursively) into full, "
        "identity and clothing embeddings, stored with faiss in OUT together with the image paths and a "
        "copy of the model. Unreadable files are skipped and listed. The index is replaced only once the "
        "new one is complete; a build that is stopped resumes where it was, embedding only what it had "
        "not. Under torchrun each process embeds its share and the first writes the index. The structure "
        "follows the gallery's size: exact search up to 100,000 images, inverted lists (IVF) up to a "
        "million, compressed inverted lists (IVF-PQ) beyond, with the exact vectors on disk to re-rank.",
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
        "--chunk-size",
        type=int,
        help="images per chunk of embeddings, the unit that a stopped build does not redo and that "
        "processes share out (default 8192)",
    )
    parser.add_argument(
        "--index-type", choices=INDEX_TYPES, help="the structure, whatever the size (default: by size)"
    )
    parser.add_argument(
        "--nlist", type=int, help="inverted lists of ivf and ivfpq (default about 4*sqrt(images))"
    )
    parser.add_argument("--nprobe", type=int, help="lists visited per query (default: a quarter of them)")
    parser.add_argument(
        "--rerank",
        type=int,
        help="ivfpq: candidates re-ranked with exact vectors (default 1000; 0 keeps none)",
    )
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

    resumes = "" if args.update else "; run the command again to go on with the embedding"
    if (current(args.out) / META_FILE).is_file():
        return f"the index in {args.out} is as it was before{resumes}"
    return f"no index was written to {args.out}{resumes}"


def run(args: argparse.Namespace) -> int:
    from disreid.io import exclusive
    from disreid.training.distributed import process_group
    from disreid.training.trainer import resolve_device

    device = resolve_device(args.device)
    if int(os.environ.get("RANK", "0")) != 0:  # the first process holds the lock for all of them
        with process_group(device):
            return build_or_update(args, device)
    with exclusive(args.out), process_group(device):  # a second build or update at once is refused
        return build_or_update(args, device)


def build_or_update(args: argparse.Namespace, device) -> int:  # noqa: ANN001
    from disreid.model import DisReID
    from disreid.retrieval import GalleryIndex, resolve_model
    from disreid.retrieval.index import MODEL_DIR
    from disreid.training.distributed import world_size

    if args.batch < 1 or (args.chunk_size is not None and args.chunk_size < 1):
        raise ValueError("--batch and --chunk-size must be at least 1")
    start = time.perf_counter()
    structure = (args.index_type, args.nlist, args.nprobe, args.rerank)
    if args.update:
        if args.model or any(value is not None for value in structure) or world_size() > 1:
            raise ValueError(
                "--update keeps the index's model and structure, in one process: leave out --model, --index-"
                f"type, --nlist, --nprobe and --rerank, or rebuild with --model {args.out / MODEL_DIR}"
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
        index = GalleryIndex.build(
            DisReID.from_pretrained(model_dir).to(device),
            args.images,
            args.out,
            mean=mean,
            std=std,
            batch_size=args.batch,
            index_type=args.index_type,
            nlist=args.nlist,
            nprobe=args.nprobe,
            rerank=args.rerank,
            **({"chunk_size": args.chunk_size} if args.chunk_size else {}),
            model_source=str(model_dir.resolve()),
        )
        if index is None:  # not the first process: it wrote the index
            return 0
    spec = index.spec
    kind = {"flat": "exact", "ivf": "IVF", "ivfpq": "IVF-PQ"}[spec.type]
    if spec.nlist is not None:
        kind += f", {spec.nlist} lists, nprobe {spec.nprobe}" + (
            f", re-ranking {spec.rerank}" if spec.rerank else ""
        )
    seconds = time.perf_counter() - start
    print(f"indexed {len(index.paths)} images of {index.root} into {args.out} ({kind}) in {seconds:.1f} s")
    if index.skipped:
        print(f"skipped {len(index.skipped)} file(s) or folder(s) that could not be read:")
        for path, reason in index.skipped.items():
            print(f"  {path}: {reason}")
    return 0
